"""The manager: the trio loop that finds background work and runs it (SPEC §1.6).

Three things wake it: the *sync signal* (after each ledger sync: drain the queue), the *doctor
tick* (every 5 min: cleanup, detection, drain) and `enqueue` (drain at once). A dispatcher task
starts one worker task per item, at most `max_concurrent` at a time, all in the manager's own
nursery; so cancelling the manager cancels every run in flight.

Time is read only through `trio.current_time()`, so tests drive every pause, park and tick
with `trio.testing.MockClock`.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import math
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import trio

from ox_core import quota_store
from ox_core.backoff import Backoff
from ox_core.config import AgentWorkerConfig
from ox_core.contracts import Outcome, Quota, Runner, RunRequest, RunResult, WorkHandler
from ox_core.errors import LedgerBlockedError, OxError
from ox_core.queue import WorkQueue
from ox_core.quota_store import QuotaPause
from ox_core.ratelimit import RateLimiter
from ox_core.status import (
    AgentProcess,
    AgentWorkStats,
    AgentWorkStatus,
    Hold,
    Problem,
    ProcessStatus,
    QuotaState,
    WorkResult,
)
from ox_core.work import WorkItem, utcnow

log = logging.getLogger(__name__)

DOCTOR_INTERVAL = 300.0
DETECT_COOLDOWN = 300.0
MAX_ATTEMPTS = 3
# A runner failure is retried after this pause, so a CLI that crashes at once does not burn
# its three attempts (and three rate-limit tokens) within a second.
RETRY_DELAY = 60.0
QUOTA_FALLBACK = 3600.0
QUOTA_MAX = 7 * 24 * 3600.0
# A reset time already past (clock skew, a stale message) still pauses a little: retrying at
# once would hit the quota again in a tight loop.
QUOTA_MIN = 60.0
# The runner enforces the timeout itself; this margin is the manager's guard against a runner
# that does not.
RUN_GUARD = 30.0
RECENT_SIZE = 10
# Standing errors kept for `status`; beyond this the one that recurred longest ago goes (its
# target may be gone for good: a deleted session never succeeds to clear it).
MAX_PROBLEMS = 50
# A worker running items back to back yields to trio at least this often (seconds).
YIELD_EVERY = 0.005
DETECT_LOCK = Path(".ox") / "cache" / ".detect.lock"

_EMPTY_RESULT = RunResult()  # frozen: one shared instance for every skip_llm item

ConfigProvider = Callable[[], AgentWorkerConfig]
CompleteCallback = Callable[[WorkResult], object]


class SyncSignal:
    """Fired by the daemon after each ledger sync; the manager drains its queue then.

    `fire()` is sync and wakes every task in `wait()` at that moment. Use both from the trio
    thread (from another thread: `trio.from_thread.run_sync(signal.fire)`). `fired` counts the
    calls and `last_fired` is the time of the last one (UTC), for status and tests.
    """

    def __init__(self) -> None:
        self._event = trio.Event()
        self.fired = 0
        self.last_fired: datetime | None = None

    def fire(self) -> None:
        self.fired += 1
        self.last_fired = utcnow()
        event, self._event = self._event, trio.Event()
        event.set()

    async def wait(self) -> None:
        """Return at the next `fire()`. Cancellable."""
        await self._event.wait()


@attrs.define(slots=True)
class _Proc:
    """The mutable record of work in flight; `AgentProcess` is made from it on demand."""

    item_id: str
    work_type: str
    target: str
    started_at: datetime
    started: float
    status: ProcessStatus = "running"
    duration: float = 0.0
    error: str = ""
    exit_code: int | None = None
    attempts: int = 0
    skip_llm: bool = False
    outcome: str = ""
    reason: str = ""

    def snapshot(self, now: float) -> AgentProcess:
        duration = now - self.started if self.status == "running" else self.duration
        return AgentProcess(
            item_id=self.item_id,
            work_type=self.work_type,
            target=self.target,
            started_at=self.started_at,
            status=self.status,
            duration=duration,
            error=self.error,
            exit_code=self.exit_code,
            attempts=self.attempts,
            skip_llm=self.skip_llm,
            outcome=self.outcome,
            reason=self.reason,
        )


@attrs.define(slots=True)
class _Problem:
    """The mutable record behind a `Problem`: the last error of one target."""

    error: str
    first: datetime
    last: datetime
    count: int = 1


@attrs.define(slots=True)
class _Counters:
    """The mutable counters behind `AgentWorkStats` (same field names)."""

    total_invocations: int = 0
    successes: int = 0
    failures: int = 0
    retries: int = 0
    waits: int = 0
    blocked: int = 0
    parks: int = 0
    detect_errors: int = 0
    runs_ok: int = 0
    runs_failed: int = 0
    runs_quota: int = 0
    outcomes: dict[str, int] = attrs.Factory(dict)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Manager:
    """Runs background agent work for one ledger.

    Parameters:
    - `runner`: the resolved `Runner`, or None when no agent is usable: items that need the
      agent then wait in the queue; `skip_llm` items still run.
    - `handlers`: the `WorkHandler` instances; an item goes to the handler whose `type` equals
      `item.type`. Two handlers of one type raise `ValueError`.
    - `config`: a provider `() -> AgentWorkerConfig`, called on every cycle (a drain, a tick,
      `force_detect`), so edits apply without restart. If it raises, the last good value stays.
    - `sync_signal`: a `SyncSignal` the daemon fires after each ledger sync (a `trio.Event`
      is accepted too, but it cannot be reset, so it wakes the manager once).
    - `ledger_path`: the ledger; handlers detect in it; the detect lock lives under it.
    - `clock`: the wall clock (`() -> datetime`, UTC) for `started_at` and quota reset times.
      Durations, pauses and parks use `trio.current_time()`.
    - `queue`: the `WorkQueue` to use (default: one with the default depth cap).
    - `doctor_interval` / `detect_cooldown`: seconds between doctor ticks / between two
      detections of one handler (both 5 min by default).

    Everything except the constructor must be called from the trio thread (from another
    thread, go through `trio.from_thread.run_sync`).
    """

    def __init__(
        self,
        runner: Runner | None,
        handlers: Sequence[WorkHandler],
        config: ConfigProvider,
        sync_signal: SyncSignal | trio.Event,
        ledger_path: Path,
        *,
        clock: Callable[[], datetime] | None = None,
        queue: WorkQueue | None = None,
        doctor_interval: float = DOCTOR_INTERVAL,
        detect_cooldown: float = DETECT_COOLDOWN,
    ) -> None:
        self._runner = runner
        self._handlers: dict[str, WorkHandler] = {}
        for handler in handlers:
            if handler.type in self._handlers:
                raise ValueError(f"two handlers for work type {handler.type!r}")
            self._handlers[handler.type] = handler
        self._config_provider = config
        self._config = config()
        self._sync_signal = sync_signal
        self._ledger = Path(ledger_path)
        self._wall = clock or utcnow
        self._queue = queue if queue is not None else WorkQueue()
        self._doctor_interval = float(doctor_interval)
        self._detect_cooldown = float(detect_cooldown)
        rate = self._config.rate_limit
        self._limiter = RateLimiter(rate.runs, rate.window, clock=trio.current_time)
        self._keys = Backoff(clock=trio.current_time)
        # A ledger-wide blocker pauses its type at the first occurrence (threshold 1), with
        # the same 5 min doubling window capped at 1 h as a parked key.
        self._types = Backoff(threshold=1, clock=trio.current_time)
        self._counters = _Counters()
        self._active: dict[str, _Proc] = {}
        self._recent: deque[_Proc] = deque(maxlen=RECENT_SIZE)
        self._callbacks: list[CompleteCallback] = []
        # Prompts of items that need the agent and went back to the queue to wait for it.
        self._waiting: dict[str, RunRequest] = {}
        self._not_before: dict[str, float] = {}
        self._last_detect: dict[str, float] = {}
        self._quota_until: float | None = None
        self._quota: QuotaPause | None = None
        # Why a key is parked / a type paused (the last error), for `status`.
        self._park_reasons: dict[str, str] = {}
        self._type_reasons: dict[str, str] = {}
        # Failures that still stand, by (work type, target); a success of the target clears it.
        self._problems: dict[tuple[str, str], _Problem] = {}
        self._agent_available = runner is not None
        self._agent_detail = "" if runner is not None else "no agent CLI is installed"
        self._refreshing = False
        self._config_broken = False
        self._running = 0
        self._wake = trio.Event()
        self._detect_lock = trio.Lock()
        self._nursery: trio.Nursery | None = None

    # ---- public API -----------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run until cancelled: start with `await nursery.start(manager.run)`.

        Checks the runner's usability (in a thread), starts the sync listener, the doctor
        loop (whose first tick runs at once) and the dispatcher, then reports started.
        Cancellation cancels every run in flight (the runner kills its process group) and
        returns promptly; items in flight are not requeued (the next detection finds them).
        Raises `RuntimeError` if this manager is already running.
        """
        if self._nursery is not None:
            raise RuntimeError("this manager is already running")
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                self._restore_quota_pause()
                await self._refresh_agent()
                nursery.start_soon(self._sync_loop)
                nursery.start_soon(self._doctor_loop)
                nursery.start_soon(self._dispatch_loop)
                task_status.started()
        finally:
            self._nursery = None

    def enqueue(self, item: WorkItem) -> bool:
        """Queue `item` and wake the manager at once.

        False (queuing nothing) when its dedup key is queued, in progress or parked, or the
        queue is full. Raises `OxError` when no handler serves `item.type`.
        """
        if item.type not in self._handlers:
            raise OxError(f"no handler for work type {item.type!r}")
        accepted = self._enqueue(item)
        if accepted:
            self._wake.set()
        return accepted

    async def force_detect(self, *, resume: bool = False) -> int:
        """Lift every park and type pause, run every handler's cleanup (even when agent work
        is disabled) and, when enabled, every handler's detection at once, ignoring cooldowns
        and the detect lock. With `resume`, the quota pause is lifted too (and forgotten on
        disk). Returns the number of items enqueued. Cancellable (a handler's cleanup or
        detect in progress is cancelled)."""
        lifted = self._keys.lift() + self._types.lift()
        if lifted:
            log.info("force_detect lifted %d park(s)", lifted)
        if resume:
            self.resume()
        count = await self._detect(forced=True)
        self._wake.set()
        return count

    def resume(self) -> bool:
        """End the quota pause now (and remove the kept copy); True when there was one."""
        active = self._quota_until is not None and trio.current_time() < self._quota_until
        self._quota_until = None
        self._quota = None
        quota_store.clear(self._ledger)
        if active:
            log.info("quota pause lifted by request; agent work resumes")
            self._wake.set()
        return active

    def has_pending_work(self) -> bool:
        """Whether items are queued or in flight."""
        return len(self._queue) > 0 or self._running > 0

    def on_complete(self, fn: CompleteCallback) -> CompleteCallback:
        """Call `fn(WorkResult)` after each item ends (success or failure; not when it goes
        back to the queue). Called synchronously from the manager's task; an exception in it
        is logged and ignored. Returns `fn`, so it works as a decorator."""
        self._callbacks.append(fn)
        return fn

    def status(self) -> AgentWorkStatus:
        """A JSON-ready snapshot (`model_dump(mode="json")`)."""
        now = trio.current_time()
        wall = self._wall()

        def at(deadline: float) -> datetime:
            return wall + timedelta(seconds=deadline - now)

        counters = self._counters
        quota = (
            self._quota_until if self._quota_until is not None and now < self._quota_until else None
        )
        quota_state = None
        if quota is not None and self._quota is not None:
            pause = self._quota
            quota_state = QuotaState(
                until=at(quota), message=pause.message, basis=pause.basis, since=pause.since
            )
        return AgentWorkStatus(
            enabled=self._config.enabled,
            agent_type=self._runner.name if self._runner is not None else "none",
            agent_available=self._runner is not None and self._agent_available,
            queue_depth=len(self._queue),
            active=[proc.snapshot(now) for proc in self._active.values()],
            recent=[proc.snapshot(now) for proc in self._recent],
            stats=AgentWorkStats(**attrs.asdict(counters)),
            in_progress=self._running,
            quota_paused_until=at(quota) if quota is not None else None,
            paused_types={name: at(t) for name, t in self._types.parked().items()},
            parked={name: at(t) for name, t in self._keys.parked().items()},
            rate_limit_remaining=self._limiter.remaining(),
            holds=self._holds(at, quota_state),
            quota=quota_state,
            errors=[
                Problem(
                    work_type=work_type,
                    target=target,
                    error=p.error,
                    first=p.first,
                    last=p.last,
                    count=p.count,
                )
                for (work_type, target), p in self._problems.items()
            ],
            syncs=getattr(self._sync_signal, "fired", 0),
            last_sync_at=getattr(self._sync_signal, "last_fired", None),
        )

    def _holds(self, at: Callable[[float], datetime], quota: QuotaState | None) -> list[Hold]:
        """Everything that holds work back now, for `status`."""
        config = self._config
        holds: list[Hold] = []
        if not config.enabled:
            holds.append(Hold(kind="disabled", reason="agent work is disabled (enabled = false)"))
        if self._runner is None:
            holds.append(
                Hold(
                    kind="no_agent",
                    reason="no agent CLI is installed and logged in (see `ox-core doctor`): "
                    "sessions are recorded, summaries wait",
                )
            )
        elif not self._agent_available:
            detail = self._agent_detail or "not usable"
            holds.append(Hold(kind="no_agent", name=self._runner.name, reason=detail))
        if quota is not None:
            said = f"read from {quota.basis!r}" if quota.basis else "no time given: 1 h fallback"
            holds.append(
                Hold(
                    kind="quota",
                    name=self._runner.name if self._runner is not None else "",
                    until=quota.until,
                    reason=f"{quota.message} ({said})",
                )
            )
        if self._limiter.remaining() == 0:
            refill = self._limiter.next_refill()
            holds.append(
                Hold(
                    kind="rate_limit",
                    until=at(refill) if refill is not None else None,
                    reason=(
                        f"all {self._limiter.max_tokens} agent runs of the "
                        f"{self._limiter.window:.0f} s window are used"
                    ),
                )
            )
        for name, until in sorted(self._types.parked().items()):
            holds.append(
                Hold(
                    kind="paused_type",
                    name=name,
                    until=at(until),
                    reason=self._type_reasons.get(name, ""),
                )
            )
        types = sorted({*self._handlers, *config.disabled_types})
        for name in types:
            if not config.type_enabled(name):
                reason = "turned off in the config (disabled_types)"
                holds.append(Hold(kind="disabled_type", name=name, reason=reason))
        for key, until in sorted(self._keys.parked().items()):
            failures = self._keys.failures(key)
            last = self._park_reasons.get(key, "")
            holds.append(
                Hold(
                    kind="parked",
                    name=key,
                    until=at(until),
                    reason=f"{failures} failures in a row; last: {last}" if last else "",
                )
            )
        return holds

    @property
    def queue(self) -> WorkQueue:
        """The manager's work queue (read it; enqueue through `enqueue`)."""
        return self._queue

    # ---- loops ----------------------------------------------------------------------------

    async def _sync_loop(self) -> None:
        signal = self._sync_signal
        if isinstance(signal, trio.Event):
            # A trio.Event cannot be reset: it counts as one sync, then it is done.
            await signal.wait()
            self._wake.set()
            return
        while True:
            await signal.wait()
            self._wake.set()

    async def _doctor_loop(self) -> None:
        while True:
            try:
                await self._detect(forced=False)
            except Exception:
                # Handler errors are caught per handler; this is a bug of ours. Keep ticking.
                log.exception("manager: doctor tick failed")
            self._wake.set()
            await trio.sleep(self._doctor_interval)
            if self._runner is not None and not self._refreshing and self._nursery is not None:
                # In the background: the tick must not wait on a thread (and with a MockClock,
                # waiting on a thread would let virtual time jump past the tick).
                self._nursery.start_soon(self._refresh_agent)

    async def _dispatch_loop(self) -> None:
        while True:
            # A new event before draining: a wake-up during the drain is not lost.
            self._wake = trio.Event()
            try:
                self._refresh_config()
                self._drain()
                deadline = self._next_deadline()
            except Exception:
                # A bug here must not kill the daemon; wait for the next wake-up or a minute.
                log.exception("manager: dispatch failed")
                deadline = trio.current_time() + 60.0
            with trio.move_on_at(deadline):
                await self._wake.wait()

    # ---- dispatch -------------------------------------------------------------------------

    def _refresh_config(self) -> AgentWorkerConfig:
        try:
            config = self._config_provider()
            if not isinstance(config, AgentWorkerConfig):
                raise TypeError(f"config provider returned {type(config).__name__}")
        except Exception as exc:
            if not self._config_broken:  # once per breakage, not once per cycle
                log.warning("manager: config provider failed, keeping the last config: %s", exc)
                self._config_broken = True
            return self._config
        if self._config_broken:
            log.info("manager: config provider works again")
            self._config_broken = False
        if config is not self._config:
            rate = config.rate_limit
            if (rate.runs, rate.window) != (self._limiter.max_tokens, self._limiter.window):
                self._limiter.reconfigure(rate.runs, rate.window)
            self._config = config
        return config

    def _llm_ready(self) -> bool:
        if self._runner is None or not self._agent_available:
            return False
        if self._quota_until is not None:
            if trio.current_time() < self._quota_until:
                return False
            log.info("quota pause ended; agent work resumes")
            self._quota_until = None
            self._quota = None
            quota_store.clear(self._ledger)
        return self._limiter.remaining() > 0

    def _eligible(self, config: AgentWorkerConfig) -> Callable[[WorkItem], bool] | None:
        """The dequeue predicate now, or None when every queued item may run."""
        paused = self._types.parked()
        if not paused and not self._not_before and not self._waiting and not config.disabled_types:
            return None
        now = trio.current_time()
        llm_ready = self._llm_ready()
        not_before = self._not_before
        waiting = self._waiting

        def eligible(item: WorkItem) -> bool:
            if item.type in paused or not config.type_enabled(item.type):
                return False
            if not_before.get(item.id, now) > now:
                return False
            return llm_ready or item.id not in waiting

        return eligible

    def _drain(self) -> None:
        config = self._config
        nursery = self._nursery
        if nursery is None or not config.enabled:
            return
        where = self._eligible(config)
        while self._running < config.max_concurrent:
            item = self._queue.dequeue(where)
            if item is None:
                return
            self._running += 1
            nursery.start_soon(self._worker, item)

    def _next_deadline(self) -> float:
        """When the dispatcher must look again without being woken: a pause or retry delay
        ends, or the rate-limit window refills for items waiting on it. Only future times
        count: a past one (say, a retry delay over while every slot is busy) would spin."""
        now = trio.current_time()
        deadlines = [math.inf]
        if self._quota_until is not None:
            deadlines.append(self._quota_until)
        type_end = self._types.next_expiry()
        if type_end is not None:
            deadlines.append(type_end)
        deadlines.extend(t for t in self._not_before.values() if t > now)
        if self._waiting and self._limiter.remaining() == 0:
            refill = self._limiter.next_refill()
            if refill is not None:
                deadlines.append(refill)
        return min(t for t in deadlines if t > now)

    # ---- one item -------------------------------------------------------------------------

    async def _worker(self, item: WorkItem) -> None:
        """One worker slot: runs `item`, then keeps taking eligible items while there are
        any and the slot is still within `max_concurrent` (cheaper than a task per item)."""
        last_yield = trio.current_time()
        try:
            while True:
                await self._work(item)
                # Handlers yield whenever they do I/O; one that never does must not hold the
                # event loop for more than a few milliseconds. Before taking the next item,
                # so a cancellation here leaves nothing half-taken.
                now = trio.current_time()
                if now - last_yield >= YIELD_EVERY:
                    await trio.lowlevel.checkpoint()
                    last_yield = now
                config = self._refresh_config()
                if not config.enabled or self._running > config.max_concurrent:
                    return
                next_item = self._queue.dequeue(self._eligible(config))
                if next_item is None:
                    return
                item = next_item
        finally:
            self._running -= 1
            self._wake.set()

    async def _work(self, item: WorkItem) -> None:
        self._not_before.pop(item.id, None)
        proc = _Proc(
            item_id=item.id,
            work_type=item.type,
            target=item.dedup_key or item.id,
            started_at=self._wall(),
            started=trio.current_time(),
            attempts=item.attempts,
        )
        self._active[item.id] = proc
        try:
            await self._process(item, proc)
        except Exception as exc:
            # Only a bug in the manager gets here: end the item rather than the daemon.
            log.exception("manager: item %s failed unexpectedly", item.id)
            if proc.status == "running":
                self._finish(item, proc, None, f"internal error: {_describe(exc)}")
        finally:
            if proc.status == "running":
                # Cancelled (shutdown): free the key; the next detection finds the work again.
                self._queue.complete(item.dedup_key)
            self._active.pop(item.id, None)

    async def _process(self, item: WorkItem, proc: _Proc) -> None:
        handler = self._handlers.get(item.type)
        if handler is None:
            self._finish(item, proc, None, f"no handler for work type {item.type!r}")
            return
        request = self._waiting.get(item.id)
        if request is None:
            try:
                request = await handler.build_prompt(item)
                if not isinstance(request, RunRequest):
                    raise TypeError(f"build_prompt returned {type(request).__name__}")
            except LedgerBlockedError as exc:
                self._block_type(item.type, exc)
                self._requeue(item, proc, f"ledger blocked: {exc}")
                return
            except Exception as exc:
                self._key_failed(item)
                self._finish(item, proc, None, f"build_prompt failed: {_describe(exc)}")
                return
        proc.skip_llm = request.skip_llm
        if request.skip_llm:
            result = _EMPTY_RESULT
        else:
            if not self._llm_ready() or not self._limiter.allow():
                self._wait(item, proc, request)
                return
            self._waiting.pop(item.id, None)
            result = await self._run_agent(item, proc, request)
            if result.quota is not None:
                self._counters.runs_quota += 1
                item.attempts -= 1  # a quota answer is not an attempt
                proc.attempts = item.attempts
                self._start_quota_pause(result.quota)
                self._wait(item, proc, request)
                if proc.status == "waiting":  # back in the queue; still, show the hit
                    proc.outcome, proc.reason = "quota", result.quota.message
                    self._end_proc(proc, "failed", f"quota: {result.quota.message}")
                return
            if not result.ok:
                self._counters.runs_failed += 1
                error = result.error or f"agent exited with code {result.exit_code}"
                item.last_error = error
                parked = self._key_failed(item)
                if item.attempts < MAX_ATTEMPTS and not parked:
                    self._counters.retries += 1
                    self._note_problem(item.type, proc.target, f"agent failed: {error}")
                    self._requeue(item, proc, error, delay=RETRY_DELAY, result=result)
                else:
                    self._finish(
                        item, proc, result, f"agent failed ({item.attempts} attempts): {error}"
                    )
                return
            self._counters.runs_ok += 1
        try:
            outcome = await handler.process_result(item, result)
        except LedgerBlockedError as exc:
            if not request.skip_llm:
                item.attempts -= 1  # the answer is dropped unused: not an attempt
            self._block_type(item.type, exc)
            self._requeue(item, proc, f"ledger blocked: {exc}")
            return
        except Exception as exc:
            item.last_error = _describe(exc)
            self._key_failed(item)
            self._finish(item, proc, result, f"process_result failed: {_describe(exc)}")
            return
        if item.dedup_key:
            self._keys.record_success(item.dedup_key)
            self._park_reasons.pop(item.dedup_key, None)
        self._types.record_success(item.type)
        self._type_reasons.pop(item.type, None)
        if not isinstance(outcome, Outcome):
            if outcome is not None:
                log.warning(
                    "handler %s: process_result returned %s, not an Outcome or None",
                    item.type,
                    type(outcome).__name__,
                )
            outcome = None
        self._finish(item, proc, result, "", outcome=outcome)

    async def _run_agent(self, item: WorkItem, proc: _Proc, request: RunRequest) -> RunResult:
        """Run the agent once; never raises except `trio.Cancelled`."""
        runner = self._runner
        assert runner is not None  # _llm_ready checked it
        if request.timeout_override is None:
            request = attrs.evolve(request, timeout_override=self._config.timeout)
        timeout = (request.timeout_override or self._config.timeout) + RUN_GUARD
        item.attempts += 1
        proc.attempts = item.attempts
        self._counters.total_invocations += 1
        try:
            with trio.fail_after(timeout):
                result = await runner.run(request)
            if not isinstance(result, RunResult):
                raise TypeError(f"runner returned {type(result).__name__}, not a RunResult")
        except trio.TooSlowError:
            result = RunResult(exit_code=-1, error=f"runner did not return within {timeout:.0f} s")
        except Exception as exc:
            result = RunResult(exit_code=-1, error=f"runner {runner.name} raised {_describe(exc)}")
        proc.exit_code = result.exit_code
        return result

    def _wait(self, item: WorkItem, proc: _Proc, request: RunRequest) -> None:
        """Back to the queue until the agent can run (quota, rate limit, no agent)."""
        self._counters.waits += 1
        self._waiting[item.id] = request
        if self._queue.requeue(item):
            proc.status = "waiting"
            self._wake.set()  # the dispatcher computes when the agent can run again
            return
        self._finish(item, proc, None, "dropped: the queue is full")

    def _requeue(
        self,
        item: WorkItem,
        proc: _Proc,
        reason: str,
        *,
        delay: float = 0.0,
        result: RunResult | None = None,
    ) -> None:
        if not self._queue.requeue(item):
            self._finish(item, proc, result, f"dropped, the queue is full: {reason}")
            return
        if delay > 0:
            self._not_before[item.id] = trio.current_time() + delay
        proc.outcome, proc.reason = "will retry", reason
        self._end_proc(proc, "failed", reason)
        self._wake.set()  # a new deadline (retry delay, type pause) for the dispatcher

    def _finish(
        self,
        item: WorkItem,
        proc: _Proc,
        result: RunResult | None,
        error: str,
        *,
        outcome: Outcome | None = None,
    ) -> None:
        self._queue.complete(item.dedup_key)
        self._waiting.pop(item.id, None)
        self._not_before.pop(item.id, None)
        counters = self._counters
        if error:
            counters.failures += 1
            log.warning("%s %s failed: %s", item.type, proc.target, error)
            proc.outcome, proc.reason = "failed", error
            self._note_problem(item.type, proc.target, error)
        else:
            counters.successes += 1
            proc.outcome = outcome.kind if outcome is not None else "completed"
            proc.reason = outcome.reason if outcome is not None else ""
            if self._problems:
                self._problems.pop((item.type, proc.target), None)
        counters.outcomes[proc.outcome] = counters.outcomes.get(proc.outcome, 0) + 1
        self._end_proc(proc, "failed" if error else "completed", error)
        if self._callbacks:
            work_result = WorkResult(
                item=item, result=result, error=error, duration=proc.duration, outcome=outcome
            )
            for callback in list(self._callbacks):
                try:
                    callback(work_result)
                except Exception:
                    log.exception("manager: on_complete callback %r failed", callback)

    def _note_problem(self, work_type: str, target: str, error: str) -> None:
        """Remember `error` as the standing failure of `target` (with its age and count)."""
        now = self._wall()
        problem = self._problems.get((work_type, target))
        if problem is None:
            if len(self._problems) >= MAX_PROBLEMS:
                stalest = min(self._problems, key=lambda k: self._problems[k].last)
                del self._problems[stalest]
            self._problems[(work_type, target)] = _Problem(error=error, first=now, last=now)
        else:
            problem.error, problem.last, problem.count = error, now, problem.count + 1

    def _end_proc(self, proc: _Proc, status: ProcessStatus, error: str) -> None:
        proc.status = status
        proc.error = error
        proc.duration = trio.current_time() - proc.started
        self._recent.append(proc)

    def _enqueue(self, item: WorkItem) -> bool:
        if item.dedup_key and self._keys.is_parked(item.dedup_key):
            return False
        return self._queue.enqueue(item)

    # ---- failures, parks, pauses ----------------------------------------------------------

    def _key_failed(self, item: WorkItem) -> bool:
        """Count a failure against the item's dedup key; True when that parked the key."""
        key = item.dedup_key
        if not key:
            return False
        until = self._keys.record_failure(key)
        self._park_reasons[key] = item.last_error or ""
        if until is None:
            return False
        self._counters.parks += 1
        log.warning(
            "%s: parked for %.0f min after %d consecutive failures (last: %s)",
            key,
            (until - trio.current_time()) / 60,
            self._keys.failures(key),
            item.last_error or "?",
        )
        return True

    def _block_type(self, work_type: str, exc: LedgerBlockedError) -> None:
        if self._types.is_parked(work_type):
            return  # several items hit the same blocker: one pause, one warning
        until = self._types.record_failure(work_type)
        self._type_reasons[work_type] = str(exc) or type(exc).__name__
        self._counters.blocked += 1
        if until is not None:
            log.warning(
                "work type %s paused for %.0f min: %s",
                work_type,
                (until - trio.current_time()) / 60,
                exc,
            )

    def _start_quota_pause(self, quota: Quota) -> None:
        now = trio.current_time()
        wall = self._wall()
        basis = quota.basis
        if quota.reset_at is None:
            seconds = QUOTA_FALLBACK
            basis = ""
        else:
            reset = quota.reset_at
            if reset.tzinfo is None:
                reset = reset.replace(tzinfo=UTC)
            seconds = min(max((reset - wall).total_seconds(), QUOTA_MIN), QUOTA_MAX)
        until = now + seconds
        if self._quota_until is not None and now < self._quota_until:
            if until <= self._quota_until:
                return  # a pause already holds at least as long
            since = self._quota.since if self._quota is not None else wall
        else:
            since = wall
            said = f"read from {basis!r}" if basis else "the agent did not say when"
            log.warning(
                "agent quota reached, agent work paused for %.0f min (%s): %s",
                seconds / 60,
                said,
                quota.message,
            )
        self._quota_until = until
        self._quota = QuotaPause(
            until=wall + timedelta(seconds=seconds),
            message=quota.message,
            basis=basis,
            since=since,
        )
        quota_store.save(self._ledger, self._quota)

    def _restore_quota_pause(self) -> None:
        """Take up the quota pause a previous run kept in the ledger's cache, if still on."""
        wall = self._wall()
        pause = quota_store.load(self._ledger, wall)
        if pause is None:
            return
        seconds = min((pause.until - wall).total_seconds(), QUOTA_MAX)
        self._quota_until = trio.current_time() + seconds
        self._quota = pause
        log.warning(
            "agent work stays paused for %.0f min: a quota pause kept from the last run (%s)",
            seconds / 60,
            pause.message,
        )

    # ---- detection ------------------------------------------------------------------------

    async def _refresh_agent(self) -> None:
        runner = self._runner
        if runner is None:
            return

        def check() -> tuple[bool, str]:
            try:
                usability = runner.usability()
            except Exception as exc:
                log.warning("runner %s: usability check raised %r", runner.name, exc)
                return False, f"its usability check failed: {_describe(exc)}"
            if not usability.installed:
                return False, usability.auth_detail or f"{runner.name} is not installed"
            return usability.usable, usability.auth_detail or "not logged in"

        self._refreshing = True
        try:
            available, detail = await trio.to_thread.run_sync(check, abandon_on_cancel=True)
        finally:
            self._refreshing = False
        self._agent_detail = "" if available else detail
        if available != self._agent_available:
            log.info("agent %s is %s", runner.name, "available" if available else "not available")
            self._agent_available = available
            self._wake.set()

    async def _detect(self, *, forced: bool) -> int:
        async with self._detect_lock:
            config = self._refresh_config()
            with _detect_file_lock(self._ledger, skip=forced) as acquired:
                if not acquired:
                    log.debug("detection skipped: another process holds the detect lock")
                    return 0
                for handler in self._handlers.values():
                    try:
                        await handler.cleanup(self._ledger)
                    except Exception as exc:
                        self._handler_failed(handler, "cleanup", exc)
                    else:
                        self._problems.pop((handler.type, "cleanup"), None)
                if not config.enabled:
                    return 0
                count = 0
                for handler in self._handlers.values():
                    count += await self._detect_one(handler, config, forced=forced)
            rejected = self._queue.take_rejected_count()
            if rejected:
                log.info("queue full: %d detected item(s) not queued; found again later", rejected)
            return count

    async def _detect_one(
        self, handler: WorkHandler, config: AgentWorkerConfig, *, forced: bool
    ) -> int:
        work_type = handler.type
        if not config.type_enabled(work_type) or self._types.is_parked(work_type):
            return 0
        now = trio.current_time()
        last = self._last_detect.get(work_type)
        if not forced and last is not None and now - last < self._detect_cooldown:
            return 0
        self._last_detect[work_type] = now
        try:
            items = list(await handler.detect(self._ledger))
        except Exception as exc:
            self._handler_failed(handler, "detect", exc)
            return 0
        self._problems.pop((work_type, "detect"), None)
        count = 0
        for item in items:
            if not isinstance(item, WorkItem) or item.type not in self._handlers:
                self._handler_failed(
                    handler, "detect", TypeError(f"detect returned an unusable item: {item!r}")
                )
                continue
            if self._enqueue(item):
                count += 1
        return count

    def _handler_failed(self, handler: WorkHandler, step: str, exc: Exception) -> None:
        if isinstance(exc, LedgerBlockedError):
            self._block_type(handler.type, exc)
        else:
            log.warning("handler %s: %s failed: %s", handler.type, step, _describe(exc))
        self._counters.detect_errors += 1
        self._note_problem(handler.type, step, f"{step} failed: {_describe(exc)}")
        self._recent.append(
            _Proc(
                item_id="",
                work_type=handler.type,
                target=step,
                started_at=self._wall(),
                started=trio.current_time(),
                status="failed",
                error=f"{step} failed: {_describe(exc)}",
            )
        )


@contextlib.contextmanager
def _detect_file_lock(ledger: Path, *, skip: bool) -> Iterator[bool]:
    """Hold `<ledger>/.ox/cache/.detect.lock` (non-blocking flock). Yields False when another
    process holds it; True when it is held here, was skipped, or could not be evaluated (then
    detection runs anyway: a broken lock must not stop the work)."""
    if skip:
        yield True
        return
    path = ledger / DETECT_LOCK
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        log.warning("detect lock %s unusable (%s); detecting anyway", path, exc)
        yield True
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        except OSError as exc:
            log.warning("detect lock %s unusable (%s); detecting anyway", path, exc)
            yield True
            return
        yield True
    finally:
        os.close(fd)  # closing the descriptor releases the lock
