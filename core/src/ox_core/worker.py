"""What the manager does with one item, and with the handlers in a detection pass.

The per-item state machine: build the prompt (or take the one kept while the item waited),
pass the agent gate (or go back to the queue to wait), run the agent, hand the answer to the
handler. Each way out is decided by the policies (`RetryPolicy`, `AgentGate`) and recorded in
the `WorkHistory` and the `StandingErrors`. Nothing here raises but `trio.Cancelled`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import attrs
import trio

from ox_core.agent_gate import AgentGate, check_usability, describe
from ox_core.config import AgentWorkerConfig
from ox_core.contracts import Outcome, Quota, Runner, RunRequest, RunResult, WorkHandler
from ox_core.detection import DETECT_COOLDOWN, DetectionPolicy
from ox_core.errors import LedgerBlockedError
from ox_core.history import WorkHistory
from ox_core.problems import StandingErrors
from ox_core.queue import WorkQueue
from ox_core.retry import RETRY_DELAY, RetryPolicy
from ox_core.status import AgentProcess, WorkResult
from ox_core.work import WorkItem

log = logging.getLogger("ox_core.manager")

# The runner enforces the timeout itself; this margin is the manager's guard against a runner
# that does not.
RUN_GUARD = 30.0
_EMPTY_RESULT = RunResult()  # frozen: one shared instance for every skip_llm item
# Keys kept as let go while the agent gate is closed: a handler whose keys change at every
# scan must not grow them without end (past it, its items are only built again to no use).
DEFERRED_KEYS_MAX = 10_000

CompleteCallback = Callable[[WorkResult], object]


def _checked_quota(quota: object) -> Quota:
    """A runner's quota answer with each field of its type (attrs does not check them, and a
    runner may hand over what it parsed as it came): a reset time that is not a datetime is
    an unknown one (the default pause), and the texts go into `status` as JSON strings."""
    if not isinstance(quota, Quota):
        return Quota(message=str(quota)[:500])
    reset = quota.reset_at if isinstance(quota.reset_at, datetime) else None
    message, basis = quota.message, quota.basis if reset is not None else ""
    if isinstance(message, str) and isinstance(basis, str) and reset is quota.reset_at:
        return quota
    return Quota(message=str(message)[:500], reset_at=reset, basis=str(basis)[:200])


@attrs.define(slots=True, eq=False)
class Worker:
    """The steps of work: `process` one item, `detect` with every handler. Shared by every
    worker task of one manager (it holds no per-item state)."""

    handlers: dict[str, WorkHandler]
    runner: Runner | None
    gate: AgentGate
    retry: RetryPolicy
    detection: DetectionPolicy
    history: WorkHistory
    problems: StandingErrors
    queue: WorkQueue
    config: Callable[[], AgentWorkerConfig]
    wake: Callable[[], None]
    wall: Callable[[], datetime]
    ledger: Path
    callbacks: list[CompleteCallback] = attrs.Factory(list)
    refreshing: bool = False  # an agent usability check is running
    # Keys let go since the agent gate last let a run through (see `_defer`).
    deferred: set[str] = attrs.Factory(set)

    @classmethod
    def create(
        cls,
        runner: Runner | None,
        handlers: dict[str, WorkHandler],
        ledger: Path,
        *,
        config: Callable[[], AgentWorkerConfig],
        queue: WorkQueue,
        wake: Callable[[], None],
        wall: Callable[[], datetime],
        detect_cooldown: float = DETECT_COOLDOWN,
    ) -> Worker:
        """A worker with fresh policies on the trio clock (`trio.current_time`)."""
        now = trio.current_time
        rate = config().rate_limit
        agent = runner.name if runner is not None else ""
        gate = AgentGate(agent, ledger, runs=rate.runs, window=rate.window, clock=now, wall=wall)
        return cls(
            handlers=handlers,
            runner=runner,
            gate=gate,
            retry=RetryPolicy(clock=now),
            detection=DetectionPolicy(ledger, cooldown=detect_cooldown, clock=now),
            history=WorkHistory(clock=now),
            problems=StandingErrors(wall=wall),
            queue=queue,
            config=config,
            wake=wake,
            wall=wall,
            ledger=ledger,
        )

    def enqueue(self, item: WorkItem) -> bool:
        """Queue `item` unless its key is parked or deferred (or queued, running; or the
        queue is full)."""
        key = item.dedup_key
        if key and (self.retry.is_parked(key) or key in self.deferred):
            return False
        return self.queue.enqueue(item)

    async def refresh_agent(self) -> bool:
        """Check the runner's usability (in a thread); True when its availability changed."""
        runner = self.runner
        if runner is None:
            return False
        self.refreshing = True
        try:
            available, detail = await trio.to_thread.run_sync(
                check_usability, runner, abandon_on_cancel=True
            )
        finally:
            self.refreshing = False
        return self.gate.set_availability(available, detail)

    # ---- one item ------------------------------------------------------------------------

    async def process(self, item: WorkItem) -> None:
        self.retry.started(item.id)
        record = AgentProcess(
            item_id=item.id,
            work_type=item.type,
            target=item.dedup_key or item.id,
            started_at=self.wall(),
            started=trio.current_time(),
            attempts=item.attempts,
        )
        self.history.begin(record)
        try:
            await self._steps(item, record)
        except Exception as exc:
            # Only a bug of ours gets here: end the item rather than the daemon.
            log.exception("manager: item %s failed unexpectedly", item.id)
            if record.status == "running":
                self._finish(item, record, None, f"internal error: {describe(exc)}")
        finally:
            if record.status == "running":
                # Cancelled (shutdown): free the key; the next detection finds the work again.
                self.queue.complete(item.dedup_key)
            self.history.leave(record)

    async def _steps(self, item: WorkItem, record: AgentProcess) -> None:
        handler = self.handlers.get(item.type)
        if handler is None:
            self._finish(item, record, None, f"no handler for work type {item.type!r}")
            return
        request = self.retry.prompt(item.id)
        if request is None:
            try:
                request = await handler.build_prompt(item)
                if not isinstance(request, RunRequest):
                    raise TypeError(f"build_prompt returned {type(request).__name__}")
            except LedgerBlockedError as exc:
                self._block(item.type, exc)
                self._requeue(item, record, f"ledger blocked: {exc}")
                return
            except Exception as exc:
                item.last_error = f"build_prompt failed: {describe(exc)}"
                self._key_failed(item.dedup_key, item.last_error)
                self._finish(item, record, None, item.last_error)
                return
        record.skip_llm = request.skip_llm
        if request.skip_llm:
            result = _EMPTY_RESULT
        else:
            if not self.gate.take():
                self._wait(item, record, request)
                return
            self.retry.running(item.id)
            self.deferred.clear()  # the gate opened: what it let go may come back
            result = await self._run_agent(item, record, request)
            if result.quota is not None:
                self.history.count("runs_quota")
                item.attempts -= 1  # a quota answer is not an attempt
                record.attempts = item.attempts
                self.gate.start_quota_pause(result.quota)
                self._wait(item, record, request)
                if record.status == "waiting":  # back in the queue; still, show the hit
                    record.outcome, record.reason = "quota", result.quota.message
                    self.history.end(record, "failed", f"quota: {result.quota.message}")
                return
            if result.ok:
                self.history.count("runs_ok")
            elif result.runaway and getattr(handler, "takes_runaway_answers", False) is True:
                self.history.count("runs_failed")  # the handler refuses it as its answer
            else:
                self._agent_failed(item, record, result)
                return
        try:
            outcome = await handler.process_result(item, result)
        except LedgerBlockedError as exc:
            if not request.skip_llm:
                item.attempts -= 1  # the answer is dropped unused: not an attempt
            self._block(item.type, exc)
            self._requeue(item, record, f"ledger blocked: {exc}")
            return
        except Exception as exc:
            item.last_error = describe(exc)
            self._key_failed(item.dedup_key, item.last_error)
            self._finish(item, record, result, f"process_result failed: {describe(exc)}")
            return
        self.retry.succeeded(item.dedup_key, item.type)
        if not isinstance(outcome, Outcome):
            if outcome is not None:
                log.warning(
                    "handler %s: process_result returned %s, not an Outcome or None",
                    item.type,
                    type(outcome).__name__,
                )
            outcome = None
        elif not (isinstance(outcome.kind, str) and isinstance(outcome.reason, str)):
            # `status` sends them as JSON: an exception as the reason would fail every status.
            outcome = Outcome(str(outcome.kind), str(outcome.reason))
        self._finish(item, record, result, "", outcome=outcome)

    def _agent_failed(self, item: WorkItem, record: AgentProcess, result: RunResult) -> None:
        self.history.count("runs_failed")
        error = result.error or f"agent exited with code {result.exit_code}"
        item.last_error = error
        parked = self._key_failed(item.dedup_key, error)
        if self.retry.retries(item.attempts, parked):
            self.history.count("retries")
            self.problems.note(item.type, record.target, f"agent failed: {error}")
            self._requeue(item, record, error, delay=RETRY_DELAY, result=result)
        else:
            self._finish(item, record, result, f"agent failed ({item.attempts} attempts): {error}")

    async def _run_agent(
        self, item: WorkItem, record: AgentProcess, request: RunRequest
    ) -> RunResult:
        """Run the agent once; never raises except `trio.Cancelled`."""
        runner = self.runner
        assert runner is not None  # the gate was open
        default = self.config().timeout
        if request.timeout_override is None:
            request = attrs.evolve(request, timeout_override=default)
        timeout = (request.timeout_override or default) + RUN_GUARD
        item.attempts += 1
        record.attempts = item.attempts
        self.history.count("total_invocations")
        try:
            with trio.fail_after(timeout):
                result = await runner.run(request)
            if not isinstance(result, RunResult):
                raise TypeError(f"runner returned {type(result).__name__}, not a RunResult")
            if not isinstance(result.error, str):  # it goes into `status`, as JSON text
                result = attrs.evolve(result, error=str(result.error))
            if result.quota is not None:
                result = attrs.evolve(result, quota=_checked_quota(result.quota))
        except trio.TooSlowError:
            result = RunResult(exit_code=-1, error=f"runner did not return within {timeout:.0f} s")
        except Exception as exc:
            result = RunResult(exit_code=-1, error=f"runner {runner.name} raised {describe(exc)}")
        record.exit_code = result.exit_code
        return result

    def _key_failed(self, key: str, error: str) -> bool:
        parked = self.retry.key_failed(key, error)
        if parked:
            self.history.count("parks")
        return parked

    def _block(self, work_type: str, exc: LedgerBlockedError) -> None:
        if self.retry.block_type(work_type, str(exc) or type(exc).__name__):
            self.history.count("blocked")

    def _wait(self, item: WorkItem, record: AgentProcess, request: RunRequest) -> None:
        """Back to the queue until the agent gate opens (quota, rate limit, no agent), or
        let go when the queue's allowance of such items is full."""
        self.retry.wait(item.id, request)
        if self.queue.requeue(item, waiting=True):
            self.history.count("waits")
            record.status = "waiting"
            self.wake()  # the dispatcher computes when the gate opens again
            return
        self._defer(item, record)

    def _defer(self, item: WorkItem, record: AgentProcess) -> None:
        """Let `item` go, neither failed nor finished: a closed gate is no fault of the item,
        and its work stays where detection found it. Its key is refused until the gate lets a
        run through: a later scan would only build its prompt again (seconds of redaction for
        a long session) to let it go again."""
        self.retry.forget(item.id)
        self.history.count("deferred")
        record.status, record.outcome = "completed", "deferred"  # not in the recent list
        if not self.deferred:
            log.info(
                "%d items wait for the agent, as many as the queue keeps: others that need "
                "it are let go until the agent can run (a later scan finds them again)",
                self.queue.max_queue_depth,
            )
        # An empty key too: it marks the episode (told once), and `enqueue` never refuses it.
        if len(self.deferred) < DEFERRED_KEYS_MAX:
            self.deferred.add(item.dedup_key)

    def _requeue(
        self,
        item: WorkItem,
        record: AgentProcess,
        reason: str,
        *,
        delay: float = 0.0,
        result: RunResult | None = None,
    ) -> None:
        if not self.queue.requeue(item):
            self._finish(item, record, result, f"dropped, the queue is full: {reason}")
            return
        self.retry.delay(item.id, delay)
        record.outcome, record.reason = "will retry", reason
        self.history.end(record, "failed", reason)
        self.wake()  # a new deadline (retry delay, type pause) for the dispatcher

    def _finish(
        self,
        item: WorkItem,
        record: AgentProcess,
        result: RunResult | None,
        error: str,
        *,
        outcome: Outcome | None = None,
    ) -> None:
        self.queue.complete(item.dedup_key)
        self.retry.forget(item.id)
        if error:
            log.warning("%s %s failed: %s", item.type, record.target, error)
            record.outcome, record.reason = "failed", error
            self.problems.note(item.type, record.target, error)
        else:
            record.outcome = outcome.kind if outcome is not None else "completed"
            record.reason = outcome.reason if outcome is not None else ""
            self.problems.clear(item.type, record.target)
        self.history.finished(record.outcome, ok=not error)
        self.history.end(record, "failed" if error else "completed", error)
        if self.callbacks:
            done = WorkResult(
                item=item, result=result, error=error, duration=record.duration, outcome=outcome
            )
            for callback in list(self.callbacks):
                try:
                    callback(done)
                except Exception:
                    log.exception("manager: on_complete callback %r failed", callback)

    # ---- a detection pass ----------------------------------------------------------------

    async def detect(self, config: AgentWorkerConfig, *, forced: bool) -> int:
        """Cleanup with every handler, then detect with those due; returns how many items
        were queued."""
        with self.detection.lock(forced=forced) as acquired:
            if not acquired:
                return 0
            for handler in self.handlers.values():
                try:
                    await handler.cleanup(self.ledger)
                except Exception as exc:
                    self._handler_failed(handler, "cleanup", exc)
                else:
                    self.problems.clear(handler.type, "cleanup")
            if not config.enabled:
                return 0
            count = 0
            for handler in self.handlers.values():
                work_type = handler.type
                enabled = config.type_enabled(work_type)
                paused = self.retry.type_paused(work_type)
                if self.detection.due(work_type, enabled=enabled, paused=paused, forced=forced):
                    count += await self._detect_one(handler)
        rejected = self.queue.take_rejected_count()
        if rejected:
            log.info("queue full: %d detected item(s) not queued; found again later", rejected)
        return count

    async def _detect_one(self, handler: WorkHandler) -> int:
        try:
            items = list(await handler.detect(self.ledger))
        except Exception as exc:
            self._handler_failed(handler, "detect", exc)
            return 0
        self.problems.clear(handler.type, "detect")
        count = 0
        # Told once per pass, with the first: a handler returning thousands of them must
        # not flood the log and push real work out of `status`'s recent list.
        unusable, first = 0, ""
        for item in items:
            if not isinstance(item, WorkItem) or item.type not in self.handlers:
                unusable, first = unusable + 1, first or f"{item!r:.300}"
                continue
            try:
                queued = self.enqueue(item)
            except TypeError as exc:  # a field of the wrong type: the queue refused it
                unusable, first = unusable + 1, first or str(exc)
                continue
            if queued:
                count += 1
        if unusable == 1:
            error = TypeError(f"detect returned an unusable item: {first}")
            self._handler_failed(handler, "detect", error)
        elif unusable:
            error = TypeError(f"detect returned {unusable} unusable items; the first: {first}")
            self._handler_failed(handler, "detect", error)
        return count

    def _handler_failed(self, handler: WorkHandler, step: str, exc: Exception) -> None:
        if isinstance(exc, LedgerBlockedError):
            self._block(handler.type, exc)
        else:
            log.warning("handler %s: %s failed: %s", handler.type, step, describe(exc))
        self.history.count("detect_errors")
        error = f"{step} failed: {describe(exc)}"
        self.problems.note(handler.type, step, error)
        record = AgentProcess(
            work_type=handler.type, target=step, started_at=self.wall(), started=trio.current_time()
        )
        self.history.end(record, "failed", error)
