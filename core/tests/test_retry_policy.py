"""`RetryPolicy` alone, on an injected clock: parks, type pauses, retry delays, waiting items."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from ox_core.backoff import park_window
from ox_core.contracts import RunRequest
from ox_core.retry import MAX_ATTEMPTS, RetryPolicy
from ox_core.work import WorkItem


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def item(item_id: str, work_type: str = "t") -> WorkItem:
    return WorkItem(type=work_type, dedup_key=item_id, id=item_id)


def test_retries_until_max_attempts_or_a_park() -> None:
    assert RetryPolicy.retries(MAX_ATTEMPTS - 1, parked=False)
    assert not RetryPolicy.retries(MAX_ATTEMPTS, parked=False)
    assert not RetryPolicy.retries(1, parked=True)


def test_a_blocked_type_pauses_once_with_its_reason() -> None:
    clock = Clock()
    policy = RetryPolicy(clock=clock)
    assert policy.block_type("t", "merge conflict")
    assert not policy.block_type("t", "again")  # one blocker, one pause
    (held,) = policy.statistics().paused
    assert (held.name, held.until, held.reason) == ("t", clock.now + 300, "merge conflict")
    where = policy.eligible(None, lambda: True)
    assert where is not None
    assert not where(item("a"))
    assert where(item("b", "other"))
    policy.succeeded("", "t")
    assert policy.statistics().paused == ()


def test_everything_eligible_needs_no_predicate() -> None:
    assert RetryPolicy(clock=Clock()).eligible(None, lambda: False) is None


KEYS = st.sampled_from(["a", "b", "c"])
TYPES = st.sampled_from(["t", "u"])


class RetryMachine(RuleBasedStateMachine):
    """Random failures, successes, blocks, lifts, delays and waits against a model."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.policy = RetryPolicy(clock=self.clock)
        self.failures: dict[str, int] = {}
        self.park_end: dict[str, float] = {}
        self.not_before: dict[str, float] = {}
        self.waiting: set[str] = set()

    @rule(seconds=st.floats(0, 2000))
    def advance(self, seconds: float) -> None:
        self.clock.now += seconds

    @rule(key=KEYS)
    def fail(self, key: str) -> None:
        parked = self.policy.key_failed(key, f"error of {key}")
        self.failures[key] = self.failures.get(key, 0) + 1
        window = park_window(self.failures[key], 3, 300.0, 3600.0)
        assert parked == (window > 0)
        if window:
            self.park_end[key] = self.clock.now + window

    @rule(key=KEYS, work_type=TYPES)
    def succeed(self, key: str, work_type: str) -> None:
        self.policy.succeeded(key, work_type)
        self.failures.pop(key, None)
        self.park_end.pop(key, None)

    @rule()
    def lift(self) -> None:
        self.policy.lift()
        self.park_end.clear()

    @rule(key=KEYS, seconds=st.floats(0, 500))
    def delay(self, key: str, seconds: float) -> None:
        self.policy.delay(key, seconds)
        if seconds > 0:
            self.not_before[key] = self.clock.now + seconds

    @rule(key=KEYS)
    def wait(self, key: str) -> None:
        self.policy.wait(key, RunRequest(prompt=key))
        self.waiting.add(key)

    @rule(key=KEYS)
    def forget(self, key: str) -> None:
        self.policy.forget(key)
        self.not_before.pop(key, None)
        self.waiting.discard(key)

    @invariant()
    def parks_match_the_model(self) -> None:
        now = self.clock.now
        for key in "abc":
            assert self.policy.is_parked(key) == (self.park_end.get(key, 0) > now)
        parked = self.policy.statistics().parked
        assert [h.name for h in parked] == sorted(h.name for h in parked)
        for held in parked:
            assert held.failures == self.failures[held.name] >= 3
            assert held.reason == f"error of {held.name}"

    @invariant()
    def eligibility_and_deadlines(self) -> None:
        now = self.clock.now
        for ready in (True, False):
            where = self.policy.eligible(None, lambda ready=ready: ready)
            for key in "abc":
                may = self.not_before.get(key, now) <= now and (ready or key not in self.waiting)
                assert (where is None or where(item(key))) == may
        assert all(t > now for t in self.policy.deadlines())
        for key in self.waiting:
            request = self.policy.prompt(key)
            assert request is not None
            assert request.prompt == key


RetryMachine.TestCase.settings = settings(max_examples=80, stateful_step_count=40, deadline=None)
TestRetry = RetryMachine.TestCase
