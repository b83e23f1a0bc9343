"""Entry point of the gemini runner plugin (group `ox.runners`)."""

from __future__ import annotations

from collections.abc import Callable

from ox_core import Runner, hookimpl


@hookimpl
def ox_register_runners(register: Callable[[type[Runner]], None]) -> None:
    from ox_runner_gemini.runner import GeminiRunner

    register(GeminiRunner)
