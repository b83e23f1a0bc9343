"""What the manager's `status` tells: what holds work back (with until-times and reasons), what
happened to each item (the handler's `Outcome`), standing errors that clear on success, item
and run counts apart, and the quota pause kept in the ledger's cache across a restart.

MockClock with autojump, as in test_manager.py (whose helpers are reused).
"""

from __future__ import annotations

import json
import logging
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import trio

from ox_core import (
    AgentUsability,
    LedgerBlockedError,
    Manager,
    MockRunner,
    Outcome,
    Quota,
    RunRequest,
    RunResult,
    SyncSignal,
    WorkItem,
    WorkResult,
)
from ox_core.config import RateLimitConfig
from ox_core.manager import MAX_ATTEMPTS, MAX_PROBLEMS
from ox_core.quota_store import PAUSE_FILE
from ox_core.work import utcnow

from .test_manager import TICK, Config, FnHandler, item, settle, skip_llm, sleep_until, start


def kinds(manager: Manager) -> dict[str, list[str]]:
    holds: dict[str, list[str]] = {}
    for hold in manager.status().holds:
        holds.setdefault(hold.kind, []).append(hold.name)
    return holds


async def test_outcomes_are_told_and_errors_clear_when_the_work_succeeds(
    tmp_path: Path, autojump_clock: Any
) -> None:
    failing = {"k": 2}

    def process(it: WorkItem, result: RunResult) -> Any:
        if failing.get(it.dedup_key, 0) > 0:
            failing[it.dedup_key] -= 1
            raise RuntimeError("git push refused")
        return None

    class Told(FnHandler):
        async def process_result(self, it: WorkItem, result: RunResult) -> Outcome | None:
            await super().process_result(it, result)
            if it.dedup_key == "brief":
                return Outcome("discarded", "the session was brief")
            if it.dedup_key == "garbled":
                return Outcome("published without summary", "the answer is not JSON")
            return None

    handler = Told(process=process)
    results: list[WorkResult] = []
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, MockRunner(), handler)
        manager.on_complete(results.append)
        for key in ("brief", "garbled", "plain", "k"):
            manager.enqueue(item(key))
        await settle()
        status = manager.status()
        told = {p.target: (p.outcome, p.reason) for p in status.recent}
        assert told["brief"] == ("discarded", "the session was brief")
        assert told["garbled"] == ("published without summary", "the answer is not JSON")
        assert told["plain"] == ("completed", "")
        assert told["k"] == ("failed", "process_result failed: RuntimeError: git push refused")
        assert [r.outcome for r in results if r.item.dedup_key == "brief"] == [
            Outcome("discarded", "the session was brief")
        ]
        # Items and runs are counted apart: four runs answered, one item then failed.
        assert status.stats.total_invocations == 4
        assert (status.stats.runs_ok, status.stats.runs_failed) == (4, 0)
        assert (status.stats.successes, status.stats.failures) == (3, 1)
        assert status.stats.outcomes == {
            "discarded": 1,
            "published without summary": 1,
            "completed": 1,
            "failed": 1,
        }
        [problem] = status.errors
        assert (problem.target, problem.count) == ("k", 1)
        assert "git push refused" in problem.error
        first = problem.first

        await trio.sleep(60)
        manager.enqueue(item("k"))
        await settle()
        [problem] = manager.status().errors
        assert problem.count == 2
        assert problem.first == first  # its age runs from the first failure
        assert problem.last >= first

        await trio.sleep(60)
        manager.enqueue(item("k"))  # fixed now: the error goes away
        await settle()
        assert manager.status().errors == []
        assert manager.status().recent[-1].outcome == "completed"
        nursery.cancel_scope.cancel()


async def test_a_failing_detect_is_an_error_until_detect_works(
    tmp_path: Path, autojump_clock: Any
) -> None:
    broken = {"on": True}

    def detect() -> list[WorkItem]:
        if broken["on"]:
            raise PermissionError("ledger not readable")
        return []

    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, MockRunner(), FnHandler(detect=detect))
        await settle()
        [problem] = manager.status().errors
        assert (problem.work_type, problem.target) == ("fake", "detect")
        broken["on"] = False
        await sleep_until(TICK + 1)
        assert manager.status().errors == []
        nursery.cancel_scope.cancel()


