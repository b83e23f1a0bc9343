"""The cheaper commit of captured lines (docs/capture-journal.md): the marker's `commit` key,
the in-memory marker, the fixed temp names, and exactly once at every crash point of a batch
on a recording whose marker carries `commit`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from ox_core.fs import atomic_write
from ox_session_capture import journal as journal_mod
from ox_session_capture.journal import (
    MarkerFile,
    Settled,
    committed_size,
    durable_append,
    set_committed,
    settle_journal,
)
from ox_session_capture.records import (
    JOURNAL,
    MARKER,
    RAW,
    RecordingMarker,
    atomic_write_model,
    read_marker,
    update_marker,
)

HEADER = b'{"_meta":{"schema_version":"1"}}\n'
BATCH = b'{"type":"user","content":"one"}\n{"type":"assistant","content":"two"}\n'


def make_session(folder: Path, **extra: Any) -> Path:
    folder.mkdir()
    (folder / RAW).write_bytes(HEADER)
    marker = RecordingMarker(source_offset=100, entry_count=3, **extra)
    set_committed(marker, len(HEADER))
    atomic_write_model(folder / MARKER, marker)
    return folder


def advance(marker: RecordingMarker) -> None:
    marker.source_offset = 250
    marker.entry_count += 2


def test_a_batch_commits_offset_and_raw_size_together(tmp_path: Path) -> None:
    session = make_session(tmp_path / "s")
    marker = durable_append(session, BATCH, 100, 250, advance)
    on_disk = read_marker(session)
    assert committed_size(on_disk) == len(HEADER + BATCH) == committed_size(marker)
    assert not (session / JOURNAL).exists()
    # The journal's kept temp file is a dotfile (never copied with the session).
    assert sorted(p.name for p in session.iterdir() if not p.name.startswith(".")) == [RAW]


@pytest.mark.parametrize("short", [False, True])
def test_a_batch_of_chunks_is_appended_whole_and_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, short: bool
) -> None:
    # A catch-up hands its blocks over as chunks (written with writev, never joined): more
    # than the system's iovec limit of them, some empty, through writes cut short.
    chunks = [b'{"n":%d}\n' % n * (n % 3) for n in range(3000)]
    data = b"".join(chunks)
    calls = []
    if short:
        real = os.writev

        def writev(fd: int, buffers: list[memoryview]) -> int:
            calls.append(len(buffers))
            cut, left = [], 13  # at most 13 bytes per call, often ending mid-chunk
            for b in buffers:
                cut.append(b[:left])
                left -= len(cut[-1])
            return real(fd, [c for c in cut if c])

        monkeypatch.setattr(os, "writev", writev)
    session = make_session(tmp_path / "s")

    def to_end(marker: RecordingMarker) -> None:
        marker.source_offset = 100 + len(data)

    marker = durable_append(session, chunks, 100, 100 + len(data), to_end)
    assert (session / RAW).read_bytes() == HEADER + data
    assert committed_size(marker) == len(HEADER + data) == committed_size(read_marker(session))
    if short:
        assert len(calls) > len(data) // 13  # every cut write was taken up where it stopped


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_any_bytes_like_batch_is_appended_as_one(tmp_path: Path, kind: Any) -> None:
    session = make_session(tmp_path / "s")
    durable_append(session, kind(BATCH), 100, 250, advance)
    assert (session / RAW).read_bytes() == HEADER + BATCH
    assert committed_size(read_marker(session)) == len(HEADER + BATCH)


def test_the_in_memory_marker_keeps_another_writers_fields(tmp_path: Path) -> None:
    session = make_session(tmp_path / "s")
    markers = MarkerFile(session)
    durable_append(session, BATCH, 100, 250, advance, markers=markers)

    def heartbeat(marker: RecordingMarker) -> None:
        marker.heartbeat = "2026-12-01T00:00:00Z"  # type: ignore[attr-defined]

    update_marker(session, heartbeat)  # another process, under the marker's lock

    def more(marker: RecordingMarker) -> None:
        marker.source_offset = 300

    durable_append(session, b'{"type":"user","content":"3"}\n', 250, 300, more, markers=markers)
    marker = read_marker(session)
    assert marker.source_offset == 300
    assert (marker.model_extra or {})["heartbeat"] == "2026-12-01T00:00:00Z"


def test_bytes_past_the_commit_are_rolled_back_without_a_journal(tmp_path: Path) -> None:
    """A power cut can lose the (unsynced) journal of a batch whose bytes reached the disk."""
    session = make_session(tmp_path / "s")
    (session / RAW).write_bytes(HEADER + BATCH[:20])
    assert settle_journal(session) is Settled.ROLLED_BACK
    assert (session / RAW).read_bytes() == HEADER


def test_a_torn_journal_is_settled_by_the_commit(tmp_path: Path) -> None:
    session = make_session(tmp_path / "s")
    (session / RAW).write_bytes(HEADER + BATCH)
    (session / JOURNAL).write_bytes(b'{"raw_si')
    assert settle_journal(session) is Settled.ROLLED_BACK
    assert (session / RAW).read_bytes() == HEADER
    assert not (session / JOURNAL).exists()


def test_a_stopped_recording_keeps_its_footer(tmp_path: Path) -> None:
    session = make_session(tmp_path / "s", stopped_at="2026-12-01T00:00:00Z")
    footer = b'{"type":"footer","entry_count":3}\n'
    (session / RAW).write_bytes(HEADER + footer)
    assert settle_journal(session) is Settled.NONE
    assert (session / RAW).read_bytes() == HEADER + footer


@pytest.mark.parametrize(
    "commit",
    [
        {"source_offset": 100, "raw_size": True},
        {"source_offset": 100, "raw_size": -1},
        {"source_offset": "100", "raw_size": 3},
        {"source_offset": 99, "raw_size": 3},  # moved on by a version without the key
        [100, 3],
        "junk",
    ],
)
def test_a_hostile_or_stale_commit_key_is_ignored(tmp_path: Path, commit: object) -> None:
    session = tmp_path / "s"
    session.mkdir()
    (session / RAW).write_bytes(HEADER + BATCH)
    atomic_write_model(session / MARKER, RecordingMarker(source_offset=100, commit=commit))
    assert committed_size(read_marker(session)) is None
    assert settle_journal(session) is Settled.NONE  # no journal: nothing to decide
    assert (session / RAW).read_bytes() == HEADER + BATCH


class Crash(BaseException):
    """Stands for `kill -9`."""


def crash_at(session: Path, point: int, mp: pytest.MonkeyPatch) -> bool:
    """Run one batch, crashing at the `point`-th write, fsync, record write or journal
    removal (a data write crashes half-way); whether it crashed."""
    count = 0
    real_write, real_fsync = os.write, os.fsync
    real_model, real_remove = journal_mod.atomic_write_model, journal_mod._remove_journal

    def tick() -> None:
        nonlocal count
        count += 1
        if count == point:
            raise Crash

    def os_write(fd: int, data: bytes) -> int:
        if count + 1 == point:
            real_write(fd, bytes(data[: len(data) // 2]))
        tick()
        return real_write(fd, data)

    mp.setattr(os, "write", os_write)
    mp.setattr(os, "fsync", lambda fd: (tick(), real_fsync(fd)))
    mp.setattr(journal_mod, "atomic_write_model", lambda *a, **k: (tick(), real_model(*a, **k)))
    mp.setattr(journal_mod, "_remove_journal", lambda *a: (tick(), real_remove(*a)))
    try:
        durable_append(session, BATCH, 100, 250, advance)
    except Crash:
        return True
    return False


def test_every_crash_point_with_a_commit_key_settles_to_exactly_one_copy(
    tmp_path: Path,
) -> None:
    point = 0
    outcomes = set()
    while True:
        point += 1
        session = make_session(tmp_path / f"p{point}")
        with pytest.MonkeyPatch.context() as mp:
            crashed = crash_at(session, point, mp)
        if not crashed:
            break
        outcomes.add(settle_journal(session))
        marker, raw = read_marker(session), (session / RAW).read_bytes()
        if marker.source_offset == 100:
            assert raw == HEADER
            assert committed_size(marker) == len(HEADER)
        else:
            assert raw == HEADER + BATCH
            assert committed_size(marker) == len(HEADER + BATCH)
        assert not (session / JOURNAL).exists()
    assert point > 6
    assert {Settled.ROLLED_BACK, Settled.KEPT} <= outcomes


def test_fixed_temp_names_refuse_to_write_through_a_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    (tmp_path / ".record.json.tmp").symlink_to(victim)
    atomic_write(tmp_path / "record.json", b"new", fixed_tmp=True)
    assert victim.read_bytes() == b"precious"
    assert (tmp_path / "record.json").read_bytes() == b"new"
    os.mkfifo(tmp_path / ".other.json.tmp")
    atomic_write(tmp_path / "other.json", b"x", fixed_tmp=True)  # never blocks on the FIFO
    assert (tmp_path / "other.json").read_bytes() == b"x"


def test_link_new_reuses_its_inode_and_never_replaces(tmp_path: Path) -> None:
    path = tmp_path / "j.json"
    atomic_write(path, b"first, longer", fixed_tmp=True, link_new=True)
    with pytest.raises(FileExistsError):
        atomic_write(path, b"second", fixed_tmp=True, link_new=True)
    assert path.read_bytes() == b"first, longer"  # still linked: the temp was made anew
    path.unlink()
    atomic_write(path, b"third", fixed_tmp=True, link_new=True)
    reused = path.stat().st_ino
    path.unlink()
    atomic_write(path, b"4th", fixed_tmp=True, link_new=True)
    assert path.read_bytes() == b"4th"
    assert path.stat().st_ino == reused  # the kept temp inode, rewritten in place
