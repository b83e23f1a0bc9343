"""Property test of the manager (acceptance 6): random sequences of enqueue, force_detect,
sync signals, config edits, time passing and runner / handler outcomes, on a `MockClock`.

Checked: every accepted item ends exactly once, is still queued or in flight at the end, or
was let go to wait for the agent (`deferred`, at most once); `successes + failures ==
finished`; the queue never holds more than its cap of fresh items nor more than as many
waiting for the agent; every runner call is counted.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import trio
import trio.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ox_core import (
    AgentWorkerConfig,
    LedgerBlockedError,
    Manager,
    MockRunner,
    Quota,
    RunRequest,
    RunResult,
    SyncSignal,
    WorkHandler,
    WorkItem,
    WorkResult,
)
from ox_core.config import RateLimitConfig
from ox_core.queue import WorkQueue

CAP = 4
KEYS = ["k0", "k1", "k2", "k3", "k4", "k5", ""]

RUNNER_OUTCOMES = st.sampled_from(["ok", "ok", "error", "quota", "raise", "slow"])
HANDLER_OUTCOMES = st.sampled_from(["ok", "ok", "ok", "raise", "blocked", "bad-prompt"])

OPS = st.one_of(
    st.tuples(st.just("enqueue"), st.sampled_from(KEYS), st.booleans()),
    st.tuples(st.just("force_detect")),
    st.tuples(st.just("sync")),
    st.tuples(st.just("sleep"), st.floats(min_value=0, max_value=1200, allow_nan=False)),
    st.tuples(st.just("config"), st.integers(min_value=1, max_value=3), st.booleans()),
)


class RandomHandler(WorkHandler):
    type = "prop"

    def __init__(self, outcomes: list[str], found: list[list[tuple[str, bool]]]) -> None:
        self._outcomes = itertools.cycle(outcomes)
        self._found = itertools.cycle(found) if found else None
        self.detected: list[WorkItem] = []

    async def detect(self, ledger: Path) -> list[WorkItem]:
        if self._found is None:
            return []
        items = [
            WorkItem(type="prop", dedup_key=key, payload={"skip": skip})
            for key, skip in next(self._found)
        ]
        self.detected.extend(items)
        return items

    async def build_prompt(self, item: WorkItem) -> RunRequest:
        if next(self._outcomes) == "bad-prompt":
            raise ValueError("cannot build")
        return RunRequest(prompt="p", skip_llm=item.payload["skip"])

    async def process_result(self, item: WorkItem, result: RunResult) -> None:
        await trio.sleep(1)
        outcome = next(self._outcomes)
        if outcome == "raise":
            raise RuntimeError("process failed")
        if outcome == "blocked":
            raise LedgerBlockedError("merge conflicts")


def make_runner(outcomes: list[str]) -> MockRunner:
    cycle = itertools.cycle(outcomes)

    async def run(request: RunRequest) -> RunResult:
        outcome = next(cycle)
        await trio.sleep(5)
        if outcome == "slow":
            await trio.sleep(200)
        if outcome == "error":
            return RunResult(exit_code=1, error="agent crashed")
        if outcome == "quota":
            return RunResult(exit_code=1, quota=Quota("usage limit reached"))
        if outcome == "raise":
            raise OSError("cannot spawn")
        return RunResult(output="fine")

    return MockRunner(run)


async def scenario(
    tmp: Path,
    ops: list[tuple[Any, ...]],
    runner_outcomes: list[str],
    handler_outcomes: list[str],
    found: list[list[tuple[str, bool]]],
    max_concurrent: int,
) -> None:
    runner = make_runner(runner_outcomes)
    handler = RandomHandler(handler_outcomes, found)
    rate = RateLimitConfig(runs=5, window=600.0)
    config = AgentWorkerConfig(max_concurrent=max_concurrent, rate_limit=rate)
    peak = max_concurrent
    queue = WorkQueue(max_queue_depth=CAP)
    signal = SyncSignal()
    manager = Manager(runner, [handler], lambda: config, signal, tmp, queue=queue)
    ended: list[WorkResult] = []
    manager.on_complete(ended.append)
    enqueued: list[WorkItem] = []
    depths: list[tuple[int, int]] = []  # (fresh, waiting for the agent)

    def sample(_result: object = None) -> None:
        stats = queue.statistics()
        depths.append((stats.queued - stats.waiting, stats.waiting))

    # The queue grows only through enqueue (ops, detection) and requeue (inside a worker):
    # sample it after every op and whenever an item ends.
    manager.on_complete(sample)

    async with trio.open_nursery() as nursery:
        await nursery.start(manager.run)
        for op in ops:
            if op[0] == "enqueue":
                work = WorkItem(type="prop", dedup_key=op[1], payload={"skip": op[2]})
                enqueued.append(work)
                accepted = manager.enqueue(work)
                assert accepted == bool(work.id)
            elif op[0] == "force_detect":
                await manager.force_detect()
            elif op[0] == "sync":
                signal.fire()
            elif op[0] == "config":
                # Edits apply on the next cycle; runs already in flight may finish above it.
                config = AgentWorkerConfig(max_concurrent=op[1], enabled=op[2], rate_limit=rate)
                peak = max(peak, op[1])
            else:
                await trio.sleep(op[1])
            sample()
        await trio.sleep(4000)
        status = manager.status()
        queued = [w.id for w in queue.items()]
        in_flight = [p.item_id for p in status.active]
        nursery.cancel_scope.cancel()

    assert all(fresh <= CAP and waiting <= CAP for fresh, waiting in depths)
    ended_ids = [r.item.id for r in ended]
    assert len(ended_ids) == len(set(ended_ids)), "an item ended twice"
    accepted_ids = {w.id for w in [*enqueued, *handler.detected] if w.id}
    places = ended_ids + queued + in_flight
    assert len(places) == len(set(places)), "an item is in two places at once"
    assert set(places) <= accepted_ids
    stats = status.stats
    assert len(accepted_ids - set(places)) == stats.deferred, "an item was lost"
    assert stats.successes + stats.failures == stats.finished == len(ended)
    assert stats.successes == sum(1 for r in ended if r.ok)
    assert stats.total_invocations == len(runner.calls)
    assert runner.max_active <= peak
    for result in ended:
        assert result.item.attempts <= 3


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=st.lists(OPS, max_size=25),
    runner_outcomes=st.lists(RUNNER_OUTCOMES, min_size=1, max_size=8),
    handler_outcomes=st.lists(HANDLER_OUTCOMES, min_size=1, max_size=8),
    found=st.lists(
        st.lists(st.tuples(st.sampled_from(KEYS), st.booleans()), max_size=6), max_size=4
    ),
    max_concurrent=st.integers(min_value=1, max_value=3),
)
def test_manager_random_sequences(
    tmp_path: Path,
    ops: list[tuple[Any, ...]],
    runner_outcomes: list[str],
    handler_outcomes: list[str],
    found: list[list[tuple[str, bool]]],
    max_concurrent: int,
) -> None:
    clock = trio.testing.MockClock(autojump_threshold=0)
    trio.run(
        scenario,
        tmp_path,
        ops,
        runner_outcomes,
        handler_outcomes,
        found,
        max_concurrent,
        clock=clock,
    )
