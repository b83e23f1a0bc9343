"""`Backoff`: failure counts, parking windows that double up to a cap, lifts and successes."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ox_core.backoff import Backoff, park_window


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_window_table_of_the_spec() -> None:
    # 5 min × 2^(n−3) from the third failure, capped at 1 h.
    windows = [park_window(n, 3, 300.0, 3600.0) for n in range(1, 9)]
    assert windows == [0, 0, 300, 600, 1200, 2400, 3600, 3600]
    assert park_window(10_000, 3, 300.0, 3600.0) == 3600.0  # no overflow


def test_parks_on_the_third_failure_and_expires() -> None:
    clock = FakeClock()
    backoff = Backoff(clock=clock)
    assert backoff.record_failure("k") is None
    assert backoff.record_failure("k") is None
    assert not backoff.is_parked("k")
    assert backoff.record_failure("k") == clock.now + 300
    assert backoff.is_parked("k")
    assert backoff.parked() == {"k": clock.now + 300}
    clock.now += 299.9
    assert backoff.is_parked("k")
    clock.now += 0.1
    assert not backoff.is_parked("k")
    assert backoff.failures("k") == 3
    assert backoff.record_failure("k") == clock.now + 600


def test_success_clears_and_lift_keeps_the_count() -> None:
    clock = FakeClock()
    backoff = Backoff(clock=clock)
    for _ in range(3):
        backoff.record_failure("k")
    assert backoff.lift() == 1
    assert not backoff.is_parked("k")
    assert backoff.record_failure("k") == clock.now + 600  # parked again at once, longer
    backoff.record_success("k")
    assert backoff.failures("k") == 0
    assert not backoff.is_parked("k")
    assert backoff.statistics().parks == 2


def test_threshold_one_pauses_at_once() -> None:
    clock = FakeClock()
    backoff = Backoff(threshold=1, clock=clock)
    assert backoff.record_failure("type") == clock.now + 300
    assert backoff.record_failure("type") == clock.now + 600


@pytest.mark.parametrize(
    ("threshold", "base", "cap"), [(0, 300.0, 3600.0), (3, 0.0, 3600.0), (3, 300.0, 100.0)]
)
def test_bad_parameters_are_refused(threshold: int, base: float, cap: float) -> None:
    with pytest.raises(ValueError, match="need threshold"):
        Backoff(threshold=threshold, base=base, cap=cap)


NAMES = st.sampled_from(["a", "b", "c"])


class BackoffModel(RuleBasedStateMachine):
    """The object against a dict model of counts and park ends."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.backoff = Backoff(threshold=3, base=300.0, cap=3600.0, clock=self.clock)
        self.counts: dict[str, int] = {}
        self.until: dict[str, float] = {}

    @rule(name=NAMES)
    def fail(self, name: str) -> None:
        count = self.counts.get(name, 0) + 1
        self.counts[name] = count
        got = self.backoff.record_failure(name)
        if count < 3:
            assert got is None
        else:
            expected = self.clock.now + min(300.0 * 2 ** (count - 3), 3600.0)
            assert got == expected
            self.until[name] = expected

    @rule(name=NAMES)
    def succeed(self, name: str) -> None:
        self.backoff.record_success(name)
        self.counts.pop(name, None)
        self.until.pop(name, None)

    @rule(seconds=st.floats(min_value=0, max_value=5000, allow_nan=False))
    def advance(self, seconds: float) -> None:
        self.clock.now += seconds

    @precondition(lambda self: bool(self.until))
    @rule()
    def lift(self) -> None:
        live = sum(1 for t in self.until.values() if self.clock.now < t)
        assert self.backoff.lift() == live
        self.until.clear()

    @invariant()
    def agrees_with_the_model(self) -> None:
        now = self.clock.now
        live = {n: t for n, t in self.until.items() if now < t}
        assert self.backoff.parked() == live
        for name in ("a", "b", "c"):
            assert self.backoff.is_parked(name) == (name in live)
            assert self.backoff.failures(name) == self.counts.get(name, 0)
            # Parked only with at least `threshold` failures, never longer than the cap.
            if name in live:
                assert self.counts[name] >= 3
                assert live[name] - now <= 3600.0 + 1e-6  # float sums
        assert self.backoff.next_expiry() == (min(live.values()) if live else None)


TestBackoffModel = BackoffModel.TestCase
TestBackoffModel.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
