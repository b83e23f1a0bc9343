"""Failure counts with parking windows: a plain sync object with an injected clock, no I/O.

The manager keeps two: one per dedup key (an item that keeps failing is *parked*: not enqueued
again for a while) and one per work type (a ledger-wide blocker *pauses* the whole type).

After `threshold` consecutive failures of a name, it is parked for
`base × 2^(failures − threshold)` seconds, capped at `cap`. A success clears the count;
`lift` ends the parks but keeps the counts, so the next failure parks again at once, for longer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import attrs

DEFAULT_THRESHOLD = 3
DEFAULT_BASE = 300.0
DEFAULT_CAP = 3600.0


def park_window(failures: int, threshold: int, base: float, cap: float) -> float:
    """Seconds parked after `failures` consecutive failures (0 below `threshold`)."""
    if failures < threshold:
        return 0.0
    # The exponent is clamped so a name failing forever cannot overflow the float.
    return min(base * 2.0 ** min(failures - threshold, 64), cap)


@attrs.frozen
class BackoffStatistics:
    """`failing`: names with a failure count; `parked`: names parked now; `parks`: parks started."""

    failing: int
    parked: int
    parks: int


class Backoff:
    """Consecutive-failure counts by name, and the parks they cause.

    `clock` returns seconds (monotonic); the manager passes `trio.current_time`. Thread-safe.
    """

    def __init__(
        self,
        *,
        threshold: int = DEFAULT_THRESHOLD,
        base: float = DEFAULT_BASE,
        cap: float = DEFAULT_CAP,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if threshold < 1 or base <= 0 or cap < base:
            raise ValueError(
                f"need threshold >= 1, 0 < base <= cap; got {threshold}, {base}, {cap}"
            )
        self.threshold = threshold
        self.base = float(base)
        self.cap = float(cap)
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, int] = {}
        self._until: dict[str, float] = {}
        self._parks = 0

    def window(self, failures: int) -> float:
        """Seconds parked after `failures` consecutive failures."""
        return park_window(failures, self.threshold, self.base, self.cap)

    def record_failure(self, name: str) -> float | None:
        """Count a failure of `name`. Returns the clock time its park ends if this failure
        parked it (the caller logs one warning then), else None."""
        with self._lock:
            count = self._failures.get(name, 0) + 1
            self._failures[name] = count
            window = self.window(count)
            if window <= 0:
                return None
            until = self._clock() + window
            self._until[name] = until
            self._parks += 1
            return until

    def record_success(self, name: str) -> None:
        """Clear the count and any park of `name`."""
        # Hot path (every successful item): a lock-free look first; a name added concurrently
        # is a failure racing this success, and either order is a valid outcome.
        if name not in self._failures and name not in self._until:
            return
        with self._lock:
            self._failures.pop(name, None)
            self._until.pop(name, None)

    def failures(self, name: str) -> int:
        """Consecutive failures of `name` so far."""
        with self._lock:
            return self._failures.get(name, 0)

    def parked_until(self, name: str) -> float | None:
        """The clock time at which the park of `name` ends, or None when it is not parked."""
        if not self._until:  # hot path: nothing parked (a lock-free read of one dict)
            return None
        with self._lock:
            until = self._until.get(name)
            if until is None:
                return None
            if self._clock() >= until:
                del self._until[name]
                return None
            return until

    def is_parked(self, name: str) -> bool:
        """Whether `name` is parked now."""
        return self.parked_until(name) is not None

    def parked(self) -> dict[str, float]:
        """Every name parked now, with the clock time its park ends."""
        if not self._until:
            return {}
        with self._lock:
            now = self._clock()
            for name in [n for n, until in self._until.items() if now >= until]:
                del self._until[name]
            return dict(self._until)

    def next_expiry(self) -> float | None:
        """The earliest clock time at which a park ends, or None when nothing is parked."""
        parked = self.parked()
        return min(parked.values()) if parked else None

    def lift(self) -> int:
        """End every park now (counts are kept); returns how many were lifted."""
        with self._lock:
            now = self._clock()
            lifted = sum(1 for until in self._until.values() if now < until)
            self._until.clear()
            return lifted

    def statistics(self) -> BackoffStatistics:
        parked = len(self.parked())
        with self._lock:
            return BackoffStatistics(failing=len(self._failures), parked=parked, parks=self._parks)
