"""WorkQueue: its invariants as properties, in one stateful test, under threads.

The invariants: dedup across queued and running keys, order by priority then age then
arrival, the depth cap, and the allowance of as many items waiting for the agent gate.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from ox_core import WorkItem, WorkQueue

KEYS = st.sampled_from(["", "a", "b", "c", "d", "e", "f"])
PRIORITIES = st.integers(min_value=0, max_value=3)


class FakeClock:
    """A wall clock that advances by one second per reading, or stands still when `frozen`."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)
        self.frozen = False

    def __call__(self) -> datetime:
        if not self.frozen:
            self.now += timedelta(seconds=1)
        return self.now


def test_enqueue_fills_id_and_created_at() -> None:
    q = WorkQueue()
    item = WorkItem(type="t", dedup_key="k")
    assert q.enqueue(item)
    assert len(item.id) == 36
    assert item.id[14] == "7"
    assert item.created_at is not None
    assert item.created_at.tzinfo is not None


def test_order_priority_then_age_then_sequence() -> None:
    clock = FakeClock()
    q = WorkQueue(clock=clock)
    old = WorkItem(type="t", priority=5, created_at=datetime(2020, 1, 1, tzinfo=UTC))
    first = WorkItem(type="t", priority=1)
    clock.frozen = True
    second = WorkItem(type="t", priority=1)  # same created_at as first: enqueue order decides
    urgent = WorkItem(type="t", priority=0)
    for item in (old, first, second, urgent):
        assert q.enqueue(item)
    assert [q.dequeue() for _ in range(4)] == [urgent, first, second, old]
    assert q.dequeue() is None


def test_dedup_while_queued_and_in_progress() -> None:
    q = WorkQueue()
    assert q.enqueue(WorkItem(type="t", dedup_key="k"))
    assert not q.enqueue(WorkItem(type="t", dedup_key="k"))
    item = q.dequeue()
    assert item is not None
    assert q.in_progress("k")
    assert not q.queued("k")
    assert not q.enqueue(WorkItem(type="t", dedup_key="k"))
    q.complete("k")
    assert not q.in_progress("k")
    assert q.enqueue(WorkItem(type="t", dedup_key="k"))
    assert q.statistics().duplicates == 2


def test_empty_key_is_never_deduplicated() -> None:
    q = WorkQueue()
    assert all(q.enqueue(WorkItem(type="t")) for _ in range(3))
    assert len(q) == 3


def test_depth_cap_rejects_and_counts() -> None:
    q = WorkQueue(max_queue_depth=2)
    assert q.enqueue(WorkItem(type="t"))
    assert q.enqueue(WorkItem(type="t"))
    assert not q.enqueue(WorkItem(type="t"))
    assert not q.enqueue(WorkItem(type="t"))
    assert q.take_rejected_count() == 2
    assert q.take_rejected_count() == 0
    assert q.dequeue() is not None  # in-progress items do not count against the cap
    assert q.enqueue(WorkItem(type="t"))


def test_requeue_keeps_place_and_drops_when_full() -> None:
    clock = FakeClock()
    q = WorkQueue(max_queue_depth=2, clock=clock)
    a = WorkItem(type="t", dedup_key="a")
    b = WorkItem(type="t", dedup_key="b")
    q.enqueue(a)
    q.enqueue(b)
    got = q.dequeue()
    assert got is a
    assert q.requeue(a)
    assert q.queued("a")
    assert not q.in_progress("a")
    assert q.dequeue() is a  # kept its created_at, so it is still ahead of b
    q.enqueue(WorkItem(type="t", dedup_key="c"))
    assert len(q) == 2
    assert not q.requeue(a)  # full: dropped, and no longer in progress
    assert not q.in_progress("a")
    assert not q.queued("a")
    assert q.statistics().dropped == 1


