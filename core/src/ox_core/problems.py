"""Standing errors: the last failure of each target that has not succeeded since. Sync, no I/O.

A target is an item's dedup key (its id when it has none) or a handler step (`detect`,
`cleanup`). Its next success clears it. At most `MAX_PROBLEMS` are kept: beyond that the one
that recurred longest ago goes (its target may be gone for good: a deleted session never
succeeds to clear it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import attrs

from ox_core.status import Problem

MAX_PROBLEMS = 50


class StandingErrors:
    """The standing errors (`Problem` records) by (work type, target); `wall` is the UTC
    clock."""

    def __init__(self, *, wall: Callable[[], datetime], limit: int = MAX_PROBLEMS) -> None:
        self._wall = wall
        self._limit = limit
        self._errors: dict[tuple[str, str], Problem] = {}

    def note(self, work_type: str, target: str, error: str) -> None:
        """Remember `error` as the standing failure of `target` (its age and count kept)."""
        now = self._wall()
        key = (work_type, target)
        old = self._errors.get(key)
        if old is not None:
            self._errors[key] = attrs.evolve(old, error=error, last=now, count=old.count + 1)
            return
        if len(self._errors) >= self._limit:
            del self._errors[min(self._errors, key=lambda k: self._errors[k].last)]
        self._errors[key] = Problem(
            work_type=work_type, target=target, error=error, first=now, last=now
        )

    def clear(self, work_type: str, target: str) -> None:
        """`target` succeeded: its error no longer stands."""
        if self._errors:  # hot path: nothing stands
            self._errors.pop((work_type, target), None)

    def __len__(self) -> int:
        return len(self._errors)

    def statistics(self) -> tuple[Problem, ...]:
        """The errors standing now, oldest noted first."""
        return tuple(self._errors.values())
