"""Outcome history: the work in flight, the last finished, and cumulative counts. Sync.

Each attempt of an item (and each failed handler step) is one `AgentProcess` record, updated
while it runs and left as it was once it ends. `statistics()` gives a frozen view: the counts
(`AgentWorkStats`) and the records in flight (copies, with their duration so far) and recent.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import attrs

from ox_core.status import AgentProcess, AgentWorkStats, ProcessStatus

RECENT_SIZE = 10

COUNTS = tuple(field.name for field in attrs.fields(AgentWorkStats) if field.type in ("int", int))
"""The counts of `AgentWorkStats` (`successes`/`failures` are counted by `finished`)."""


@attrs.frozen
class WorkStatistics:
    """`counts`, the records in flight (`active`) and the last finished (`recent`, newest
    last)."""

    counts: AgentWorkStats
    active: tuple[AgentProcess, ...]
    recent: tuple[AgentProcess, ...]


class WorkHistory:
    """Counts by name (see `COUNTS`), outcomes by kind, records in flight and recent.
    `clock` is the manager's clock (monotonic seconds)."""

    def __init__(self, *, clock: Callable[[], float], recent: int = RECENT_SIZE) -> None:
        self._clock = clock
        self.counts = dict.fromkeys(COUNTS, 0)
        self._outcomes: dict[str, int] = {}
        self._active: dict[str, AgentProcess] = {}
        self._recent: deque[AgentProcess] = deque(maxlen=recent)

    def count(self, name: str) -> None:
        self.counts[name] += 1

    def begin(self, record: AgentProcess) -> None:
        self._active[record.item_id] = record

    def leave(self, record: AgentProcess) -> None:
        """`record` is no longer in flight (ended, waiting or cancelled)."""
        self._active.pop(record.item_id, None)

    def end(self, record: AgentProcess, status: ProcessStatus, error: str) -> None:
        """`record` ended as `status` now: into the recent ones."""
        record.status = status
        record.error = error
        record.duration = self._clock() - record.started
        self._recent.append(record)

    def finished(self, outcome: str, *, ok: bool) -> None:
        """An item ended for good, `ok` or not, with `outcome`."""
        self.counts["successes" if ok else "failures"] += 1
        self._outcomes[outcome] = self._outcomes.get(outcome, 0) + 1

    def statistics(self) -> WorkStatistics:
        now = self._clock()
        return WorkStatistics(
            counts=AgentWorkStats(**self.counts, outcomes=dict(self._outcomes)),
            active=tuple(
                attrs.evolve(r, duration=now - r.started) if r.status == "running" else r
                for r in self._active.values()
            ),
            recent=tuple(self._recent),
        )
