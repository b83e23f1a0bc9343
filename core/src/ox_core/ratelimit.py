"""A token bucket that refills completely once its window has passed. Thread-safe, no I/O."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import attrs

DEFAULT_MAX_TOKENS = 60
DEFAULT_WINDOW = 3600.0


@attrs.frozen
class RateLimiterStatistics:
    """`remaining` tokens now, of `max_tokens` per `window` seconds; `refused` so far."""

    max_tokens: int
    window: float
    remaining: int
    allowed: int
    refused: int


class RateLimiter:
    """At most `max_tokens` grants per `window` seconds.

    The window starts at the first call and, once it has expired, restarts at the first call
    after that, with a full bucket. `clock` returns seconds (monotonic); the manager passes
    `trio.current_time` so tests can drive it with a `MockClock`.
    """

    def __init__(
        self,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        window: float = DEFAULT_WINDOW,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_tokens < 0 or window <= 0:
            raise ValueError(f"need max_tokens >= 0 and window > 0, got {max_tokens}, {window}")
        self._max_tokens = max_tokens
        self._window = float(window)
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = max_tokens
        self._window_start: float | None = None
        self._allowed = 0
        self._refused = 0

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    @property
    def window(self) -> float:
        return self._window

    def _expired(self, now: float) -> bool:
        return self._window_start is None or now - self._window_start >= self._window

    def allow(self) -> bool:
        """Take a token: True if one was left in the current window, else False."""
        with self._lock:
            now = self._clock()
            if self._expired(now):
                self._window_start = now
                self._tokens = self._max_tokens
            if self._tokens > 0:
                self._tokens -= 1
                self._allowed += 1
                return True
            self._refused += 1
            return False

    def remaining(self) -> int:
        """Tokens left now: the full bucket once the window has expired. Takes nothing."""
        with self._lock:
            return self._max_tokens if self._expired(self._clock()) else self._tokens

    def next_refill(self) -> float | None:
        """The clock time at which the current window expires; None before the first call."""
        with self._lock:
            return None if self._window_start is None else self._window_start + self._window

    def reconfigure(self, max_tokens: int, window: float) -> None:
        """Apply new limits (config edits): tokens already used in this window stay used."""
        if max_tokens < 0 or window <= 0:
            raise ValueError(f"need max_tokens >= 0 and window > 0, got {max_tokens}, {window}")
        with self._lock:
            used = self._max_tokens - self._tokens
            self._max_tokens = max_tokens
            self._window = float(window)
            self._tokens = max(0, max_tokens - used)

    def statistics(self) -> RateLimiterStatistics:
        remaining = self.remaining()
        with self._lock:
            return RateLimiterStatistics(
                max_tokens=self._max_tokens,
                window=self._window,
                remaining=remaining,
                allowed=self._allowed,
                refused=self._refused,
            )
