"""The manager: a small trio supervisor over sync policy objects that finds and runs work.

Three things wake it: the *sync signal* (after each ledger sync), the *doctor tick* (every
5 min: cleanup, detection, drain) and `enqueue` (drain at once). A dispatcher starts worker
tasks, at most `max_concurrent`, in the manager's own nursery: cancelling the manager cancels
every run in flight. The rules live in sync policies with an injected clock, tested alone:
`AgentGate`, `RetryPolicy`, `DetectionPolicy`, `StandingErrors`, `WorkHistory`; `Worker` runs
the steps of an item and of a detection pass; `status()` is built from their `statistics()`.
Time is read only through `trio.current_time()`: tests drive it with a `MockClock`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import trio

from ox_core.config_source import ConfigProvider, LastGoodConfig
from ox_core.contracts import Runner, WorkHandler
from ox_core.detection import DETECT_COOLDOWN, DETECT_LOCK
from ox_core.errors import OxError
from ox_core.problems import MAX_PROBLEMS
from ox_core.queue import WorkQueue
from ox_core.retry import MAX_ATTEMPTS, RETRY_DELAY
from ox_core.status import AgentWorkStatus, build_status
from ox_core.sync_signal import SyncSignal, SyncStatistics
from ox_core.work import WorkItem, utcnow
from ox_core.worker import CompleteCallback, Worker

__all__ = ["DETECT_LOCK", "MAX_ATTEMPTS", "MAX_PROBLEMS", "RETRY_DELAY", "Manager", "SyncSignal"]

log = logging.getLogger(__name__)

DOCTOR_INTERVAL = 300.0
# A worker running items back to back yields to trio at least this often (seconds).
YIELD_EVERY = 0.005


class Manager:
    """Runs background agent work for one ledger. Call all but the constructor from the trio
    thread. Parameters:
    - `runner`: the resolved `Runner`, or None (items that need an agent wait in the queue).
    - `handlers`: one `WorkHandler` per work type (two of one type: `ValueError`).
    - `config`: a provider `() -> AgentWorkerConfig`, called on every cycle (a drain, a tick,
      `force_detect`), so edits apply without restart. If it raises, the last good value stays.
    - `sync_signal`: a `SyncSignal` the daemon fires after each ledger sync (a `trio.Event`
      wakes the manager once; None: no syncs, the doctor tick and `enqueue` still drain).
    - `ledger_path`: the ledger; handlers detect in it; the detect lock lives under it.
    - `clock`: the wall clock (`() -> datetime`, UTC); `queue`: the `WorkQueue` to use;
      `doctor_interval` / `detect_cooldown`: seconds between doctor ticks / between two
      detections of one handler (5 min each by default).
    """

    def __init__(
        self,
        runner: Runner | None,
        handlers: Sequence[WorkHandler],
        config: ConfigProvider,
        sync_signal: SyncSignal | trio.Event | None = None,
        ledger_path: Path | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        queue: WorkQueue | None = None,
        doctor_interval: float = DOCTOR_INTERVAL,
        detect_cooldown: float = DETECT_COOLDOWN,
    ) -> None:
        if ledger_path is None:
            raise TypeError("Manager needs the ledger_path")
        by_type: dict[str, WorkHandler] = {}
        for handler in handlers:
            if handler.type in by_type:
                raise ValueError(f"two handlers for work type {handler.type!r}")
            by_type[handler.type] = handler
        self._handlers = by_type
        self._config_source = LastGoodConfig(
            config, by_type, lambda new: self._gate.reconfigure(new.rate_limit)
        )
        self._sync_signal = sync_signal
        self._wall = clock or utcnow
        self._queue = queue if queue is not None else WorkQueue()
        self._doctor_interval = float(doctor_interval)
        self._worker = Worker.create(
            runner,
            by_type,
            Path(ledger_path),
            config=lambda: self._config_source.current,
            queue=self._queue,
            wake=lambda: self._wake.set(),
            wall=self._wall,
            detect_cooldown=detect_cooldown,
        )
        self._gate, self._retry = self._worker.gate, self._worker.retry
        self._running = 0
        self._wake, self._idle = trio.Event(), trio.Event()
        self._detect_lock = trio.Lock()
        self._nursery: trio.Nursery | None = None

    # ---- public API -----------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run until cancelled (`await nursery.start(manager.run)`): take up a kept quota
        pause, check the runner's usability (in a thread), start the sync listener, the doctor
        loop (first tick at once) and the dispatcher. Cancellation cancels every run in flight
        (the runner kills its process group); items in flight are not requeued (the next
        detection finds them). `RuntimeError` if this manager is already running."""
        if self._nursery is not None:
            raise RuntimeError("this manager is already running")
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                self._gate.restore()
                await self._refresh_agent()
                if self._sync_signal is not None:
                    nursery.start_soon(self._sync_loop, self._sync_signal)
                nursery.start_soon(self._doctor_loop)
                nursery.start_soon(self._dispatch_loop)
                task_status.started()
        finally:
            self._nursery = None

    def enqueue(self, item: WorkItem) -> bool:
        """Queue `item` and wake the manager at once.

        False (queuing nothing) when its dedup key is queued, in progress or parked, or the
        queue is full (items waiting for the agent do not fill it: they have an allowance of
        their own), or the key was let go because that allowance was full and the agent gate
        has not let a run through since. Raises `OxError` when no handler serves `item.type`.
        """
        if item.type not in self._handlers:
            raise OxError(f"no handler for work type {item.type!r}")
        accepted = self._worker.enqueue(item)
        if accepted:
            self._wake.set()
        return accepted

    async def force_detect(self, *, resume: bool = False) -> int:
        """Lift every park and type pause (and take back the keys let go while the agent gate
        was closed), run every handler's cleanup (even when agent work is disabled) and, when
        enabled, every handler's detection at once, ignoring cooldowns and the detect lock.
        With `resume`, the quota pause is lifted too (and forgotten on disk). Returns the
        number of items enqueued. Cancellable."""
        self._worker.deferred.clear()
        lifted = self._retry.lift()
        if lifted:
            log.info("force_detect lifted %d park(s)", lifted)
        if resume:
            self.resume()
        count = await self._detect(forced=True)
        self._wake.set()
        return count

    def resume(self) -> bool:
        """End the quota pause now (and remove the kept copy); True when there was one."""
        active = self._gate.resume()
        if active:
            self._wake.set()
        return active

    def has_pending_work(self) -> bool:
        """Whether items are queued or in flight."""
        return len(self._queue) > 0 or self._running > 0

    async def wait_idle(self) -> None:
        """Return once no item is in flight (new ones may start: disable agent work first)."""
        while self._running:
            await self._idle.wait()

    def on_complete(self, fn: CompleteCallback) -> CompleteCallback:
        """Call `fn(WorkResult)` after each item ends (success or failure; not when it goes
        back to the queue, nor when it is let go to wait for the agent: `stats.deferred`).
        Called synchronously from the manager's task; an exception in it is logged and
        ignored. Returns `fn`, so it works as a decorator."""
        self._worker.callbacks.append(fn)
        return fn

    def status(self) -> AgentWorkStatus:
        """A snapshot (`.to_json()` for JSON) of the policies' statistics."""
        signal = self._sync_signal
        queue = self._queue.statistics()
        return build_status(
            config=self._config_source.current,
            work_types=list(self._handlers),
            gate=self._gate.statistics(),
            retry=self._retry.statistics(),
            work=self._worker.history.statistics(),
            errors=self._worker.problems.statistics(),
            sync=signal.statistics() if isinstance(signal, SyncSignal) else SyncStatistics(),
            queue_depth=queue.queued,
            agent_waiting=queue.waiting,
            in_progress=self._running,
            now=trio.current_time(),
            wall=self._wall(),
        )

    @property
    def queue(self) -> WorkQueue:
        return self._queue  # read it; enqueue through `enqueue`

    # ---- loops ----------------------------------------------------------------------------

    async def _sync_loop(self, signal: SyncSignal | trio.Event) -> None:
        while True:
            await signal.wait()
            self._wake.set()
            if isinstance(signal, trio.Event):
                return  # a trio.Event cannot be reset: it counts as one sync, then it is done

    async def _doctor_loop(self) -> None:
        while True:
            try:
                await self._detect(forced=False)
            except Exception:
                # Handler errors are caught per handler; this is a bug of ours. Keep ticking.
                log.exception("manager: doctor tick failed")
            self._wake.set()
            await trio.sleep(self._doctor_interval)
            if not self._worker.refreshing and self._nursery is not None:
                # In the background: the tick must not wait on a thread (and with a MockClock,
                # waiting on a thread would let virtual time jump past the tick).
                self._nursery.start_soon(self._refresh_agent)

    async def _dispatch_loop(self) -> None:
        while True:
            # A new event before draining: a wake-up during the drain is not lost.
            self._wake = trio.Event()
            try:
                self._config_source.refresh()
                self._drain()
                deadline = self._next_deadline()
            except Exception:
                # A bug here must not kill the daemon; wait for the next wake-up or a minute.
                log.exception("manager: dispatch failed")
                deadline = trio.current_time() + 60.0
            with trio.move_on_at(deadline):
                await self._wake.wait()

    async def _refresh_agent(self) -> None:
        if await self._worker.refresh_agent():
            self._wake.set()

    async def _detect(self, *, forced: bool) -> int:
        async with self._detect_lock:
            config = self._config_source.refresh()
            return await self._worker.detect(config, forced=forced)

    # ---- dispatch -------------------------------------------------------------------------

    def _eligible(self) -> Callable[[WorkItem], bool] | None:
        source = self._config_source
        enabled = None if source.all_enabled else source.current.type_enabled
        return self._retry.eligible(enabled, self._gate.ready)

    def _drain(self) -> None:
        config = self._config_source.current
        nursery = self._nursery
        if nursery is None or not config.enabled:
            return
        where = self._eligible()
        while self._running < config.max_concurrent:
            item = self._queue.dequeue(where)
            if item is None:
                return
            self._running += 1
            nursery.start_soon(self._work_loop, item)

    def _next_deadline(self) -> float:
        """When the dispatcher must look again unwoken: a pause or retry delay ends, or the
        rate-limit window refills for items waiting on it. Only future times count: a past
        one (a retry delay over while every slot is busy) would spin."""
        now = trio.current_time()
        times = [*self._gate.deadlines(self._retry.has_waiting), *self._retry.deadlines()]
        return min((t for t in times if t > now), default=math.inf)

    async def _work_loop(self, item: WorkItem) -> None:
        """One worker slot: runs `item`, then keeps taking eligible items while there are
        any and the slot is still within `max_concurrent` (cheaper than a task per item)."""
        last_yield = trio.current_time()
        try:
            while True:
                await self._worker.process(item)
                # A handler that never does I/O must not hold the event loop for more than a
                # few milliseconds. Before taking the next item: a cancellation here leaves
                # nothing half-taken.
                now = trio.current_time()
                if now - last_yield >= YIELD_EVERY:
                    await trio.lowlevel.checkpoint()
                    last_yield = now
                config = self._config_source.refresh()
                if not config.enabled or self._running > config.max_concurrent:
                    return
                next_item = self._queue.dequeue(self._eligible())
                if next_item is None:
                    return
                item = next_item
        finally:
            self._running -= 1
            self._wake.set()
            if not self._running:
                self._idle.set()
                self._idle = trio.Event()