async def test_holds_name_every_state_with_its_end_and_reason(
    tmp_path: Path, autojump_clock: Any
) -> None:
    def run(request: RunRequest) -> RunResult:
        if request.prompt == "quota":
            reset = utcnow() + timedelta(minutes=2)
            return RunResult(
                exit_code=1, quota=Quota("5 requests per minute", reset, basis="retry in 2 min")
            )
        return RunResult(exit_code=1, error="agent crashed")

    blocked = FnHandler(
        "review",
        build=skip_llm,
        process=lambda it, r: (_ for _ in ()).throw(LedgerBlockedError("merge conflicts")),
    )
    handler = FnHandler(build=lambda it: RunRequest(prompt=it.dedup_key))
    config = Config(disabled_types=frozenset({"docs"}), rate_limit=RateLimitConfig(runs=4))
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, MockRunner(run), handler, blocked, config=config)
        assert kinds(manager) == {"disabled_type": ["docs"]}
        for _ in range(3):  # three failures in a row park the key
            manager.enqueue(item("bad", attempts=MAX_ATTEMPTS - 1))
            await settle()
        manager.enqueue(item("r", work_type="review"))
        await settle()
        manager.enqueue(item("quota"))
        await settle()
        holds = {h.kind: h for h in manager.status().holds}
        # Four runs of four in the window are used: the rate limit holds too.
        assert set(holds) == {"quota", "paused_type", "disabled_type", "parked", "rate_limit"}
        now = utcnow()
        quota = holds["quota"]
        assert quota.until is not None
        assert abs((quota.until - now).total_seconds() - 120) < 2
        assert quota.reason == "5 requests per minute (read from 'retry in 2 min')"
        assert holds["paused_type"].name == "review"
        assert holds["paused_type"].reason == "merge conflicts"
        assert holds["paused_type"].until is not None
        assert holds["parked"].name == "bad"
        assert holds["parked"].reason.endswith("last: agent crashed")
        assert holds["disabled_type"].until is None
        state = manager.status()
        assert state.quota is not None
        assert state.quota.basis == "retry in 2 min"
        assert (state.stats.runs_failed, state.stats.runs_quota) == (3, 1)
        limit = holds["rate_limit"]
        assert limit.until is not None
        assert limit.until > utcnow() + timedelta(minutes=59)
        assert "all 4 agent runs" in limit.reason
        nursery.cancel_scope.cancel()


async def test_holds_tell_no_agent_and_disabled_work(tmp_path: Path, autojump_clock: Any) -> None:
    runner = MockRunner(usability=AgentUsability(True, False, "not logged in (auth status)"))
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, runner, FnHandler(), config=Config(enabled=False))
        holds = {h.kind: h for h in manager.status().holds}
        assert holds["no_agent"].name == "mock"
        assert holds["no_agent"].reason == "not logged in (auth status)"
        assert holds["disabled"].reason.startswith("agent work is disabled")
        nursery.cancel_scope.cancel()
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, None, FnHandler())
        assert [h.kind for h in manager.status().holds] == ["no_agent"]
        nursery.cancel_scope.cancel()


async def test_sync_state_is_told(tmp_path: Path, autojump_clock: Any) -> None:
    signal = SyncSignal()
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, MockRunner(), FnHandler(), signal=signal)
        assert (manager.status().syncs, manager.status().last_sync_at) == (0, None)
        signal.fire()
        await settle()
        assert manager.status().syncs == 1
        assert manager.status().last_sync_at is not None
        nursery.cancel_scope.cancel()


def quota_run(seconds: float | None) -> Any:
    def run(request: RunRequest) -> RunResult:
        if request.prompt == "hit":
            reset = None if seconds is None else utcnow() + timedelta(seconds=seconds)
            basis = "" if seconds is None else f"try again in {seconds:.0f} seconds"
            return RunResult(exit_code=1, quota=Quota("Rate limit reached", reset, basis=basis))
        return RunResult(output="ok")

    return run


