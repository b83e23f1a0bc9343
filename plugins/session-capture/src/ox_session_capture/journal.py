"""The crash journal of `raw.jsonl`: append a batch exactly once across `kill -9`.

A batch is appended as: write `raw.jsonl.append.json` `{raw_size, old_offset, new_offset}`;
append the bytes; fsync; record `final_size` in the journal; advance the marker; delete the
journal. Whatever instant a crash hits, `settle_journal` afterwards either rolls the batch back
(the marker still says `old_offset`: the source lines are read again) or keeps it (the marker
says `new_offset` and the raw file has exactly `final_size` bytes).

Every function here expects the caller to hold the raw file's lock
(`lock_file(session_dir / RAW)`), except `settle_journal` which takes it itself.
"""

from __future__ import annotations

import contextlib
import enum
import os
from collections.abc import Callable
from pathlib import Path

from ox_core.errors import OxError
from ox_session_capture.confined import open_regular
from ox_session_capture.records import (
    JOURNAL,
    MARKER,
    RAW,
    AppendJournal,
    RecordError,
    RecordingMarker,
    atomic_write_model,
    fsync_dir,
    lock_file,
    read_marker,
    read_model,
    update_marker,
)


class JournalError(OxError):
    """A leftover journal that does not match the marker and the raw file: nothing was
    changed, both files are left as they are for a person to look at."""


class RecordingGone(OxError):
    """The recording's marker vanished (the recording was stopped or finalized)."""


class Settled(enum.Enum):
    """What `settle_journal` found and did."""

    NONE = "none"  # no journal
    ROLLED_BACK = "rolled_back"  # the raw file was truncated back; the batch will be re-read
    KEPT = "kept"  # the batch was complete; only the journal was removed


def journal_path(session_dir: Path) -> Path:
    return session_dir / JOURNAL


def _remove_journal(session_dir: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(journal_path(session_dir))
    fsync_dir(session_dir)


def _truncate(path: Path, size: int) -> None:
    fd = open_regular(path, os.O_WRONLY)
    try:
        os.ftruncate(fd, size)
        os.fsync(fd)
    finally:
        os.close(fd)


def settle_locked(session_dir: Path) -> Settled:
    """`settle_journal` for a caller that already holds the raw file's lock."""
    jpath = journal_path(session_dir)
    try:
        journal = read_model(jpath, AppendJournal)
    except FileNotFoundError:
        return Settled.NONE
    except RecordError as exc:
        raise JournalError(f"unreadable crash journal, left alone: {exc}") from exc
    raw = session_dir / RAW
    try:
        marker = read_marker(session_dir)
    except FileNotFoundError:
        raise JournalError(
            f"{jpath}: crash journal without a marker ({MARKER}); left alone"
        ) from None
    except RecordError as exc:
        raise JournalError(f"{jpath}: the marker is unreadable ({exc}); left alone") from exc
    try:
        raw_size = os.lstat(raw).st_size
    except FileNotFoundError:
        raise JournalError(f"{jpath}: crash journal without {RAW}; left alone") from None
    offset = marker.source_offset
    if offset == journal.old_offset and offset != journal.new_offset:
        if raw_size < journal.raw_size:
            raise JournalError(
                f"{jpath}: {RAW} is {raw_size} bytes, shorter than the journal's raw_size "
                f"{journal.raw_size}; left alone"
            )
        if raw_size != journal.raw_size:
            _truncate(raw, journal.raw_size)
        _remove_journal(session_dir)
        return Settled.ROLLED_BACK
    if offset == journal.new_offset:
        if journal.final_size is None or raw_size != journal.final_size:
            raise JournalError(
                f"{jpath}: the marker is at new_offset {offset} but {RAW} is {raw_size} bytes "
                f"(journal final_size {journal.final_size}); left alone"
            )
        _remove_journal(session_dir)
        return Settled.KEPT
    raise JournalError(
        f"{jpath}: the marker's source_offset {offset} is neither the journal's old_offset "
        f"{journal.old_offset} nor its new_offset {journal.new_offset}; left alone"
    )


def settle_journal(session_dir: Path, *, lock_timeout: float | None = None) -> Settled:
    """Settle a crash journal left in `session_dir`, under the raw file's lock.

    Marker still at `old_offset` → truncate `raw.jsonl` back to `raw_size` (the batch is
    re-read from the source); marker at `new_offset` with `raw.jsonl` of `final_size` bytes →
    keep; anything else → `JournalError`, both files untouched. Raises `LockTimeout` when the
    lock is not free within `lock_timeout` seconds. Blocking: call from a thread in trio code.
    """
    with lock_file(session_dir / RAW, lock_timeout):
        return settle_locked(session_dir)


def durable_append(
    session_dir: Path,
    data: bytes,
    old_offset: int,
    new_offset: int,
    change: Callable[[RecordingMarker], None],
) -> RecordingMarker:
    """Append `data` to `raw.jsonl` and move the marker from `old_offset` to `new_offset`
    (`change` sets the marker's fields) so that a crash at any instant is settled exactly once.

    The caller holds the raw file's lock and has checked that the marker is at `old_offset`.
    Raises `RecordingGone` when the marker vanished meanwhile (the append is rolled back) and
    `RecordError` when it turned corrupt (rolled back too). Blocking.
    """
    raw = session_dir / RAW
    raw_size = os.lstat(raw).st_size
    journal = AppendJournal(raw_size=raw_size, old_offset=old_offset, new_offset=new_offset)
    atomic_write_model(journal_path(session_dir), journal)
    fd = open_regular(raw, os.O_WRONLY | os.O_APPEND)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)
    journal.final_size = raw_size + len(data)
    atomic_write_model(journal_path(session_dir), journal)
    try:
        marker = update_marker(session_dir, change)
    except (FileNotFoundError, RecordError) as exc:
        _truncate(raw, raw_size)
        _remove_journal(session_dir)
        if isinstance(exc, FileNotFoundError):
            raise RecordingGone(f"{session_dir.name}: the recording ended") from None
        raise
    _remove_journal(session_dir)
    return marker
