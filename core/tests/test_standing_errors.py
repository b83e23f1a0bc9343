"""`StandingErrors` and `WorkHistory` alone: the records behind `status` errors and stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from ox_core.history import COUNTS, WorkHistory
from ox_core.problems import StandingErrors
from ox_core.status import AgentProcess

T0 = datetime(2026, 12, 1, tzinfo=UTC)
ITEM_COUNTS = ("successes", "failures")  # counted by `finished`
TARGETS = st.sampled_from([f"k{i}" for i in range(8)])


class ErrorsMachine(RuleBasedStateMachine):
    """Notes and clears against a model, with a limit of 4: never more than 4 stand, the one
    evicted is the one that recurred longest ago, counts and first times are kept."""

    def __init__(self) -> None:
        super().__init__()
        self.tick = 0
        self.errors = StandingErrors(wall=self.wall, limit=4)
        self.model: dict[str, tuple[str, int, int, int]] = {}  # error, first, last, count

    def wall(self) -> datetime:
        return T0 + timedelta(seconds=self.tick)

    @rule(name=TARGETS, error=st.sampled_from(["boom", "bang"]))
    def note(self, name: str, error: str) -> None:
        self.tick += 1
        self.errors.note("t", name, error)
        old = self.model.get(name)
        if old is None:
            if len(self.model) >= 4:
                del self.model[min(self.model, key=lambda k: self.model[k][2])]
            self.model[name] = (error, self.tick, self.tick, 1)
        else:
            self.model[name] = (error, old[1], self.tick, old[3] + 1)

    @rule(name=TARGETS)
    def clear(self, name: str) -> None:
        self.errors.clear("t", name)
        self.model.pop(name, None)

    @invariant()
    def matches(self) -> None:
        got = {
            e.target: (
                e.error,
                int((e.first - T0).total_seconds()),
                int((e.last - T0).total_seconds()),
                e.count,
            )
            for e in self.errors.statistics()
        }
        assert got == self.model
        assert len(self.errors) <= 4


ErrorsMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
TestStandingErrors = ErrorsMachine.TestCase


@given(
    st.lists(
        st.tuples(st.sampled_from(["completed", "failed", "published"]), st.integers(0, 10)),
        max_size=30,
    ),
    st.lists(st.sampled_from([c for c in COUNTS if c not in ITEM_COUNTS]), max_size=30),
)
def test_history_counts_and_keeps_the_last_ten(
    ends: list[tuple[str, int]], counted: list[str]
) -> None:
    now = [0]
    history = WorkHistory(clock=lambda: now[0])
    for name in counted:
        history.count(name)
    for i, (outcome, took) in enumerate(ends):
        record = AgentProcess(
            item_id=str(i), work_type="t", target=str(i), started_at=T0, started=now[0]
        )
        history.begin(record)
        now[0] += took
        (active,) = history.statistics().active
        assert active.duration == took  # a copy, with the duration so far
        assert record.duration == 0
        history.finished(outcome, ok=outcome != "failed")
        history.end(record, "failed" if outcome == "failed" else "completed", "")
        history.leave(record)
        assert record.duration == took
    stats = history.statistics()
    assert stats.active == ()
    assert [r.item_id for r in stats.recent] == [str(i) for i in range(len(ends))][-10:]
    counts = stats.counts
    assert counts.failures == sum(1 for o, _ in ends if o == "failed")
    assert counts.successes + counts.failures == len(ends)
    assert sum(counts.outcomes.values()) == len(ends)
    for name in set(COUNTS) - set(ITEM_COUNTS):
        assert getattr(counts, name) == counted.count(name)
