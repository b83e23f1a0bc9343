"""Entry point of session capture in group `ox.handlers`: the capture handler (a daemon
service with IPC methods and no work items of its own). Its adapters have their own entry
points (group `ox.adapters`), its command too (group `ox.commands`)."""

from __future__ import annotations

from collections.abc import Callable

from ox_core import WorkHandler, hookimpl


@hookimpl
def ox_register_handlers(register: Callable[[type[WorkHandler]], None]) -> None:
    from ox_session_capture.handler import SessionCaptureHandler

    register(SessionCaptureHandler)
