"""Outcome history: the work in flight, the last finished, and cumulative counts. Sync.

Each attempt of an item (and each failed handler step) is one `WorkRecord`, mutable while it
runs and left as it was once it ends. `statistics()` gives a frozen view: the counts
(`WorkCounts`) and the records in flight and recent (the status turns them into JSON with
cattrs, computing the duration of the ones still running).
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Literal

import attrs

RECENT_SIZE = 10

ProcessStatus = Literal["running", "waiting", "completed", "failed"]

COUNTS = (
    "total_invocations",
    "successes",
    "failures",
    "retries",
    "waits",
    "blocked",
    "detect_errors",
    "runs_ok",
    "runs_failed",
    "runs_quota",
)


@attrs.define(slots=True)
class WorkRecord:
    """One attempt of an item (`target`: its dedup key, or its id) or one failed handler step
    (`item_id` empty, `target` the step). `started_at` is UTC, `started` the manager's clock;
    `duration` is set when it ends. `outcome`/`reason`: what happened, in the handler's
    words when it said (see `AgentProcess`)."""

    item_id: str
    work_type: str
    target: str
    started_at: datetime
    started: float
    status: ProcessStatus = "running"
    duration: float = 0.0
    error: str = ""
    exit_code: int | None = None
    attempts: int = 0
    skip_llm: bool = False
    outcome: str = ""
    reason: str = ""


@attrs.frozen
class WorkCounts:
    """Cumulative counts since the manager started (meanings: see `AgentWorkStats`)."""

    total_invocations: int = 0
    successes: int = 0
    failures: int = 0
    retries: int = 0
    waits: int = 0
    blocked: int = 0
    detect_errors: int = 0
    runs_ok: int = 0
    runs_failed: int = 0
    runs_quota: int = 0
    outcomes: dict[str, int] = attrs.Factory(dict)


@attrs.frozen
class WorkStatistics:
    """`counts`, the records in flight (`active`) and the last finished (`recent`, newest
    last). The records are the live ones: read them, do not keep them."""

    counts: WorkCounts
    active: tuple[WorkRecord, ...]
    recent: tuple[WorkRecord, ...]


class WorkHistory:
    """Counts by name (see `COUNTS`), outcomes by kind, records in flight and recent."""

    def __init__(self, *, recent: int = RECENT_SIZE) -> None:
        self.counts = dict.fromkeys(COUNTS, 0)
        self._outcomes: dict[str, int] = {}
        self._active: dict[str, WorkRecord] = {}
        self._recent: deque[WorkRecord] = deque(maxlen=recent)

    def count(self, name: str) -> None:
        self.counts[name] += 1

    def begin(self, record: WorkRecord) -> None:
        self._active[record.item_id] = record

    def leave(self, record: WorkRecord) -> None:
        """`record` is no longer in flight (ended, waiting or cancelled)."""
        self._active.pop(record.item_id, None)

    def end(self, record: WorkRecord, status: ProcessStatus, error: str, now: float) -> None:
        """`record` ended as `status` at clock time `now`: into the recent ones."""
        record.status = status
        record.error = error
        record.duration = now - record.started
        self._recent.append(record)

    def finished(self, outcome: str, *, ok: bool) -> None:
        """An item ended for good, `ok` or not, with `outcome`."""
        self.counts["successes" if ok else "failures"] += 1
        self._outcomes[outcome] = self._outcomes.get(outcome, 0) + 1

    def statistics(self) -> WorkStatistics:
        return WorkStatistics(
            counts=WorkCounts(**self.counts, outcomes=dict(self._outcomes)),
            active=tuple(self._active.values()),
            recent=tuple(self._recent),
        )
