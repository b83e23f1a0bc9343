"""The crash journal: every crash point of a batch append settles to exactly one
copy of the batch, and a journal that matches nothing is refused without touching anything."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ox_session_capture import journal as journal_mod
from ox_session_capture.journal import (
    JournalError,
    RecordingGone,
    Settled,
    durable_append,
    settle_journal,
)
from ox_session_capture.records import (
    JOURNAL,
    MARKER,
    RAW,
    AppendJournal,
    RecordingMarker,
    atomic_write_model,
    read_marker,
)

HEADER = b'{"_meta":{"schema_version":"1"}}\n'
BATCH = b'{"type":"user","content":"one"}\n{"type":"assistant","content":"two"}\n'


@pytest.fixture
def session(tmp_path: Path) -> Path:
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / RAW).write_bytes(HEADER)
    atomic_write_model(folder / MARKER, RecordingMarker(source_offset=100, entry_count=3))
    return folder


def advance(marker: RecordingMarker) -> None:
    marker.source_offset = 250
    marker.entry_count += 2


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes() for p in sorted(folder.iterdir()) if not p.name.endswith(".lock")
    }


def test_a_clean_append_leaves_no_journal(session: Path) -> None:
    marker = durable_append(session, BATCH, 100, 250, advance)
    assert (marker.source_offset, marker.entry_count) == (250, 5)
    assert (session / RAW).read_bytes() == HEADER + BATCH
    assert not (session / JOURNAL).exists()
    assert settle_journal(session) is Settled.NONE


class Crash(BaseException):
    """Stands for `kill -9`: nothing after the crash point runs."""


class Plan:
    def __init__(self, point: int) -> None:
        self.point = point
        self.count = 0

    def tick(self) -> None:
        self.count += 1
        if self.count == self.point:
            raise Crash


def install_crash(monkeypatch: pytest.MonkeyPatch, point: int) -> Plan:
    """Make the n-th durable step of `durable_append` (journal write, data write, fsync,
    marker update, journal removal) crash; a data write crashes half-way through."""
    plan = Plan(point)
    real_write_model = journal_mod.atomic_write_model
    real_update = journal_mod.update_marker
    real_remove = journal_mod._remove_journal
    real_os_write = os.write
    real_fsync = os.fsync

    def write_model(*args: object, **kw: object) -> None:
        plan.tick()
        real_write_model(*args, **kw)  # type: ignore[arg-type]

    def update(*args: object, **kw: object) -> object:
        plan.tick()
        return real_update(*args, **kw)  # type: ignore[arg-type]

    def remove(*args: object) -> None:
        plan.tick()
        real_remove(*args)  # type: ignore[arg-type]

    def os_write(fd: int, data: bytes) -> int:
        if plan.count + 1 == plan.point:
            real_os_write(fd, bytes(data[: len(data) // 2]))
        plan.tick()
        return real_os_write(fd, data)

    def fsync(fd: int) -> None:
        plan.tick()
        real_fsync(fd)

    monkeypatch.setattr(journal_mod, "atomic_write_model", write_model)
    monkeypatch.setattr(journal_mod, "update_marker", update)
    monkeypatch.setattr(journal_mod, "_remove_journal", remove)
    monkeypatch.setattr(journal_mod.os, "write", os_write)
    monkeypatch.setattr(journal_mod.os, "fsync", fsync)
    return plan


def make_session(folder: Path) -> Path:
    folder.mkdir()
    (folder / RAW).write_bytes(HEADER)
    atomic_write_model(folder / MARKER, RecordingMarker(source_offset=100, entry_count=3))
    return folder


def test_a_crash_at_any_step_settles_to_exactly_one_copy(tmp_path: Path) -> None:
    """Crash at every durable step in turn (journal write, data write half-done, each fsync,
    marker update, journal removal), settle, and check the batch is there exactly once or
    not at all, consistently with the marker."""
    outcomes: list[Settled] = []
    point = 0
    while True:
        point += 1
        session = make_session(tmp_path / f"p{point}")
        with pytest.MonkeyPatch.context() as mp:
            plan = install_crash(mp, point)
            try:
                durable_append(session, BATCH, 100, 250, advance)
            except Crash:
                crashed = True
            else:
                crashed = False
        if not crashed:
            assert plan.count < point  # every step was tried
            break
        outcome = settle_journal(session)
        outcomes.append(outcome)
        marker = read_marker(session)
        raw = (session / RAW).read_bytes()
        if marker.source_offset == 100:
            # Not committed: the batch is gone and will be re-read from the source.
            assert raw == HEADER
            assert marker.entry_count == 3
            durable_append(session, BATCH, 100, 250, advance)
            assert (session / RAW).read_bytes() == HEADER + BATCH
        else:
            assert marker.source_offset == 250
            assert raw == HEADER + BATCH
            assert marker.entry_count == 5
            # KEPT, or NONE when the crash hit after the journal was already unlinked.
            assert outcome in (Settled.KEPT, Settled.NONE)
        assert not (session / JOURNAL).exists()
    assert point > 8
    assert Settled.ROLLED_BACK in outcomes
    assert Settled.KEPT in outcomes


def write_journal(folder: Path, **fields: int) -> None:
    atomic_write_model(folder / JOURNAL, AppendJournal(**fields))  # type: ignore[arg-type]


def test_marker_at_old_offset_truncates_back(session: Path) -> None:
    write_journal(session, raw_size=len(HEADER), old_offset=100, new_offset=250)
    (session / RAW).write_bytes(HEADER + BATCH[:17])
    assert settle_journal(session) is Settled.ROLLED_BACK
    assert (session / RAW).read_bytes() == HEADER
    assert not (session / JOURNAL).exists()


def test_marker_at_new_offset_keeps_when_size_matches(session: Path) -> None:
    (session / RAW).write_bytes(HEADER + BATCH)
    write_journal(
        session,
        raw_size=len(HEADER),
        old_offset=40,
        new_offset=100,
        final_size=len(HEADER + BATCH),
    )
    assert settle_journal(session) is Settled.KEPT
    assert (session / RAW).read_bytes() == HEADER + BATCH


@pytest.mark.parametrize(
    ("journal", "raw"),
    [
        # marker at new_offset but the raw file is not final_size
        ({"raw_size": 10, "old_offset": 40, "new_offset": 100, "final_size": 999}, HEADER),
        # marker at new_offset, final size never recorded
        ({"raw_size": 10, "old_offset": 40, "new_offset": 100}, HEADER),
        # marker at neither offset
        ({"raw_size": 10, "old_offset": 7, "new_offset": 9, "final_size": 33}, HEADER),
        # marker at old_offset but the raw file is shorter than before the batch
        ({"raw_size": 999, "old_offset": 100, "new_offset": 250}, HEADER),
    ],
)
def test_inconsistent_journal_is_refused_and_nothing_changes(
    session: Path, journal: dict[str, int], raw: bytes
) -> None:
    (session / RAW).write_bytes(raw)
    write_journal(session, **journal)
    before = snapshot(session)
    with pytest.raises(JournalError, match="left alone"):
        settle_journal(session)
    assert snapshot(session) == before


def test_journal_without_marker_is_refused(session: Path) -> None:
    write_journal(session, raw_size=len(HEADER), old_offset=100, new_offset=250)
    (session / MARKER).unlink()
    before = snapshot(session)
    with pytest.raises(JournalError, match="without a marker"):
        settle_journal(session)
    assert snapshot(session) == before


def test_corrupt_journal_is_refused(session: Path) -> None:
    (session / JOURNAL).write_bytes(b"{not json")
    with pytest.raises(JournalError, match="unreadable"):
        settle_journal(session)
    assert (session / JOURNAL).read_bytes() == b"{not json"


def test_marker_vanishing_mid_append_rolls_back(session: Path) -> None:
    def remove_marker_first(marker: RecordingMarker) -> None:
        raise AssertionError("not called")

    (session / MARKER).unlink()
    with pytest.raises(RecordingGone):
        durable_append(session, BATCH, 100, 250, remove_marker_first)
    assert (session / RAW).read_bytes() == HEADER
    assert not (session / JOURNAL).exists()
