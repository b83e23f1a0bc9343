"""The manager while the agent gate stays closed: items that need the agent wait in an
allowance of their own, so work that needs no agent still gets in and runs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import trio

from ox_core import AgentUsability, Manager, MockRunner, RunRequest, WorkItem, worker
from ox_core.config import RateLimitConfig
from ox_core.queue import DEFAULT_MAX_QUEUE_DEPTH, WorkQueue
from ox_core.testing import wait_for

from .test_manager import TICK, Config, FnHandler, item, settle, sleep_until, start

LLM_SESSIONS = DEFAULT_MAX_QUEUE_DEPTH + 20
UPLOADS = 5


class Ledger:
    """Finished sessions a detection scan finds until they are processed: the LLM ones
    first (older), then uploads that need no agent."""

    def __init__(self) -> None:
        self.pending = [f"llm-{n:03}" for n in range(LLM_SESSIONS)]
        self.pending += [f"upload-{n}" for n in range(UPLOADS)]

    def detect(self) -> list[WorkItem]:
        return [item(key) for key in self.pending]

    @staticmethod
    def build(work: WorkItem) -> RunRequest:
        return RunRequest(prompt="summarize", skip_llm=work.dedup_key.startswith("upload-"))

    def processed(self, work: WorkItem, _result: Any) -> None:
        self.pending.remove(work.dedup_key)


async def test_items_waiting_for_a_closed_gate_do_not_turn_away_work_without_agent(
    tmp_path: Path, autojump_clock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ox_core.manager")
    runner = MockRunner(usability=AgentUsability(True, False, "not logged in"))
    ledger = Ledger()
    built: list[str] = []

    def build(work: WorkItem) -> RunRequest:
        built.append(work.dedup_key)
        return ledger.build(work)

    handler = FnHandler(detect=ledger.detect, build=build, process=ledger.processed)
    config = Config(rate_limit=RateLimitConfig(runs=1000, window=60.0))
    async with trio.open_nursery() as nursery:
        manager = await start(nursery, tmp_path, runner, handler, config=config)
        await sleep_until(3 * TICK + 1)
        # The uploads are published although a full queue's worth of sessions waits.
        assert [key for _, key, _ in handler.processed] == [f"upload-{n}" for n in range(UPLOADS)]
        assert runner.calls == []
        status = manager.status()
        assert status.queue_depth == DEFAULT_MAX_QUEUE_DEPTH
        assert status.agent_waiting == DEFAULT_MAX_QUEUE_DEPTH
        assert status.stats.failures == 0
        # The sessions past the waiting allowance were let go, not failed; later scans do
        # not build their prompts again only to let them go again.
        assert status.stats.deferred == LLM_SESSIONS - DEFAULT_MAX_QUEUE_DEPTH
        assert built.count(f"llm-{LLM_SESSIONS - 1:03}") == 1
        assert status.errors == []
        told = [r for r in caplog.records if "let go" in r.getMessage()]
        assert len(told) == 1

        # The agent logs in: the waiting sessions run, the next scans find the others again.
        runner._usability = AgentUsability(True, True, "mock")
        # The autojump clock does not wait on threads: let a tick's check still out with the
        # old answer land first (virtual time may pass meanwhile), then check as a tick would.
        await wait_for("the last check", lambda: not manager._worker.refreshing, limit=86400)
        await manager._refresh_agent()
        assert manager.status().agent_available
        await sleep_until(trio.current_time() + 2 * TICK)
        assert ledger.pending == []
        assert len(runner.calls) == LLM_SESSIONS
        assert manager.status().stats.failures == 0
        nursery.cancel_scope.cancel()


async def test_a_forced_scan_takes_back_the_keys_let_go(
    tmp_path: Path, autojump_clock: Any
) -> None:
    runner = MockRunner(usability=AgentUsability(True, False, "not logged in"))
    built: list[str] = []

    def build(work: WorkItem) -> RunRequest:
        built.append(work.dedup_key)
        return RunRequest(prompt="summarize")

    handler = FnHandler(detect=lambda: [item("a"), item("b")], build=build)
    manager = Manager(runner, [handler], Config(), None, tmp_path, queue=WorkQueue(1))
    async with trio.open_nursery() as nursery:
        await nursery.start(manager.run)
        await sleep_until(2 * TICK + 1)
        assert built == ["a", "b"]  # b let go at the second scan, refused at the third
        assert manager.status().stats.deferred == 1
        await manager.force_detect()
        await settle()
        assert built == ["a", "b", "b"]
        assert manager.status().stats.deferred == 2
        nursery.cancel_scope.cancel()


async def test_keys_let_go_are_kept_within_a_bound(
    tmp_path: Path, autojump_clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A handler whose keys change at every scan (a new key per detection) must not grow
    the kept keys without end while the gate stays closed."""
    monkeypatch.setattr(worker, "DEFERRED_KEYS_MAX", 3)
    runner = MockRunner(usability=AgentUsability(True, False, "not logged in"))
    scans = iter(range(1_000_000))
    handler = FnHandler(detect=lambda: [item(f"scan-{next(scans)}") for _ in range(2)])
    manager = Manager(runner, [handler], Config(), None, tmp_path, queue=WorkQueue(1))
    async with trio.open_nursery() as nursery:
        await nursery.start(manager.run)
        await sleep_until(10 * TICK + 1)
        assert manager.status().stats.deferred > 3
        assert len(manager._worker.deferred) == 3
        nursery.cancel_scope.cancel()
