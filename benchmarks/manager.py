"""Manager throughput: `skip_llm` items through `ox_core.Manager` against a bare loop.

The baseline calls the same handler methods (`build_prompt`, then `process_result`) directly,
one item after the other, in one trio task. The manager run enqueues every item through
`Manager.enqueue` and waits until the last one has ended (`on_complete`), so it pays for the
queue (ids, dedup, priority order), the worker tasks, the records and the callbacks.

Two handlers: `no-op` (its methods return at once) and `checkpoint` (each method yields to
trio once, as any handler doing I/O does). Best of 5 interleaved rounds each.

    uv run python benchmarks/manager.py [--items 20000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import _stdlib_queue  # noqa: F401 - before trio: see that module
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

REQUEST = RunRequest(skip_llm=True)
EMPTY = RunResult()


class NoopHandler(WorkHandler):
    type = "bench"

    async def detect(self, ledger: Path) -> list[WorkItem]:
        return []

    async def build_prompt(self, item: WorkItem) -> RunRequest:
        return REQUEST

    async def process_result(self, item: WorkItem, result: RunResult) -> None:
        return None


class CheckpointHandler(NoopHandler):
    async def build_prompt(self, item: WorkItem) -> RunRequest:
        await trio.lowlevel.checkpoint()
        return REQUEST

    async def process_result(self, item: WorkItem, result: RunResult) -> None:
        await trio.lowlevel.checkpoint()


def make_items(n: int) -> list[WorkItem]:
    return [WorkItem(type="bench", dedup_key=f"item-{i}") for i in range(n)]


async def baseline(handler: WorkHandler, n: int) -> float:
    items = make_items(n)
    began = time.perf_counter()
    for item in items:
        request = await handler.build_prompt(item)
        await handler.process_result(item, EMPTY)
        assert request.skip_llm
    return time.perf_counter() - began


async def through_manager(handler: WorkHandler, n: int, ledger: Path) -> float:
    items = make_items(n)
    config = AgentWorkerConfig()
    manager = Manager(
        None,
        [handler],
        lambda: config,
        SyncSignal(),
        ledger,
        queue=WorkQueue(max_queue_depth=n),
    )
    done = trio.Event()
    ended = 0

    def count(_result: object) -> None:
        nonlocal ended
        ended += 1
        if ended == n:
            done.set()

    manager.on_complete(count)
    async with trio.open_nursery() as nursery:
        await nursery.start(manager.run)
        await trio.testing.wait_all_tasks_blocked()  # the first doctor tick is done
        began = time.perf_counter()
        for item in items:
            if not manager.enqueue(item):
                raise RuntimeError("enqueue refused an item")
        await done.wait()
        elapsed = time.perf_counter() - began
        stats = manager.status().stats
        if stats.successes != n or stats.failures:
            raise RuntimeError(f"unexpected stats {stats}")
        nursery.cancel_scope.cancel()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    n = args.items

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, handler in (("no-op", NoopHandler()), ("checkpoint", CheckpointHandler())):
            # Interleaved rounds, so a burst of load on the machine hits both sides alike.
            bases, manageds = [], []
            for _ in range(args.rounds):
                bases.append(trio.run(baseline, handler, n))
                manageds.append(trio.run(through_manager, handler, n, Path(tmp)))
            base, managed = min(bases), min(manageds)
            rows.append((name, n / base, n / managed, base / managed))
    print(f"{n} skip_llm items, best of {args.rounds} rounds, max_concurrent=4")
    print(f"{'handler':<12} {'baseline items/s':>17} {'manager items/s':>16} {'ratio':>7}")
    for name, base_rate, managed_rate, ratio in rows:
        print(f"{name:<12} {base_rate:>17,.0f} {managed_rate:>16,.0f} {ratio:>7.2f}")
    print("goal: manager >= 0.5 x baseline")


if __name__ == "__main__":
    main()
