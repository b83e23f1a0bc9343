"""A handler whose `detect` returns a flood of unusable items (dicts instead of `WorkItem`s,
fields of the wrong type): one detection failure is recorded for the pass, not one per item
(each was a warning in the log and a `detect failed` record pushing real work out of
`status`'s recent list), and its usable items are still queued and run."""

# ruff: noqa: ASYNC110 - the test polls what the manager's tasks did

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import trio

from ox_core import AgentWorkerConfig, Manager, RunRequest, RunResult, WorkHandler, WorkItem
from ox_core.manager import SyncSignal

FLOOD = 10_000


class FloodHandler(WorkHandler):
    type = "flood"

    def __init__(self) -> None:
        self.done: list[str] = []

    async def detect(self, ledger: Path) -> list[Any]:
        garbage: list[Any] = [{"type": "flood", "key": f"k{i}"} for i in range(FLOOD)]
        garbage.append(WorkItem(type="flood", dedup_key="bad-priority", priority="high"))  # type: ignore[arg-type]
        return [*garbage, WorkItem(type="flood", dedup_key="real")]

    async def build_prompt(self, item: WorkItem) -> RunRequest:
        return RunRequest(skip_llm=True)

    async def process_result(self, item: WorkItem, result: RunResult) -> None:
        self.done.append(item.dedup_key)


async def test_a_flood_of_unusable_items_is_one_detection_failure(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ox_core.manager")
    handler = FloodHandler()
    manager = Manager(None, [handler], AgentWorkerConfig, SyncSignal(), tmp_path)
    async with trio.open_nursery() as nursery:
        await nursery.start(manager.run)
        with trio.fail_after(60):
            while handler.done != ["real"]:
                await trio.sleep(0.01)
        status = manager.status()
        nursery.cancel_scope.cancel()
    assert status.stats.detect_errors == 1
    [problem] = status.errors
    assert (problem.work_type, problem.target, problem.count) == ("flood", "detect", 1)
    assert problem.error == (
        f"detect failed: TypeError: detect returned {FLOOD + 1} unusable items; the first: "
        "{'type': 'flood', 'key': 'k0'}"
    )
    assert [r.target for r in status.recent] == ["detect", "real"]
    assert len([r for r in caplog.records if "unusable" in r.getMessage()]) == 1