def test_items_waiting_for_the_agent_have_an_allowance_of_their_own() -> None:
    q = WorkQueue(max_queue_depth=2)
    taken: list[WorkItem] = []
    for key in ("a", "b", "c"):
        assert q.enqueue(WorkItem(type="t", dedup_key=key))
        taken.extend(filter(None, [q.dequeue()]))
    assert [q.requeue(item, waiting=True) for item in taken] == [True, True, False]
    assert not q.in_progress("c")
    assert (len(q), q.statistics().waiting, q.statistics().dropped) == (2, 2, 1)
    # The waiting ones leave the depth cap free for fresh items.
    assert q.enqueue(WorkItem(type="t", dedup_key="d"))
    assert q.enqueue(WorkItem(type="t", dedup_key="e"))
    assert not q.enqueue(WorkItem(type="t", dedup_key="f"))
    assert len(q) == 4
    # A waiting item taken out frees its place in the allowance, not in the cap.
    first = q.dequeue(where=lambda i: i.dedup_key == "a")
    assert first is not None
    assert q.statistics().waiting == 1
    assert not q.enqueue(WorkItem(type="t", dedup_key="f"))
    assert not q.requeue(first)  # back as a fresh item: the cap is full
    assert q.requeue(WorkItem(type="t", dedup_key="g"), waiting=True)


def test_dequeue_where_skips_without_losing_place() -> None:
    q = WorkQueue(clock=FakeClock())
    items = [WorkItem(type=t) for t in ("x", "y", "x", "y")]
    for item in items:
        q.enqueue(item)
    assert q.dequeue(where=lambda i: i.type == "y") is items[1]
    assert q.dequeue(where=lambda i: i.type == "z") is None
    assert q.items() == [items[0], items[2], items[3]]


def test_complete_unknown_key_is_noop() -> None:
    q = WorkQueue()
    q.complete("nope")
    q.complete("")
    assert q.in_progress_count() == 0
    assert len(q) == 0


def test_invalid_depth() -> None:
    with pytest.raises(ValueError, match="max_queue_depth"):
        WorkQueue(max_queue_depth=0)


@given(st.lists(st.tuples(PRIORITIES, st.integers(0, 5)), max_size=60))
def test_dequeue_order_is_priority_created_seq(specs: list[tuple[int, int]]) -> None:
    q = WorkQueue(max_queue_depth=1000)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    expected = []
    for seq, (priority, age) in enumerate(specs):
        item = WorkItem(type="t", priority=priority, created_at=base + timedelta(seconds=age))
        q.enqueue(item)
        expected.append(((priority, age, seq), item))
    expected.sort(key=lambda pair: pair[0])
    out = []
    while (item := q.dequeue()) is not None:
        out.append(item)
    assert out == [item for _, item in expected]


