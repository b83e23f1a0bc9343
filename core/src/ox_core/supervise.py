"""A long-running service kept alive: restarted with backoff when it fails, reported in status.

The daemon runs each handler's `serve` under a `Supervisor`. A service that raises is logged
with its traceback and started again after `base × 2^(failures − 1)` seconds, capped at `cap`
(`ox_core.backoff.park_window`); one that ran `stable_after` seconds before failing starts
its count over. A service that returns normally has nothing more to do and is left `done`.
It is never left dead while the daemon says "running": `status` shows each service's state,
its restarts and its last error with the time it happened.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Literal

import attrs
import trio

from ox_core.backoff import park_window

log = logging.getLogger(__name__)

RESTART_BASE = 1.0
RESTART_CAP = 60.0
STABLE_AFTER = 60.0
MAX_ERROR = 300
"""The last error is kept to this many characters (one line in `status`)."""

ServiceRun = Callable[..., Awaitable[None]]
"""`run(*, task_status)`: the service; calls `task_status.started()` once ready."""

ServiceStateName = Literal["starting", "running", "restarting", "done"]


@attrs.frozen
class ServiceState:
    """One service as `status` shows it. `last_error_at` is ISO 8601 UTC, None before any."""

    name: str
    state: ServiceStateName
    restarts: int
    last_error: str
    last_error_at: str | None
    restart_in: float | None
    """Seconds until the next start while `restarting` (clock time of the check)."""

    def as_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


class _Started:
    """The `task_status` handed to each start of the service: the first `started()` of any
    start reaches the supervisor's caller, later ones only mark the service running."""

    def __init__(self, supervisor: Supervisor, outer: trio.TaskStatus[None] | None) -> None:
        self._supervisor = supervisor
        self._outer = outer

    def started(self, value: object = None) -> None:
        self._supervisor._state = "running"
        self._supervisor._release(self._outer)


class Supervisor:
    """Runs `run` until cancelled, restarting it with backoff whenever it raises.

    `run` gets `task_status` like a nursery task. Cancellation of `Supervisor.run` cancels
    the service (or the wait before its next start) and is never counted as a failure.
    """

    def __init__(
        self,
        name: str,
        run: ServiceRun,
        *,
        base: float | None = None,
        cap: float | None = None,
        stable_after: float | None = None,
    ) -> None:
        self.name = name
        self._run = run
        # Read at construction, not import: tests shorten the module's defaults.
        self._base = RESTART_BASE if base is None else base
        self._cap = RESTART_CAP if cap is None else cap
        self._stable_after = STABLE_AFTER if stable_after is None else stable_after
        self._state: ServiceStateName = "starting"
        self._restarts = 0
        self._last_error = ""
        self._last_error_at: datetime | None = None
        self._restart_at: float | None = None
        self._released = False

    def _release(self, outer: trio.TaskStatus[None] | None) -> None:
        if not self._released and outer is not None:
            self._released = True
            outer.started()

    def state(self) -> ServiceState:
        """The service's state now (call from the trio thread)."""
        restart_in = None
        if self._state == "restarting" and self._restart_at is not None:
            restart_in = max(0.0, self._restart_at - trio.current_time())
        return ServiceState(
            name=self.name,
            state=self._state,
            restarts=self._restarts,
            last_error=self._last_error,
            last_error_at=self._last_error_at.isoformat() if self._last_error_at else None,
            restart_in=restart_in,
        )

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run the service until cancelled. `task_status.started()` once it first reports
        ready, or once it first fails (the daemon's start never waits on a broken service)."""
        failures = 0
        while True:
            began = trio.current_time()
            try:
                await self._run(task_status=_Started(self, task_status))
            except Exception as exc:
                if trio.current_time() - began >= self._stable_after:
                    failures = 0
                failures += 1
                delay = park_window(failures, 1, self._base, self._cap)
                self._record(exc)
                log.error(
                    "%s stopped with an error; restarting in %.3g s (restart %d)",
                    self.name,
                    delay,
                    self._restarts + 1,
                    exc_info=exc,
                )
                self._release(task_status)
                self._state = "restarting"
                self._restart_at = trio.current_time() + delay
                await trio.sleep(delay)
                self._restarts += 1
                self._restart_at = None
                continue
            self._state = "done"
            self._release(task_status)
            return

    def _record(self, exc: Exception) -> None:
        text = " ".join(f"{type(exc).__name__}: {exc}".split())
        self._last_error = text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"
        self._last_error_at = datetime.now(UTC)
