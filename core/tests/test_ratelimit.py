"""RateLimiter with an injected clock: refill at the window, never more than max per window."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ox_core import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_tokens_run_out_then_refill_completely_at_the_window() -> None:
    clock = Clock()
    rl = RateLimiter(3, 60.0, clock=clock)
    assert rl.remaining() == 3
    assert [rl.allow() for _ in range(4)] == [True, True, True, False]
    assert rl.remaining() == 0
    clock.t += 59.999
    assert not rl.allow()
    clock.t += 0.001  # exactly one window after the first call
    assert rl.remaining() == 3  # right after expiry: a full bucket, nothing taken
    assert rl.allow()
    assert rl.remaining() == 2


def test_window_restarts_at_first_call_after_expiry() -> None:
    clock = Clock()
    rl = RateLimiter(2, 10.0, clock=clock)
    assert rl.allow()  # window starts at 1000
    clock.t = 1025.0  # long after expiry
    assert rl.allow()  # window restarts at 1025, not at 1010 or 1020
    assert rl.allow()
    clock.t = 1034.9
    assert not rl.allow()
    assert rl.next_refill() == 1035.0
    clock.t = 1035.0
    assert rl.allow()


def test_remaining_does_not_take_or_restart() -> None:
    clock = Clock()
    rl = RateLimiter(1, 10.0, clock=clock)
    assert rl.next_refill() is None
    for _ in range(5):
        assert rl.remaining() == 1
    assert rl.next_refill() is None
    assert rl.allow()
    stats = rl.statistics()
    assert (stats.allowed, stats.refused, stats.remaining) == (1, 0, 0)


def test_zero_tokens_refuses_everything() -> None:
    rl = RateLimiter(0, 1.0, clock=Clock())
    assert not rl.allow()
    assert rl.statistics().refused == 1


def test_reconfigure_keeps_used_tokens() -> None:
    rl = RateLimiter(5, 60.0, clock=Clock())
    assert rl.allow()
    assert rl.allow()
    rl.reconfigure(3, 60.0)
    assert rl.remaining() == 1
    rl.reconfigure(1, 60.0)
    assert rl.remaining() == 0


@pytest.mark.parametrize(("tokens", "window"), [(-1, 1.0), (1, 0.0), (1, -5.0)])
def test_invalid_limits(tokens: int, window: float) -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        RateLimiter(tokens, window)


@settings(max_examples=200)
@given(
    max_tokens=st.integers(0, 5),
    window=st.floats(1.0, 100.0),
    steps=st.lists(st.floats(0.0, 40.0), max_size=80),
)
def test_never_more_than_max_tokens_per_window(
    max_tokens: int, window: float, steps: list[float]
) -> None:
    clock = Clock()
    rl = RateLimiter(max_tokens, window, clock=clock)
    start: float | None = None  # the model: a fixed window opened by the first call after expiry
    used = 0
    grants: list[tuple[float, float]] = []  # (time, start of its window)
    for dt in steps:
        clock.t += dt
        if start is None or clock.t - start >= window:
            start, used = clock.t, 0
        expected = used < max_tokens
        assert rl.allow() is expected
        if expected:
            used += 1
            grants.append((clock.t, start))
        assert rl.remaining() == max_tokens - used
    # max_tokens + 1 consecutive grants never fit in one window.
    for (_, first_start), (later, _) in zip(grants, grants[max_tokens:], strict=False):
        assert later >= first_start + window


def test_concurrent_threads_never_exceed_the_bucket() -> None:
    rl = RateLimiter(500, 3600.0)
    granted = []
    lock = threading.Lock()

    def worker() -> None:
        mine = sum(rl.allow() for _ in range(300))
        with lock:
            granted.append(mine)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(granted) == 500
    assert rl.remaining() == 0