class QueueMachine(RuleBasedStateMachine):
    """Drives a WorkQueue against a model of queued keys, in-progress items and order."""

    @initialize(cap=st.integers(min_value=1, max_value=6))
    def setup(self, cap: int) -> None:
        self.clock = FakeClock()
        self.queue = WorkQueue(max_queue_depth=cap, clock=self.clock)
        self.cap = cap
        self.waiting: list[WorkItem] = []  # model of the queue's contents
        self.for_agent: set[str] = set()  # ids of those waiting for the agent gate
        self.in_flight: list[WorkItem] = []
        self.enqueued_ids: set[str] = set()
        self.dequeued_ids: list[str] = []
        self.seq = 0
        self.order: dict[str, tuple[int, float, int]] = {}

    def _fresh(self) -> int:
        return len(self.waiting) - len(self.for_agent)

    def _key_present(self, key: str) -> bool:
        return bool(key) and any(i.dedup_key == key for i in self.waiting + self.in_flight)

    @rule(key=KEYS, priority=PRIORITIES, freeze=st.booleans())
    def enqueue(self, key: str, priority: int, freeze: bool) -> None:
        self.clock.frozen = freeze
        item = WorkItem(type="t", dedup_key=key, priority=priority)
        expect = not self._key_present(key) and self._fresh() < self.cap
        assert self.queue.enqueue(item) is expect
        if expect:
            assert item.id not in self.enqueued_ids
            self.enqueued_ids.add(item.id)
            assert item.created_at is not None
            self.order[item.id] = (priority, item.created_at.timestamp(), self.seq)
            self.seq += 1
            self.waiting.append(item)

    @rule()
    def dequeue(self) -> None:
        item = self.queue.dequeue()
        if not self.waiting:
            assert item is None
            return
        best = min(self.waiting, key=lambda i: self.order[i.id])
        assert item is best
        self.waiting.remove(item)
        self.for_agent.discard(item.id)
        self.in_flight.append(item)
        self.dequeued_ids.append(item.id)
        if item.dedup_key:
            assert self.queue.in_progress(item.dedup_key)

    @precondition(lambda self: self.in_flight)
    @rule(data=st.data(), for_agent=st.booleans())
    def requeue(self, data: st.DataObject, for_agent: bool) -> None:
        item = data.draw(st.sampled_from(self.in_flight))
        self.in_flight.remove(item)
        used = len(self.for_agent) if for_agent else self._fresh()
        expect = used < self.cap and not self._key_present(item.dedup_key)
        assert self.queue.requeue(item, waiting=for_agent) is expect
        if expect:
            if for_agent:
                self.for_agent.add(item.id)
            priority, created, _ = self.order[item.id]
            self.order[item.id] = (priority, created, self.seq)
            self.seq += 1
            self.waiting.append(item)
            self.dequeued_ids.remove(item.id)  # it will be dequeued again

    @precondition(lambda self: self.in_flight)
    @rule(data=st.data())
    def complete(self, data: st.DataObject) -> None:
        item = data.draw(st.sampled_from(self.in_flight))
        self.in_flight.remove(item)
        self.queue.complete(item.dedup_key)
        if item.dedup_key:
            assert not self.queue.in_progress(item.dedup_key)

    @rule(key=KEYS)
    def complete_unknown(self, key: str) -> None:
        if self._key_present(key) or not key:
            return
        before = self.queue.statistics()
        self.queue.complete(key)
        assert self.queue.statistics() == before

    @invariant()
    def no_key_both_queued_and_in_progress(self) -> None:
        for item in self.queue.items():
            if item.dedup_key:
                assert not self.queue.in_progress(item.dedup_key)

    @invariant()
    def queued_keys_unique(self) -> None:
        keys = [i.dedup_key for i in self.queue.items() if i.dedup_key]
        assert len(keys) == len(set(keys))

    @invariant()
    def depth_within_cap_and_allowance(self) -> None:
        waiting = self.queue.statistics().waiting
        assert waiting == len(self.for_agent) <= self.cap
        assert len(self.queue) - waiting <= self.cap
        assert len(self.queue) == len(self.waiting)

    @invariant()
    def contents_match_model(self) -> None:
        expected = sorted(self.waiting, key=lambda i: self.order[i.id])
        assert self.queue.items() == expected
        keyed = {i.dedup_key for i in self.in_flight if i.dedup_key}
        assert self.queue.in_progress_count() == len(keyed)

    @invariant()
    def dequeued_at_most_once(self) -> None:
        assert len(self.dequeued_ids) == len(set(self.dequeued_ids))


QueueMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestQueueMachine = QueueMachine.TestCase


def test_threads_hammering_one_queue_lose_and_duplicate_nothing() -> None:
    q = WorkQueue(max_queue_depth=10_000)
    producers, per_producer = 4, 2_000
    done = threading.Event()
    taken: list[list[str]] = [[] for _ in range(4)]
    accepted: list[list[str]] = [[] for _ in range(producers)]

    def produce(n: int) -> None:
        for i in range(per_producer):
            # Every key is unique except a 10% share that collides across producers.
            key = f"dup-{i}" if i % 10 == 0 else f"p{n}-{i}"
            item = WorkItem(type="t", dedup_key=key, priority=i % 4)
            if q.enqueue(item):
                accepted[n].append(item.id)

    def consume(n: int) -> None:
        while True:
            item = q.dequeue()
            if item is None:
                if done.is_set() and len(q) == 0:
                    return
                continue
            taken[n].append(item.id)
            if len(taken[n]) % 3 == 0 and item.attempts == 0:
                item.attempts += 1
                if q.requeue(item):
                    taken[n].pop()
                continue
            q.complete(item.dedup_key)

    consumers = [threading.Thread(target=consume, args=(n,)) for n in range(4)]
    makers = [threading.Thread(target=produce, args=(n,)) for n in range(producers)]
    for t in consumers + makers:
        t.start()
    for t in makers:
        t.join()
    done.set()
    for t in consumers:
        t.join(timeout=30)
        assert not t.is_alive()
    all_accepted = [i for ids in accepted for i in ids]
    all_taken = [i for ids in taken for i in ids]
    assert len(all_taken) == len(set(all_taken)), "an item was dequeued (and finished) twice"
    assert sorted(all_taken) == sorted(all_accepted), "an accepted item was lost"
    assert len(q) == 0
    assert q.in_progress_count() == 0
    stats = q.statistics()
    assert stats.enqueued == len(all_accepted)
    assert stats.enqueued + stats.duplicates == producers * per_producer