async def test_the_quota_pause_survives_a_restart_and_resume_lifts_it(
    tmp_path: Path, autojump_clock: Any
) -> None:
    handler = FnHandler(build=lambda it: RunRequest(prompt="hit" if it.dedup_key == "a" else "p"))
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, MockRunner(quota_run(600)), handler)
        manager.enqueue(item("a"))
        await settle()
        before = manager.status().quota
        assert before is not None
        nursery.cancel_scope.cancel()
    kept = json.loads((tmp_path / PAUSE_FILE).read_text())
    assert kept["basis"] == "try again in 600 seconds"

    runner = MockRunner(quota_run(None))
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, runner, handler)
        after = manager.status().quota
        assert after is not None
        assert abs((after.until - before.until).total_seconds()) < 1
        assert (after.message, after.basis, after.since) == (
            before.message,
            before.basis,
            before.since,
        )
        manager.enqueue(item("b"))
        await settle()
        assert runner.calls == []  # still paused
        await manager.force_detect()
        assert manager.status().quota is not None  # a plain detect does not lift it
        await manager.force_detect(resume=True)
        await settle()
        assert manager.status().quota is None
        assert [r.prompt for r in runner.calls] == ["p"]
        assert not (tmp_path / PAUSE_FILE).exists()
        nursery.cancel_scope.cancel()


async def test_the_pause_ends_on_time_and_the_kept_copy_goes(
    tmp_path: Path, autojump_clock: Any
) -> None:
    hit = quota_run(90)
    prompts: list[str] = []

    def run(request: RunRequest) -> RunResult:
        prompts.append(request.prompt)
        return hit(request) if len(prompts) == 1 else RunResult(output="ok")

    handler = FnHandler(build=lambda it: RunRequest(prompt="hit" if it.dedup_key == "a" else "p"))
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, MockRunner(run), handler)
        manager.enqueue(item("a"))
        await settle()
        manager.enqueue(item("b"))
        await settle()
        assert (tmp_path / PAUSE_FILE).exists()
        await sleep_until(89)
        assert prompts == ["hit"]
        await sleep_until(92)
        assert sorted(prompts) == ["hit", "hit", "p"]
        assert manager.status().quota is None
        assert not (tmp_path / PAUSE_FILE).exists()
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[1, 2]",
        b'{"until": 12}',
        b'{"until": "yesterday"}',
        b"\xff\xfe",
        b'{"until": "' + b"9" * 70_000 + b'"}',
        b"[" * 5000 + b"]" * 5000,  # nested beyond Python's recursion limit
    ],
)
async def test_a_corrupt_kept_pause_is_ignored_with_a_warning(
    tmp_path: Path, autojump_clock: Any, caplog: pytest.LogCaptureFixture, content: bytes
) -> None:
    path = tmp_path / PAUSE_FILE
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    runner = MockRunner()
    with caplog.at_level(logging.WARNING, logger="ox_core.quota_store"):
        async with trio.open_nursery() as nursery:
            manager = await start(nursery, tmp_path, runner, FnHandler())
            assert manager.status().quota is None
            manager.enqueue(item("a"))
            await settle()
            assert len(runner.calls) == 1
            nursery.cancel_scope.cancel()
    assert any("ignoring the kept quota pause" in r.getMessage() for r in caplog.records)


async def test_a_kept_pause_that_is_a_symlink_or_over_is_not_taken_up(
    tmp_path: Path, autojump_clock: Any
) -> None:
    path = tmp_path / PAUSE_FILE
    path.parent.mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere.json"
    future = (utcnow() + timedelta(hours=2)).isoformat()
    elsewhere.write_text(json.dumps({"until": future, "message": "m", "since": future}))
    os.symlink(elsewhere, path)
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, MockRunner(), FnHandler())
        assert manager.status().quota is None  # a symlink is not followed
        nursery.cancel_scope.cancel()
    path.unlink()
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    path.write_text(json.dumps({"until": past, "message": "m", "since": past}))
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, MockRunner(), FnHandler())
        assert manager.status().quota is None
        nursery.cancel_scope.cancel()
    assert not path.exists()  # an old pause is removed
    assert elsewhere.exists()


async def test_standing_errors_are_bounded(tmp_path: Path, autojump_clock: Any) -> None:
    def process(it: WorkItem, result: RunResult) -> None:
        raise RuntimeError(f"refused {it.dedup_key}")

    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, MockRunner(), FnHandler(process=process))
        for n in range(MAX_PROBLEMS + 5):
            manager.enqueue(item(f"k{n}"))
            await settle()
        targets = [p.target for p in manager.status().errors]
        assert len(targets) == MAX_PROBLEMS
        assert "k0" not in targets
        assert f"k{MAX_PROBLEMS + 4}" in targets
        nursery.cancel_scope.cancel()
