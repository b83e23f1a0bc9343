"""`MockRunner`: a runner that calls a function instead of an agent, for tests."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import ClassVar

import trio

from ox_core.contracts import AgentUsability, Runner, RunRequest, RunResult

RunFn = Callable[[RunRequest], RunResult | Awaitable[RunResult]]


class MockRunner(Runner):
    """Runs `fn(request)` (sync or async) instead of an agent; records what happened.

    `calls`: every request, in order. `active`/`max_active`: runs in flight now / at most at
    once. `cancelled`: runs that were cancelled while in flight. The default `fn` answers
    `RunResult(output="ok")`.
    """

    name: ClassVar[str] = "mock"
    priority: ClassVar[int] = 1000

    def __init__(
        self,
        fn: RunFn | None = None,
        *,
        usability: AgentUsability | None = None,
    ) -> None:
        self.fn: RunFn = fn or (lambda _request: RunResult(output="ok"))
        self._usability = usability or AgentUsability(True, True, "mock")
        self.calls: list[RunRequest] = []
        self.active = 0
        self.max_active = 0
        self.cancelled = 0

    def available(self) -> bool:
        return self._usability.installed

    def usability(self) -> AgentUsability:
        return self._usability

    async def run(self, request: RunRequest) -> RunResult:
        self.calls.append(request)
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            result = self.fn(request)
            if inspect.isawaitable(result):
                result = await result
            return result
        except trio.Cancelled:
            self.cancelled += 1
            raise
        finally:
            self.active -= 1
