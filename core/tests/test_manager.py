"""The manager, driven by `trio.testing.MockClock` with autojump.

The handler here is an inline `WorkHandler` whose steps are functions the test supplies; the
runner is `MockRunner`. Times are virtual seconds from the manager's start.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from ox_core import (
    AgentUsability,
    AgentWorkerConfig,
    LedgerBlockedError,
    Manager,
    MockRunner,
    OxError,
    Quota,
    RunRequest,
    RunResult,
    SyncSignal,
    WorkHandler,
    WorkItem,
    WorkResult,
)
from ox_core.config import RateLimitConfig
from ox_core.manager import DETECT_LOCK, MAX_ATTEMPTS, RETRY_DELAY
from ox_core.work import utcnow

TICK = 300.0


class FnHandler(WorkHandler):
    """A handler whose steps are plain functions; it records what it was asked."""

    type = "fake"

    def __init__(
        self,
        work_type: str = "fake",
        *,
        detect: Callable[[], list[WorkItem]] | None = None,
        build: Callable[[WorkItem], RunRequest] | None = None,
        process: Callable[[WorkItem, RunResult], Awaitable[None] | None] | None = None,
    ) -> None:
        self.type = work_type  # type: ignore[misc]
        self._detect = detect or list
        self._build = build or (lambda item: RunRequest(prompt=f"do {item.dedup_key}"))
        self._process = process
        self.detect_times: list[float] = []
        self.processed: list[tuple[float, str, RunResult]] = []
        self.cleanups = 0

    async def detect(self, ledger: Path) -> list[WorkItem]:
        self.detect_times.append(trio.current_time())
        return self._detect()

    async def build_prompt(self, item: WorkItem) -> RunRequest:
        return self._build(item)

    async def process_result(self, item: WorkItem, result: RunResult) -> None:
        self.processed.append((trio.current_time(), item.dedup_key, result))
        if self._process is not None:
            maybe = self._process(item, result)
            if maybe is not None:
                await maybe

    async def cleanup(self, ledger: Path) -> None:
        self.cleanups += 1


class Config:
    """A mutable config provider: tests swap `value` to edit the config."""

    def __init__(self, **kwargs: Any) -> None:
        self.value = AgentWorkerConfig(**kwargs)
        self.calls = 0

    def __call__(self) -> AgentWorkerConfig:
        self.calls += 1
        return self.value


def item(key: str, work_type: str = "fake", **kwargs: Any) -> WorkItem:
    return WorkItem(type=work_type, dedup_key=key, **kwargs)


def skip_llm(item: WorkItem) -> RunRequest:
    return RunRequest(skip_llm=True)


async def start(
    nursery: trio.Nursery,
    tmp_path: Path,
    runner: MockRunner | None,
    *handlers: WorkHandler,
    config: Config | None = None,
    signal: SyncSignal | None = None,
) -> Manager:
    manager = Manager(
        runner,
        list(handlers),
        config or Config(),
        signal or SyncSignal(),
        tmp_path,
    )
    await nursery.start(manager.run)
    return manager


async def settle() -> None:
    """Let every task that can run, run (no virtual time passes)."""
    await trio.testing.wait_all_tasks_blocked()


async def sleep_until(t: float) -> None:
    await trio.sleep_until(t)
    await settle()


# ---- basics -------------------------------------------------------------------------------


async def test_skip_llm_item_runs_without_a_runner(tmp_path: Path, autojump_clock: Any) -> None:
    handler = FnHandler(build=skip_llm)
    results: list[WorkResult] = []
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, None, handler)
        manager.on_complete(results.append)
        assert manager.enqueue(item("a"))
        await settle()
        assert [r.item.dedup_key for r in results] == ["a"]
        assert results[0].ok
        assert results[0].result == RunResult()
        status = manager.status()
        assert status.agent_type == "none"
        assert not status.agent_available
        assert status.stats.successes == 1
        assert status.stats.total_invocations == 0
        assert status.recent[-1].status == "completed"
        assert status.recent[-1].skip_llm
        assert not manager.has_pending_work()
        nursery.cancel_scope.cancel()


async def test_no_sync_signal_is_fine(tmp_path: Path, autojump_clock: Any) -> None:
    """`sync_signal=None`: no sync listener; enqueue and the doctor tick still drive the work."""
    handler = FnHandler(build=skip_llm, detect=lambda: [item("found")])
    async with trio.open_nursery() as nursery:
        manager = Manager(None, [handler], Config(), sync_signal=None, ledger_path=tmp_path)
        await nursery.start(manager.run)
        assert manager.enqueue(item("a"))
        await sleep_until(TICK + 1)
        # found at start and again at the doctor tick
        assert sorted(key for _, key, _ in handler.processed) == ["a", "found", "found"]
        status = manager.status()
        assert (status.syncs, status.last_sync_at) == (0, None)
        nursery.cancel_scope.cancel()


async def test_llm_item_waits_without_a_runner(tmp_path: Path, autojump_clock: Any) -> None:
    handler = FnHandler()
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, None, handler)
        assert manager.enqueue(item("llm"))
        assert manager.enqueue(item("quick", priority=90))
        handler._build = lambda it: RunRequest(skip_llm=it.dedup_key == "quick")
        await sleep_until(3 * TICK)
        assert [key for _, key, _ in handler.processed] == ["quick"]
        assert manager.has_pending_work()
        assert manager.status().queue_depth == 1
        assert manager.status().stats.failures == 0
        nursery.cancel_scope.cancel()


async def test_enqueue_rejects_unknown_type_and_duplicates(
    tmp_path: Path, autojump_clock: Any
) -> None:
    manager = Manager(MockRunner(), [FnHandler()], Config(enabled=False), SyncSignal(), tmp_path)
    with pytest.raises(OxError, match="no handler for work type 'other'"):
        manager.enqueue(item("x", work_type="other"))
    assert manager.enqueue(item("x"))
    assert not manager.enqueue(item("x"))
    assert manager.has_pending_work()


def test_two_handlers_of_one_type_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="two handlers for work type 'fake'"):
        Manager(None, [FnHandler(), FnHandler()], Config(), SyncSignal(), tmp_path)


async def test_status_serialises_to_the_spec_shape(tmp_path: Path, autojump_clock: Any) -> None:
    runner = MockRunner()
    handler = FnHandler()
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, runner, handler)
        manager.enqueue(item("a"))
        await settle()
        data = json.loads(json.dumps(manager.status().to_json()))
        nursery.cancel_scope.cancel()
    for key in ("enabled", "agent_type", "agent_available", "queue_depth", "active", "recent"):
        assert key in data
    assert data["agent_type"] == "mock"
    assert data["agent_available"] is True
    assert {"total_invocations", "successes", "failures"} <= set(data["stats"])
    assert data["stats"]["total_invocations"] == 1
    process = data["recent"][0]
    for key in ("pid", "work_type", "target", "started_at", "status", "duration", "error"):
        assert key in process
    assert process["status"] == "completed"
    assert process["target"] == "a"
    assert process["exit_code"] == 0


# ---- triggers -----------------------------------------------------------------------------


async def test_doctor_tick_every_five_minutes_and_cleanup(
    tmp_path: Path, autojump_clock: Any
) -> None:
    handler = FnHandler()
    async with trio.open_nursery() as nursery:
        await start(nursery, tmp_path, MockRunner(), handler)
        await sleep_until(3 * TICK + 1)
        assert handler.detect_times == [0.0, TICK, 2 * TICK, 3 * TICK]
        assert handler.cleanups == 4
        nursery.cancel_scope.cancel()


async def test_detect_cooldown_and_force_detect_bypass(tmp_path: Path, autojump_clock: Any) -> None:
    found = [item("a")]
    handler = FnHandler(detect=lambda: [item(it.dedup_key) for it in found])
    async with trio.open_nursery() as nursery:
        manager = Manager(
            MockRunner(),
            [handler],
            Config(),
            SyncSignal(),
            tmp_path,
            doctor_interval=100.0,
            detect_cooldown=TICK,
        )
        await nursery.start(manager.run)
        await sleep_until(250.0)
        # Ticks at 0, 100, 200: only the first detects (cooldown 300).
        assert handler.detect_times == [0.0]
        found.append(item("b"))
        assert await manager.force_detect() == 2  # a finished long ago, b is new
        assert handler.detect_times == [0.0, 250.0]
        await sleep_until(550.0 - 1)
        # The tick at 300 and 400, 500 fall within the cooldown of the forced detection.
        assert handler.detect_times == [0.0, 250.0]
        await sleep_until(600.0 + 1)
        assert handler.detect_times == [0.0, 250.0, 600.0]
        nursery.cancel_scope.cancel()


async def test_sync_signal_drains_without_detecting(tmp_path: Path, autojump_clock: Any) -> None:
    handler = FnHandler(build=skip_llm)
    signal = SyncSignal()
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, None, handler, signal=signal)
        await sleep_until(10.0)
        # Straight into the queue: nothing wakes the manager.
        assert manager.queue.enqueue(item("synced"))
        await sleep_until(20.0)
        assert handler.processed == []
        signal.fire()
        await settle()
        assert [key for _, key, _ in handler.processed] == ["synced"]
        assert handler.processed[0][0] == 20.0
        assert handler.detect_times == [0.0]
        nursery.cancel_scope.cancel()


async def test_a_trio_event_works_as_a_one_shot_sync_signal(
    tmp_path: Path, autojump_clock: Any
) -> None:
    handler = FnHandler(build=skip_llm)
    event = trio.Event()
    async with trio.open_nursery() as nursery:
        manager = Manager(None, [handler], Config(), event, tmp_path)
        await nursery.start(manager.run)
        await sleep_until(5.0)
        manager.queue.enqueue(item("synced"))
        event.set()
        await settle()
        assert [key for _, key, _ in handler.processed] == ["synced"]
        nursery.cancel_scope.cancel()


async def test_config_is_reread_each_cycle(tmp_path: Path, autojump_clock: Any) -> None:
    handler = FnHandler(build=skip_llm)
    config = Config(enabled=False)
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, None, handler, config=config)
        manager.enqueue(item("a"))
        await sleep_until(TICK + 1)
        assert handler.processed == []
        assert handler.detect_times == []
        assert handler.cleanups == 2  # cleanup runs even when disabled
        config.value = AgentWorkerConfig(enabled=True)
        manager.enqueue(item("b"))  # any wake-up re-reads the config
        await settle()
        assert sorted(key for _, key, _ in handler.processed) == ["a", "b"]
        assert manager.status().enabled
        nursery.cancel_scope.cancel()


async def test_a_disabled_type_keeps_its_items_queued(tmp_path: Path, autojump_clock: Any) -> None:
    review = FnHandler("review", build=skip_llm)
    other = FnHandler("other", build=skip_llm)
    config = Config(disabled_types=frozenset({"review"}))
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, None, review, other, config=config)
        manager.enqueue(item("s", work_type="review"))
        manager.enqueue(item("o", work_type="other"))
        await sleep_until(TICK + 1)
        assert review.processed == []
        assert review.detect_times == []
        assert [key for _, key, _ in other.processed] == ["o"]
        config.value = AgentWorkerConfig()
        manager.enqueue(item("o2", work_type="other"))
        await settle()
        assert [key for _, key, _ in review.processed] == ["s"]
        nursery.cancel_scope.cancel()


# ---- concurrency, rate limit --------------------------------------------------------------


async def test_max_concurrent_two(tmp_path: Path, autojump_clock: Any) -> None:
    async def slow(request: RunRequest) -> RunResult:
        await trio.sleep(10)
        return RunResult(output="done")

    runner = MockRunner(slow)
    handler = FnHandler()
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, runner, handler, config=Config(max_concurrent=2))
        for key in "abc":
            assert manager.enqueue(item(key))
        await settle()
        assert runner.active == 2
        status = manager.status()
        assert status.queue_depth == 1
        assert len(status.active) == 2
        assert {p.target for p in status.active} == {"a", "b"}
        await sleep_until(10.0)
        assert runner.active == 1
        assert manager.status().queue_depth == 0
        await sleep_until(20.0)
        assert runner.max_active == 2
        assert len(runner.calls) == 3
        assert [t for t, _, _ in handler.processed] == [10.0, 10.0, 20.0]
        nursery.cancel_scope.cancel()


async def test_rate_limit_keeps_items_queued_until_the_window_refills(
    tmp_path: Path, autojump_clock: Any
) -> None:
    runner = MockRunner()
    handler = FnHandler()
    config = Config(rate_limit=RateLimitConfig(runs=2, window=100.0))
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, runner, handler, config=config)
        for key in "abc":
            manager.enqueue(item(key))
        await settle()
        assert len(runner.calls) == 2
        status = manager.status()
        assert status.queue_depth == 1
        assert status.rate_limit_remaining == 0
        assert status.stats.failures == 0
        await sleep_until(100.0)
        assert len(runner.calls) == 3
        assert [t for t, _, _ in handler.processed] == [0.0, 0.0, 100.0]
        nursery.cancel_scope.cancel()


# ---- failures -----------------------------------------------------------------------------


async def test_runner_failure_retries_three_times_then_parks(
    tmp_path: Path, autojump_clock: Any
) -> None:
    """Acceptance 2: across 10 doctor ticks a failing item runs exactly 3 times, then its key
    is parked; force_detect lifts the park; a success clears the count."""
    outcome = {"ok": False}

    def run(request: RunRequest) -> RunResult:
        if outcome["ok"]:
            return RunResult(output="fine")
        return RunResult(exit_code=2, error="agent crashed")

    runner = MockRunner(run)
    handler = FnHandler()
    results: list[WorkResult] = []
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, runner, handler)
        manager.on_complete(results.append)
        manager.enqueue(item("k"))
        await sleep_until(2 * RETRY_DELAY)
        assert len(runner.calls) == MAX_ATTEMPTS
        status = manager.status()
        assert "k" in status.parked
        assert status.parked["k"] - utcnow() > timedelta(seconds=TICK - 5)
        assert status.stats.total_invocations == 3
        assert status.stats.failures == 1
        assert status.stats.retries == 2
        assert [r.error for r in results] == ["agent failed (3 attempts): agent crashed"]
        assert results[0].item.attempts == 3
        assert [p.status for p in status.recent] == ["failed"] * 3
        assert not manager.enqueue(item("k"))  # parked: refused
        await sleep_until(10 * TICK)
        assert len(runner.calls) == MAX_ATTEMPTS  # still 3 after 10 ticks
        assert handler.processed == []

        # The park has expired by now; park it again (one more failure) and lift it.
        manager.enqueue(item("k"))
        await settle()
        assert len(runner.calls) == 4
        assert "k" in manager.status().parked
        assert not manager.enqueue(item("k"))
        await manager.force_detect()
        assert manager.status().parked == {}
        outcome["ok"] = True
        assert manager.enqueue(item("k"))
        await settle()
        assert len(runner.calls) == 5
        assert [key for _, key, _ in handler.processed] == ["k"]
        # The count is cleared: the next two failures do not park.
        outcome["ok"] = False
        for _ in range(2):
            manager.enqueue(item("k", attempts=MAX_ATTEMPTS - 1))
            await settle()
        assert manager.status().parked == {}
        nursery.cancel_scope.cancel()


async def test_parking_windows_double_and_cap(tmp_path: Path, autojump_clock: Any) -> None:
    """A key whose process_result always fails, found on every doctor tick: runs at 0, 5 and
    10 min, then is parked 5, 10, 20, 40 min, then 60 min (the cap), each time again."""

    def fail(item: WorkItem, result: RunResult) -> None:
        raise RuntimeError("cannot write the summary")

    handler = FnHandler(detect=lambda: [item("k")], process=fail)
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, MockRunner(), handler)
        await sleep_until(13_000.0)
        runs = [t for t, _, _ in handler.processed]
        windows = [300, 600, 1200, 2400, 3600, 3600]
        expected = [0.0, 300.0, 600.0]
        for window in windows:
            expected.append(expected[-1] + window)
        assert runs == expected[: len(runs)]
        assert len(runs) == 9
        assert runs[-1] == 12_300.0
        assert manager.status().stats.parks == 7
        assert manager.status().recent[-1].error == (
            "process_result failed: RuntimeError: cannot write the summary"
        )
        nursery.cancel_scope.cancel()


async def test_handler_errors_never_stop_the_manager(tmp_path: Path, autojump_clock: Any) -> None:
    """Acceptance 4: a handler raising in detect, build_prompt or process_result."""

    def bad_detect() -> list[WorkItem]:
        raise RuntimeError("detect broke")

    def odd_detect() -> list[WorkItem]:
        return None  # type: ignore[return-value]

    def bad_build(item: WorkItem) -> RunRequest:
        if item.dedup_key == "b":
            raise ValueError("no prompt")
        return RunRequest(prompt="p")

    def bad_process(item: WorkItem, result: RunResult) -> None:
        if item.dedup_key == "p":
            raise KeyError("oops")

    broken = FnHandler("broken", detect=bad_detect, build=bad_build, process=bad_process)
    good = FnHandler("good", detect=lambda: [item("g", "good")])
    odd = FnHandler("odd", detect=odd_detect)
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, MockRunner(), broken, odd, good)
        manager.enqueue(item("b", "broken"))
        manager.enqueue(item("p", "broken"))
        manager.enqueue(item("fine", "broken"))
        await settle()
        errors = {(p.work_type, p.target): p.error for p in manager.status().recent}
        assert errors[("broken", "detect")] == "detect failed: RuntimeError: detect broke"
        assert errors[("odd", "detect")].startswith("detect failed: TypeError")
        assert errors[("broken", "b")] == "build_prompt failed: ValueError: no prompt"
        assert errors[("broken", "p")] == "process_result failed: KeyError: 'oops'"
        assert errors[("broken", "fine")] == ""
        assert errors[("good", "g")] == ""
        await sleep_until(TICK + 1)
        assert good.detect_times == [0.0, TICK]  # detection carries on
        status = manager.status()
        assert status.stats.detect_errors == 4
        assert status.stats.successes == 3
        assert status.stats.failures == 2
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize("takes", [True, False])
async def test_a_runaway_run_goes_to_a_handler_that_takes_it(
    tmp_path: Path, autojump_clock: Any, takes: bool
) -> None:
    """A run stopped for runaway output is the answer of a handler that says it takes such
    answers (once: no retry); for any other handler it is a failed run, retried."""
    runaway = RunResult(exit_code=1, error="printed more than 8 MiB", runaway=True)
    runner = MockRunner(lambda request: runaway)
    handler = FnHandler()
    handler.takes_runaway_answers = takes  # type: ignore[misc]
    results: list[WorkResult] = []
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, runner, handler)
        manager.on_complete(results.append)
        manager.enqueue(item("k"))
        await sleep_until(3 * RETRY_DELAY)
        if takes:
            assert len(runner.calls) == 1
            assert [r for _, _, r in handler.processed] == [runaway]
            assert [r.error for r in results] == [""]
        else:
            assert len(runner.calls) == MAX_ATTEMPTS
            assert handler.processed == []
            assert [r.error for r in results] == [
                f"agent failed ({MAX_ATTEMPTS} attempts): printed more than 8 MiB"
            ]
        nursery.cancel_scope.cancel()


async def test_runner_raising_is_a_runner_failure(tmp_path: Path, autojump_clock: Any) -> None:
    def explode(request: RunRequest) -> RunResult:
        raise OSError("spawn failed")

    runner = MockRunner(explode)
    results: list[WorkResult] = []
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, runner, FnHandler())
        manager.on_complete(results.append)
        manager.enqueue(item("x"))
        await sleep_until(3 * RETRY_DELAY)
        assert len(runner.calls) == 3
        assert results[0].error == (
            "agent failed (3 attempts): runner mock raised OSError: spawn failed"
        )
        assert results[0].result is not None
        assert results[0].result.exit_code == -1
        nursery.cancel_scope.cancel()


async def test_on_complete_callback_errors_are_contained(
    tmp_path: Path, autojump_clock: Any
) -> None:
    seen: list[str] = []

    def bad(result: WorkResult) -> None:
        raise RuntimeError("callback broke")

    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, None, FnHandler(build=skip_llm))
        manager.on_complete(bad)
        manager.on_complete(lambda r: seen.append(r.item.dedup_key))
        manager.enqueue(item("a"))
        manager.enqueue(item("b"))
        await settle()
        assert sorted(seen) == ["a", "b"]
        nursery.cancel_scope.cancel()


# ---- quota and ledger-wide blockers --------------------------------------------------------


@pytest.mark.parametrize(("reset_in", "expected"), [(7200.0, 7200.0), (None, 3600.0)])
async def test_quota_pause_until_reset_or_one_hour(
    tmp_path: Path, autojump_clock: Any, reset_in: float | None, expected: float
) -> None:
    calls: list[float] = []

    def run(request: RunRequest) -> RunResult:
        calls.append(trio.current_time())
        if len(calls) == 1:
            reset = None if reset_in is None else utcnow() + timedelta(seconds=reset_in)
            return RunResult(exit_code=1, quota=Quota("You hit your limit", reset))
        return RunResult(output="ok")

    handler = FnHandler(
        build=lambda it: RunRequest(skip_llm=it.dedup_key.startswith("skip"), prompt="p")
    )
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, MockRunner(run), handler)
        manager.enqueue(item("llm"))
        await settle()
        status = manager.status()
        assert status.quota_paused_until is not None
        assert abs((status.quota_paused_until - utcnow()).total_seconds() - expected) < 5
        assert status.queue_depth == 1
        assert status.stats.failures == 0
        assert status.recent[-1].error == "quota: You hit your limit"
        await sleep_until(100.0)
        manager.enqueue(item("skip-me"))  # skip_llm items still run during the pause
        manager.enqueue(item("llm2"))
        await settle()
        assert [key for _, key, _ in handler.processed] == ["skip-me"]
        await sleep_until(expected + 1)
        assert calls[0] == 0.0
        assert calls[1] == pytest.approx(expected, abs=1.0)
        assert sorted(key for _, key, _ in handler.processed) == ["llm", "llm2", "skip-me"]
        done = [p for p in manager.status().recent if p.target == "llm"]
        assert done[-1].attempts == 1  # the quota answer was not an attempt
        assert manager.status().quota_paused_until is None
        nursery.cancel_scope.cancel()


async def test_ledger_blocker_pauses_the_work_type(tmp_path: Path, autojump_clock: Any) -> None:
    blocked = {"until": 2}  # the first two process_result calls hit the blocker

    def process(item: WorkItem, result: RunResult) -> None:
        if item.type == "fin" and blocked["until"] > 0:
            blocked["until"] -= 1
            raise LedgerBlockedError("unresolved merge conflicts in the ledger")

    found = [item("f", "fin")]  # found once: what the blocker pauses is the queued item

    def detect() -> list[WorkItem]:
        items, found[:] = list(found), []
        return items

    fin = FnHandler("fin", build=skip_llm, process=process, detect=detect)
    other = FnHandler("other", build=skip_llm)
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, None, fin, other)
        await settle()
        status = manager.status()
        assert set(status.paused_types) == {"fin"}
        assert status.queue_depth == 1
        assert status.stats.failures == 0
        manager.enqueue(item("o", "other"))  # other types carry on
        await settle()
        assert [key for _, key, _ in other.processed] == ["o"]
        await sleep_until(TICK)
        # Paused 5 min: the retry at 300 hits the blocker again, so 10 min more.
        assert [t for t, _, _ in fin.processed] == [0.0, TICK]
        assert manager.status().queue_depth == 1
        await sleep_until(3 * TICK)
        assert [t for t, _, _ in fin.processed] == [0.0, TICK, 3 * TICK]
        assert 2 * TICK not in fin.detect_times  # detection of a paused type is skipped
        status = manager.status()
        assert status.paused_types == {}
        assert status.stats.successes == 2
        assert status.stats.blocked == 2
        assert status.stats.failures == 0
        nursery.cancel_scope.cancel()


# ---- detect lock --------------------------------------------------------------------------


async def test_detect_lock_held_elsewhere_skips_detection_but_not_force(
    tmp_path: Path, autojump_clock: Any
) -> None:
    lock = tmp_path / DETECT_LOCK
    lock.parent.mkdir(parents=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    handler = FnHandler(detect=lambda: [item("a")], build=skip_llm)
    try:
        async with trio.open_nursery() as nursery:
            manager = await start(nursery, tmp_path, None, handler)
            await sleep_until(TICK + 1)
            assert handler.detect_times == []
            assert handler.cleanups == 0
            assert await manager.force_detect() == 1
            await settle()
            assert handler.detect_times == [TICK + 1]
            assert [key for _, key, _ in handler.processed] == ["a"]
            nursery.cancel_scope.cancel()
    finally:
        os.close(fd)
    # Released: the next manager detects at its first tick.
    handler.detect_times.clear()
    async with trio.open_nursery() as nursery:
        await start(nursery, tmp_path, None, handler)
        await settle()
        assert len(handler.detect_times) == 1
        nursery.cancel_scope.cancel()


async def test_unusable_detect_lock_detects_anyway(tmp_path: Path, autojump_clock: Any) -> None:
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    (ledger / ".ox").write_text("a file where a folder should be")
    handler = FnHandler()
    async with trio.open_nursery() as nursery:
        await start(nursery, ledger, None, handler)
        await settle()
        assert handler.detect_times == [0.0]
        nursery.cancel_scope.cancel()


# ---- shutdown -----------------------------------------------------------------------------


async def test_cancel_with_a_run_in_flight_returns_promptly(tmp_path: Path) -> None:
    """Acceptance 5, on the real clock: cancellation reaches the runner within 5 s."""
    started = trio.Event()

    async def forever(request: RunRequest) -> RunResult:
        started.set()
        await trio.sleep_forever()
        raise AssertionError("unreachable")

    runner = MockRunner(forever)
    handler = FnHandler()
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            manager = Manager(runner, [handler], Config(), SyncSignal(), tmp_path)
            await nursery.start(manager.run)
            manager.enqueue(item("long"))
            await started.wait()
            nursery.cancel_scope.cancel()
    assert runner.cancelled == 1
    assert runner.active == 0
    assert handler.processed == []


# ---- config edits, timeouts ---------------------------------------------------------------


async def test_a_broken_config_provider_keeps_the_last_config(
    tmp_path: Path, autojump_clock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    handler = FnHandler(build=skip_llm)
    state = {"broken": False}

    def provider() -> AgentWorkerConfig:
        if state["broken"]:
            raise ValueError("config file is not valid TOML")
        return AgentWorkerConfig(max_concurrent=1)

    async with trio.open_nursery() as nursery:
        manager = Manager(None, [handler], provider, SyncSignal(), tmp_path)
        await nursery.start(manager.run)
        state["broken"] = True
        for key in "abc":
            manager.enqueue(item(key))
            await settle()
        await sleep_until(2 * TICK)
        assert sorted(key for _, key, _ in handler.processed) == ["a", "b", "c"]
        warnings = [r for r in caplog.records if "config provider failed" in r.getMessage()]
        assert len(warnings) == 1
        nursery.cancel_scope.cancel()


async def test_run_timeout_defaults_to_the_config_and_is_guarded(
    tmp_path: Path, autojump_clock: Any
) -> None:
    async def hang(request: RunRequest) -> RunResult:
        await trio.sleep_forever()
        raise AssertionError("unreachable")

    runner = MockRunner(hang)
    handler = FnHandler()
    results: list[WorkResult] = []
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, runner, handler, config=Config(timeout=10.0))
        manager.on_complete(results.append)
        manager.enqueue(item("h"))
        await sleep_until(41.0)
        # The runner ignored its 10 s timeout: the manager's guard (10 s + 30 s) cancelled it.
        assert runner.cancelled == 1
        assert runner.calls[0].timeout_override == 10.0
        assert manager.status().recent[-1].error == "runner did not return within 40 s"
        nursery.cancel_scope.cancel()


async def test_a_handler_timeout_override_is_kept(tmp_path: Path, autojump_clock: Any) -> None:
    runner = MockRunner()
    handler = FnHandler(build=lambda it: RunRequest(prompt="p", timeout_override=42.0))
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, runner, handler, config=Config(timeout=10.0))
        manager.enqueue(item("h"))
        await settle()
        assert runner.calls[0].timeout_override == 42.0
        nursery.cancel_scope.cancel()


async def test_lowering_max_concurrent_takes_effect(tmp_path: Path, autojump_clock: Any) -> None:
    async def slow(request: RunRequest) -> RunResult:
        await trio.sleep(10)
        return RunResult(output="ok")

    runner = MockRunner(slow)
    config = Config(max_concurrent=3)
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, runner, FnHandler(), config=config)
        for key in "abcdefg":
            manager.enqueue(item(key))
        await settle()
        assert runner.active == 3
        config.value = AgentWorkerConfig(max_concurrent=1)
        await sleep_until(10.0)
        assert runner.active == 1
        await sleep_until(20.0)
        assert runner.active == 1
        assert runner.max_active == 3
        nursery.cancel_scope.cancel()


async def test_force_detect_lifts_a_type_pause(tmp_path: Path, autojump_clock: Any) -> None:
    blocked = {"on": True}

    def detect() -> list[WorkItem]:
        if blocked["on"]:
            raise LedgerBlockedError("pushes are refused")
        return [item("x")]

    handler = FnHandler(detect=detect, build=skip_llm)
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, None, handler)
        await settle()
        assert set(manager.status().paused_types) == {"fake"}
        blocked["on"] = False
        assert await manager.force_detect() == 1
        await settle()
        assert manager.status().paused_types == {}
        assert [key for _, key, _ in handler.processed] == ["x"]
        nursery.cancel_scope.cancel()


async def test_a_past_quota_reset_still_pauses_a_minute(
    tmp_path: Path, autojump_clock: Any
) -> None:
    calls: list[float] = []

    def run(request: RunRequest) -> RunResult:
        calls.append(trio.current_time())
        if len(calls) == 1:
            return RunResult(quota=Quota("rate limit", utcnow() - timedelta(hours=1)))
        return RunResult(output="ok")

    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, MockRunner(run), FnHandler())
        manager.enqueue(item("q"))
        await sleep_until(120.0)
        assert calls == [0.0, 60.0]
        nursery.cancel_scope.cancel()


async def test_an_unauthenticated_agent_makes_llm_items_wait(
    tmp_path: Path, autojump_clock: Any
) -> None:
    runner = MockRunner(usability=AgentUsability(True, False, "not logged in"))
    handler = FnHandler(build=lambda it: RunRequest(prompt="p", skip_llm=it.dedup_key == "s"))
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, runner, handler)
        manager.enqueue(item("llm"))
        manager.enqueue(item("s"))
        await sleep_until(TICK + 1)
        status = manager.status()
        assert status.agent_type == "mock"
        assert not status.agent_available
        assert status.queue_depth == 1
        assert runner.calls == []
        assert [key for _, key, _ in handler.processed] == ["s"]
        nursery.cancel_scope.cancel()


async def test_sync_signal_wakes_every_waiter_once(autojump_clock: Any) -> None:
    signal = SyncSignal()
    woken: list[int] = []

    async def waiter(n: int) -> None:
        await signal.wait()
        woken.append(n)

    async with trio.open_nursery() as nursery:
        for n in range(3):
            nursery.start_soon(waiter, n)
        await trio.testing.wait_all_tasks_blocked()
        assert woken == []
        signal.fire()
    assert sorted(woken) == [0, 1, 2]
    assert signal.fired == 1
    with trio.move_on_after(0.01) as scope:
        await signal.wait()  # a past fire does not count for a new wait (virtual time)
    assert scope.cancelled_caught


async def test_a_manager_runs_once_at_a_time(tmp_path: Path, autojump_clock: Any) -> None:
    manager = Manager(None, [FnHandler()], Config(), SyncSignal(), tmp_path)
    async with trio.open_nursery() as nursery:
        await nursery.start(manager.run)
        with pytest.raises(RuntimeError, match="already running"):
            await manager.run()
        nursery.cancel_scope.cancel()
    # Stopped: it may run again.
    async with trio.open_nursery() as nursery:
        await nursery.start(manager.run)
        nursery.cancel_scope.cancel()
