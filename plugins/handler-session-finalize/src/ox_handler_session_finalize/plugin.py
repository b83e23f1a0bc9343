"""Entry point of the session-finalize handler plugin (group `ox.handlers`)."""

from __future__ import annotations

from collections.abc import Callable

from ox_core import WorkHandler, hookimpl


@hookimpl
def ox_register_handlers(register: Callable[[type[WorkHandler]], None]) -> None:
    from ox_handler_session_finalize.handler import SessionFinalizeHandler

    register(SessionFinalizeHandler)
