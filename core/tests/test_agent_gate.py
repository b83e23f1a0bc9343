"""`AgentGate` alone, on an injected clock: availability, quota pause (kept on disk), rate limit."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from ox_core.agent_gate import QUOTA_FALLBACK, QUOTA_MAX, QUOTA_MIN, AgentGate
from ox_core.contracts import Quota
from ox_core.quota_store import PAUSE_FILE

EPOCH = datetime(2026, 12, 1, tzinfo=UTC)


class Clock:
    """Monotonic seconds and the wall clock, moving together."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def wall(self) -> datetime:
        return EPOCH + timedelta(seconds=self.now)


def make(ledger: Path, clock: Clock, *, agent: str = "agent", runs: int = 2) -> AgentGate:
    return AgentGate(agent, ledger, runs=runs, window=60.0, clock=clock, wall=clock.wall)


def test_no_agent_never_opens(tmp_path: Path) -> None:
    gate = make(tmp_path, Clock(), agent="")
    assert not gate.take()
    stats = gate.statistics()
    assert (stats.agent, stats.available, stats.detail) == ("", False, "no agent CLI is installed")


def test_quota_pause_bounds_and_reset_time(tmp_path: Path) -> None:
    clock = Clock()
    gate = make(tmp_path, clock)
    gate.start_quota_pause(Quota("used up", reset_at=clock.wall() - timedelta(hours=1)))
    assert gate.statistics().quota_until == clock.now + QUOTA_MIN  # a past reset still pauses
    assert gate.resume()
    gate.start_quota_pause(Quota("used up", reset_at=clock.wall() + timedelta(days=30)))
    assert gate.statistics().quota_until == clock.now + QUOTA_MAX
    gate.resume()
    gate.start_quota_pause(Quota("no time"))
    stats = gate.statistics()
    assert stats.quota_until == clock.now + QUOTA_FALLBACK
    assert stats.quota is not None
    assert stats.quota.basis == ""


def test_kept_pause_survives_a_new_gate_and_ends_by_itself(tmp_path: Path) -> None:
    clock = Clock()
    make(tmp_path, clock).start_quota_pause(Quota("limit", clock.wall() + timedelta(minutes=10)))
    assert json.loads((tmp_path / PAUSE_FILE).read_text())["message"] == "limit"
    again = make(tmp_path, clock)
    again.restore()
    assert again.paused()
    assert not again.take()
    clock.now += 600
    assert again.take()  # the pause ended: the gate opens and forgets the kept copy
    assert not (tmp_path / PAUSE_FILE).exists()


class GateMachine(RuleBasedStateMachine):
    """Random availability changes, quota answers, resumes, runs and time; the gate never
    opens while it should be closed, and never lets more runs through a window than allowed."""

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="ox-gate-"))
        self.clock = Clock()
        self.gate = make(self.dir, self.clock, runs=3)
        self.available = True
        self.pause_end: float | None = None
        self.window_start: float | None = None
        self.used = 0

    def teardown(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def _paused(self) -> bool:
        return self.pause_end is not None and self.clock.now < self.pause_end

    @rule(seconds=st.floats(0, 4000))
    def advance(self, seconds: float) -> None:
        self.clock.now += seconds

    @rule(available=st.booleans())
    def availability(self, available: bool) -> None:
        changed = self.gate.set_availability(available, "" if available else "logged out")
        assert changed == (available != self.available)
        self.available = available

    @rule(minutes=st.none() | st.integers(-90, 20_000))
    def quota(self, minutes: int | None) -> None:
        reset = None if minutes is None else self.clock.wall() + timedelta(minutes=minutes)
        self.gate.start_quota_pause(Quota("quota", reset_at=reset))
        seconds = (
            QUOTA_FALLBACK if minutes is None else min(max(minutes * 60, QUOTA_MIN), QUOTA_MAX)
        )
        end = self.clock.now + seconds
        if not self._paused() or self.pause_end is None or end > self.pause_end:
            self.pause_end = end  # a pause is never shortened by a later, shorter one

    @rule()
    def resume(self) -> None:
        assert self.gate.resume() == self._paused()
        self.pause_end = None

    @rule()
    def take(self) -> None:
        if self.window_start is None or self.clock.now - self.window_start >= 60.0:
            expired = True
        else:
            expired = False
        opened = self.gate.take()
        may = self.available and not self._paused() and (expired or self.used < 3)
        assert opened == may
        if opened:
            if expired:
                self.window_start, self.used = self.clock.now, 0
            self.used += 1

    @invariant()
    def statistics_agree(self) -> None:
        stats = self.gate.statistics()
        assert stats.available == self.available
        assert (stats.quota is not None) == self._paused() == self.gate.paused()
        if stats.quota_until is not None:
            assert stats.quota_until == self.pause_end
            assert stats.quota_until - self.clock.now <= QUOTA_MAX
        assert self.used <= 3
        assert 0 <= stats.rate.remaining <= 3

    @invariant()
    def deadlines_include_the_pause_end(self) -> None:
        if self._paused():
            assert self.pause_end in self.gate.deadlines(waiting=False)


GateMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestGate = GateMachine.TestCase
