"""Entry point (group `ox.handlers`): registers the handler class. Imported only when used."""

from __future__ import annotations

from collections.abc import Callable

from ox_core import WorkHandler, hookimpl


@hookimpl
def ox_register_handlers(register: Callable[[type[WorkHandler]], None]) -> None:
    from ox_handler_hello.handler import HelloHandler

    register(HelloHandler)
