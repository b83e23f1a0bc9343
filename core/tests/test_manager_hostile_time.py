"""The manager against hostile time and hostile runners: a machine that sleeps through a
quota pause, a runner whose quota answer is not of its declared shape.

MockClock with autojump, as in test_manager.py (whose helpers are reused). A laptop's suspend
is the wall clock moving on while trio's clock (monotonic: it stops during a suspend) stands.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trio

from ox_core import Manager, MockRunner, Quota, RunRequest, RunResult, SyncSignal, WorkItem
from ox_core.quota_store import PAUSE_FILE
from ox_core.work import utcnow

from .test_manager import TICK, Config, FnHandler, item, settle, sleep_until, start


class Wall:
    """A wall clock the test moves by hand (a suspend moves it, not trio's clock)."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


async def test_a_quota_pause_ends_at_its_reset_time_when_the_machine_slept_through_it(
    tmp_path: Path, autojump_clock: Any
) -> None:
    wall = Wall()
    prompts: list[str] = []

    def run(request: RunRequest) -> RunResult:
        prompts.append(request.prompt)
        if len(prompts) == 1:
            reset = wall() + timedelta(hours=1)
            return RunResult(exit_code=1, quota=Quota("usage limit", reset, basis="resets 3pm"))
        return RunResult(output="ok")

    handler = FnHandler()
    manager = Manager(MockRunner(run), [handler], Config(), SyncSignal(), tmp_path, clock=wall)
    async with trio.open_nursery() as nursery:
        await nursery.start(manager.run)
        manager.enqueue(item("a"))
        await settle()
        assert manager.status().quota is not None
        wall.now += timedelta(hours=8)  # the lid closed for the night: trio's clock stood
        await sleep_until(TICK + 1)  # the next doctor tick after the wake-up
        assert manager.status().quota is None
        assert [key for _, key, _ in handler.processed] == ["a"]
        assert not (tmp_path / PAUSE_FILE).exists()
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize(
    "quota",
    [
        # A third-party runner's parsed 429, as it came: attrs does not check the types.
        Quota("rate limit", "2035-01-01T00:00:00Z"),  # type: ignore[arg-type]
        Quota("rate limit", float("nan")),  # type: ignore[arg-type]
        Quota("rate limit", 1e300),  # type: ignore[arg-type]
        Quota("rate limit", "in 10 years", basis="in 10 years"),  # type: ignore[arg-type]
        Quota(ValueError("rate limit")),  # type: ignore[arg-type]
        "rate limit",
    ],
    ids=["iso-string", "nan", "huge-number", "words", "message-not-text", "not-a-quota"],
)
async def test_a_quota_answer_with_fields_of_another_type_still_pauses(
    tmp_path: Path, autojump_clock: Any, quota: Any
) -> None:
    prompts: list[str] = []

    def run(request: RunRequest) -> RunResult:
        prompts.append(request.prompt)
        return RunResult(exit_code=1, quota=quota)

    handler = FnHandler()
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, MockRunner(run), handler)
        for key in ("a", "b", "c"):
            manager.enqueue(item(key))
        await settle()
        pause = manager.status().quota
        assert pause is not None
        assert pause.until - pause.since == timedelta(hours=1)  # the agent did not say: 1 h
        assert pause.message == "rate limit"
        assert len(prompts) == 1  # paused at the first answer, not burnt through the queue
        assert manager.status().queue_depth == 3
        assert manager.status().to_json()["quota"] is not None
        nursery.cancel_scope.cancel()


async def test_a_key_parked_for_a_failing_build_prompt_says_why(
    tmp_path: Path, autojump_clock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def build(_item: WorkItem) -> RunRequest:
        raise ValueError("the transcript is gone")

    handler = FnHandler(detect=lambda: [item("s1")], build=build)
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, MockRunner(), handler)
        await sleep_until(2 * TICK + 1)  # detected and failed at 0, 300 and 600 s
        parked = [hold for hold in manager.status().holds if hold.kind == "parked"]
        assert [hold.name for hold in parked] == ["s1"]
        assert "the transcript is gone" in parked[0].reason
        warnings = [r.getMessage() for r in caplog.records if "parked" in r.getMessage()]
        assert len(warnings) == 1
        assert "the transcript is gone" in warnings[0]
        nursery.cancel_scope.cancel()
