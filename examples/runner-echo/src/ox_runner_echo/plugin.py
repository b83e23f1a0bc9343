"""Entry point (group `ox.runners`): registers the runner class. Imported only when used."""

from __future__ import annotations

from collections.abc import Callable

from ox_core import Runner, hookimpl


@hookimpl
def ox_register_runners(register: Callable[[type[Runner]], None]) -> None:
    from ox_runner_echo.runner import EchoRunner

    register(EchoRunner)
