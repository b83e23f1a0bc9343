"""UUIDv7 identifiers (RFC 9562): time-ordered, so ids sort by creation time.

Layout: 48-bit unix milliseconds, version 7, a 12-bit counter (rand_a) that orders ids made in
the same millisecond, variant 10, and 62 random bits (rand_b) drawn once per millisecond: the
counter makes ids of one process unique, rand_b keeps processes apart.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from typing import Any

_lock = threading.Lock()
_rng = random.Random()  # uniqueness, not secrecy: a seeded PRNG is enough
_HEX3 = [f"{i:03x}" for i in range(4096)]
# State of the current millisecond: (ms, counter, rand_b, formatted prefix, formatted suffix).
_state: list[Any] = [-1, 0, 0, "", ""]


def _next() -> tuple[int, int, int, str, str]:
    with _lock:
        state = _state
        ms = time.time_ns() // 1_000_000
        if ms <= state[0]:
            # Same (or earlier, if the wall clock stepped back) millisecond: bump the counter
            # so ids stay ordered; on overflow borrow the next millisecond.
            state[1] += 1
            if state[1] <= 0xFFF:
                return state[0], state[1], state[2], state[3], state[4]
            ms = state[0] + 1
        rand_b = _rng.getrandbits(62)
        h = f"{ms & 0xFFFF_FFFF_FFFF:012x}"
        state[:] = [
            ms,
            _rng.getrandbits(10),  # a random start leaves room for 3000+ ids in this ms
            rand_b,
            f"{h[:8]}-{h[8:]}-7",
            f"-{0x8000 | (rand_b >> 48):04x}-{rand_b & 0xFFFF_FFFF_FFFF:012x}",
        ]
        return state[0], state[1], state[2], state[3], state[4]


def uuid7() -> uuid.UUID:
    """A new UUIDv7. Monotonic within this process, even within one millisecond."""
    ms, counter, rand_b, _, _ = _next()
    value = ((ms & 0xFFFF_FFFF_FFFF) << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rand_b
    return uuid.UUID(int=value)


def uuid7_str() -> str:
    """`str(uuid7())`, without building the `UUID` object (the queue's hot path)."""
    with _lock:
        state = _state
        if time.time_ns() // 1_000_000 <= state[0] and state[1] < 0xFFF:
            state[1] += 1
            uid: str = state[3] + _HEX3[state[1]] + state[4]
            return uid
    _, counter, _, prefix, suffix = _next()
    return prefix + _HEX3[counter] + suffix
