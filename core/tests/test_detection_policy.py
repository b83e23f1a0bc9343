"""`DetectionPolicy` alone: the cooldown on an injected clock, the cross-process detect lock."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from ox_core.detection import DETECT_LOCK, DetectionPolicy


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


STEPS = st.lists(
    st.tuples(st.floats(0, 400), st.booleans(), st.booleans(), st.booleans()), max_size=40
)


@given(STEPS)
def test_due_follows_the_cooldown(steps: list[tuple[float, bool, bool, bool]]) -> None:
    """Due iff enabled, not paused, and forced or never detected or 300 s since the last;
    a type that is not due keeps its cooldown where it was."""
    clock = Clock()
    policy = DetectionPolicy(Path("/nonexistent"), cooldown=300.0, clock=clock)
    last: float | None = None
    started = 0
    for seconds, enabled, paused, forced in steps:
        clock.now += seconds
        due = policy.due("t", enabled=enabled, paused=paused, forced=forced)
        expected = enabled and not paused and (forced or last is None or clock.now - last >= 300)
        assert due == expected
        if due:
            last, started = clock.now, started + 1
    stats = policy.statistics()
    assert stats.detections == started
    assert stats.last == ((("t", last),) if last is not None else ())


def test_one_process_detects_at_a_time(tmp_path: Path) -> None:
    first = DetectionPolicy(tmp_path, clock=Clock())
    second = DetectionPolicy(tmp_path, clock=Clock())
    with first.lock(forced=False) as held:
        assert held
        with second.lock(forced=False) as other:
            assert not other  # another open file holds the flock
        with second.lock(forced=True) as forced:
            assert forced  # a forced pass ignores the lock
    with second.lock(forced=False) as free:
        assert free  # released when the first pass ended
    assert second.statistics().skipped == 1


def test_a_symlinked_lock_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    lock = tmp_path / DETECT_LOCK
    lock.parent.mkdir(parents=True)
    os.symlink(target, lock)
    with DetectionPolicy(tmp_path, clock=Clock()).lock(forced=False) as held:
        assert held  # the lock is unusable: detection runs anyway
    assert not target.exists()


def test_the_lock_never_makes_a_moved_ledger_again(tmp_path: Path) -> None:
    # The ledger renamed while the daemon runs: the next detection pass made
    # `<old path>/.ox/cache/` (a ghost ledger) with `mkdir(parents=True)`.
    ledger = tmp_path / "team" / "ledger"
    with DetectionPolicy(ledger, clock=Clock()).lock(forced=False) as held:
        assert held  # the lock is unusable: detection runs anyway (and finds the ledger gone)
    assert not (tmp_path / "team").exists()


def test_the_lock_never_follows_a_linked_ox_folder(tmp_path: Path) -> None:
    # `.ox` as a link (a teammate's commit): the lock would be made where it points.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    (ledger / ".ox").symlink_to(elsewhere)
    with DetectionPolicy(ledger, clock=Clock()).lock(forced=False) as held:
        assert held
    assert list(elsewhere.iterdir()) == []


def test_a_kept_quota_pause_never_makes_a_moved_ledger_or_follows_a_link(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from ox_core.quota_store import QuotaPause, save

    now = datetime.now(UTC)
    pause = QuotaPause(until=now + timedelta(hours=1), message="limit", basis="", since=now)
    save(tmp_path / "team" / "ledger", pause)
    assert not (tmp_path / "team").exists()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    (ledger / ".ox").symlink_to(elsewhere)
    save(ledger, pause)
    assert list(elsewhere.iterdir()) == []
