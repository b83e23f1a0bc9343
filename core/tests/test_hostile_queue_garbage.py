"""A handler's `detect` that returns a WorkItem with a garbage priority (None here) must be
refused as an unusable item (as a non-WorkItem is), never reach the queue's heap: there every
later comparison with it raises, in the dispatcher or a worker slot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from ox_core import (
    AgentWorkerConfig,
    Manager,
    RunRequest,
    RunResult,
    SyncSignal,
    WorkHandler,
    WorkItem,
)
from ox_core.queue import WorkQueue


class H(WorkHandler):
    def __init__(self, work_type: str, found: list[WorkItem]) -> None:
        self.type = work_type  # type: ignore[misc]
        self.found = found
        self.processed: list[str] = []
        self.release = trio.Event()

    async def detect(self, ledger: Path) -> list[WorkItem]:
        found, self.found = self.found, []
        return found

    async def build_prompt(self, item: WorkItem) -> RunRequest:
        return RunRequest(skip_llm=True)

    async def process_result(self, item: WorkItem, result: RunResult) -> None:
        if item.dedup_key == "g0":
            await self.release.wait()
        self.processed.append(item.dedup_key)


async def test_a_garbage_priority_from_detect_is_refused_and_the_queue_goes_on(
    tmp_path: Path, autojump_clock: Any
) -> None:
    good = H("good", [])
    bad = H("bad", [])
    config = AgentWorkerConfig(max_concurrent=1)
    manager = Manager(None, [good, bad], lambda: config, SyncSignal(), tmp_path)
    async with trio.open_nursery() as nursery:
        await nursery.start(manager.run)
        for key in ("g0", "g1", "g2"):
            assert manager.enqueue(WorkItem(type="good", dedup_key=key))
        await trio.testing.wait_all_tasks_blocked()  # g0 runs; g1, g2 wait
        bad.found = [WorkItem(type="bad", dedup_key="b", priority=None)]  # type: ignore[arg-type]
        try:
            await manager.force_detect()
        except TypeError as exc:  # current code: the IPC call fails (internal error)
            print("force_detect raised", exc)
        good.release.set()
        await trio.testing.wait_all_tasks_blocked()
        assert good.processed == ["g0", "g1", "g2"]
        nursery.cancel_scope.cancel()


def test_the_queue_refuses_a_garbage_item_and_stays_usable() -> None:
    q = WorkQueue()
    for key in ("a", "c", "d"):
        q.enqueue(WorkItem(type="t", dedup_key=key))
    with pytest.raises((TypeError, ValueError)):
        q.enqueue(WorkItem(type="t", dedup_key="b", priority="high"))  # type: ignore[arg-type]
    assert not q.queued("b")  # no ghost key: a good item "b" may be queued later
    assert [q.dequeue().dedup_key for _ in range(3)] == ["a", "c", "d"]  # type: ignore[union-attr]
