"""The work queue: priority order, dedup by key, a depth cap. Thread-safe, no I/O.

Order is (priority, created_at, enqueue sequence): lower priority first, then the older item,
then the one enqueued first. A requeued item keeps its `created_at`, so a retry keeps its place.

A dedup key is *present* while its item is queued or in progress; `enqueue` refuses a present
key. `dequeue` moves the key from queued to in progress, `complete` ends it, `requeue` moves it
back to queued in one step, so no duplicate can slip in between.

Items put back to wait for the agent gate (`requeue(item, waiting=True)`: no usable agent, a
quota pause, the rate limit) count against an allowance of their own, as large as the depth
cap, and not against the cap: a gate closed for days fills that allowance, never the queue, so
fresh items (work that may need no agent) still get in. At most twice the cap wait in all.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import datetime
from heapq import heappop, heappush

import attrs

from ox_core.ids import uuid7_str
from ox_core.work import WorkItem, utcnow

DEFAULT_MAX_QUEUE_DEPTH = 100


@attrs.frozen
class QueueStatistics:
    """A snapshot of a `WorkQueue`.

    `queued`: items waiting, of which `waiting` wait for the agent gate; `in_progress`: keys
    being worked on; `max_queue_depth`: the cap (and the allowance of items waiting for the
    agent gate); the rest are cumulative counters since the queue was made: `enqueued`
    (accepted), `duplicates` (refused because the key was present), `rejected` (refused because
    the queue was full), `dequeued`, `requeued`, `dropped` (requeues refused because the queue
    or the allowance was full).
    """

    queued: int
    waiting: int
    in_progress: int
    max_queue_depth: int
    enqueued: int
    duplicates: int
    rejected: int
    dequeued: int
    requeued: int
    dropped: int


def _check(item: WorkItem) -> None:
    """`TypeError` unless what the queue orders and dedups by has its type (`WorkItem` is not
    validated: a plugin's `detect` makes them)."""
    if not isinstance(item, WorkItem):
        raise TypeError(f"not a WorkItem: {type(item).__name__}")
    if not isinstance(item.dedup_key, str):
        raise TypeError(f"dedup_key must be a str, not {type(item.dedup_key).__name__}")
    if not isinstance(item.priority, int) or isinstance(item.priority, bool):
        raise TypeError(f"priority must be an int, not {type(item.priority).__name__}")
    if not isinstance(item.id, str):
        raise TypeError(f"id must be a str, not {type(item.id).__name__}")
    if item.created_at is not None and not isinstance(item.created_at, datetime):
        raise TypeError(f"created_at must be a datetime, not {type(item.created_at).__name__}")


class WorkQueue:
    """A priority queue of `WorkItem` with dedup and a depth cap.

    Every method takes one lock and never blocks on anything else, so it is safe to call from
    trio tasks and from threads (`trio.to_thread`) alike. In-progress items and items waiting
    for the agent gate do not count against `max_queue_depth`.
    """

    def __init__(
        self,
        max_queue_depth: int = DEFAULT_MAX_QUEUE_DEPTH,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if max_queue_depth < 1:
            raise ValueError(f"max_queue_depth must be at least 1, got {max_queue_depth}")
        self.max_queue_depth = max_queue_depth
        self._clock = clock
        self._lock = threading.Lock()
        # The last field is True for an item waiting for the agent gate.
        self._heap: list[tuple[int, float, int, WorkItem, bool]] = []
        self._waiting = 0  # how many heap entries wait for the agent gate
        self._queued: set[str] = set()
        self._in_progress: set[str] = set()
        self._seq = itertools.count()
        self._enqueued = 0
        self._duplicates = 0
        self._rejected = 0
        self._rejected_unreported = 0
        self._dequeued = 0
        self._requeued = 0
        self._dropped = 0

    def enqueue(self, item: WorkItem) -> bool:
        """Queue `item`; False (queuing nothing) when its key is present or the queue is full.

        Fills `item.id` (UUIDv7) and `item.created_at` (now) when they are empty. `TypeError`
        (queuing nothing) for an item whose key, priority or time is not of its type: in the
        heap it would fail every later comparison (a handler's `detect` makes the items).
        """
        _check(item)
        key = item.dedup_key
        with self._lock:
            queued = self._queued
            if key and (key in queued or key in self._in_progress):
                self._duplicates += 1
                return False
            heap = self._heap
            if len(heap) - self._waiting >= self.max_queue_depth:
                self._rejected += 1
                self._rejected_unreported += 1
                return False
            if not item.id:
                item.id = uuid7_str()
            created_at = item.created_at
            if created_at is None:
                created_at = item.created_at = self._clock()
            if key:
                queued.add(key)
            heappush(heap, (item.priority, created_at.timestamp(), next(self._seq), item, False))
            self._enqueued += 1
            return True

    def dequeue(self, where: Callable[[WorkItem], bool] | None = None) -> WorkItem | None:
        """Take the first item in order (the first for which `where` is true, if given).

        Its key moves from queued to in progress. None when there is no such item. Items that
        `where` passes over keep their place.
        """
        with self._lock:
            heap = self._heap
            if not heap:
                return None
            found: tuple[int, float, int, WorkItem, bool] | None
            if where is None:
                found = heappop(heap)
            else:
                skipped: list[tuple[int, float, int, WorkItem, bool]] = []
                found = None
                while heap:
                    entry = heappop(heap)
                    if where(entry[3]):
                        found = entry
                        break
                    skipped.append(entry)
                for entry in skipped:
                    heappush(heap, entry)
                if found is None:
                    return None
            item, waiting = found[3], found[4]
            if waiting:
                self._waiting -= 1
            key = item.dedup_key
            if key:
                self._queued.discard(key)
                self._in_progress.add(key)
            self._dequeued += 1
            return item

    def requeue(self, item: WorkItem, *, waiting: bool = False) -> bool:
        """Put an in-progress `item` back in the queue, keeping its `created_at`; `waiting`:
        it waits for the agent gate, in the allowance of such items.

        The key moves from in progress to queued atomically. Returns False, dropping the item
        (and ending its in-progress state), when the queue (or, `waiting`, the allowance) is
        full or an item with the same key is already queued.
        """
        _check(item)
        key = item.dedup_key
        with self._lock:
            if key:
                self._in_progress.discard(key)
            used = self._waiting if waiting else len(self._heap) - self._waiting
            if used >= self.max_queue_depth or (key and key in self._queued):
                self._dropped += 1
                return False
            if item.created_at is None:
                item.created_at = self._clock()
            if key:
                self._queued.add(key)
            entry = (item.priority, item.created_at.timestamp(), next(self._seq), item, waiting)
            heappush(self._heap, entry)
            if waiting:
                self._waiting += 1
            self._requeued += 1
            return True

    def complete(self, key: str) -> None:
        """End the in-progress state of `key` so it may be enqueued again. Unknown key: no-op."""
        if not key:
            return
        with self._lock:
            self._in_progress.discard(key)

    def in_progress(self, key: str) -> bool:
        """Whether `key` is in progress (dequeued and neither completed nor requeued)."""
        with self._lock:
            return key in self._in_progress

    def queued(self, key: str) -> bool:
        """Whether an item with `key` is waiting in the queue."""
        with self._lock:
            return key in self._queued

    def in_progress_count(self) -> int:
        """How many keys are in progress (items with an empty key are not tracked)."""
        with self._lock:
            return len(self._in_progress)

    def __len__(self) -> int:
        """How many items are waiting, for the agent gate or not (in-progress items are not
        counted)."""
        with self._lock:
            return len(self._heap)

    def items(self) -> list[WorkItem]:
        """The waiting items, in dequeue order (a copy)."""
        with self._lock:
            return [entry[3] for entry in sorted(self._heap)]

    def take_rejected_count(self) -> int:
        """Rejections since the last call: for one summary log line per detection cycle."""
        with self._lock:
            count, self._rejected_unreported = self._rejected_unreported, 0
            return count

    def statistics(self) -> QueueStatistics:
        with self._lock:
            return QueueStatistics(
                queued=len(self._heap),
                waiting=self._waiting,
                in_progress=len(self._in_progress),
                max_queue_depth=self.max_queue_depth,
                enqueued=self._enqueued,
                duplicates=self._duplicates,
                rejected=self._rejected,
                dequeued=self._dequeued,
                requeued=self._requeued,
                dropped=self._dropped,
            )
