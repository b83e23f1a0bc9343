"""Committing batches to `raw.jsonl` exactly once across `kill -9` and power cuts.

A live step (`append_committed`): append the bytes, fsync them, write one commit slot
(`commit_slots`) naming the new offset and size. A batch that changes more than a slot holds
(`durable_append`): write `raw.jsonl.append.json` `{raw_size, old_offset, new_offset,
final_size}`; append the bytes; fsync them; write the marker (advanced to `new_offset`, with
its `commit` key naming the size of `raw.jsonl` that goes with that offset); delete the
journal. Whatever instant a crash hits, `settle_journal` afterwards either rolls the batch
back (the recording is still at `old_offset`: the source lines are read again) or keeps it.
docs/capture-journal.md gives the formats and the argument, including which fsyncs it needs
and why the others are left out.

The marker is kept in memory (`MarkerFile`): re-read only when its file or its slots changed
on disk.

Every function here expects the caller to hold the raw file's lock
(`lock_file(session_dir / RAW)`), except `settle_journal` which takes it itself.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from ox_core.errors import OxError
from ox_session_capture import commit_slots
from ox_session_capture.commit_slots import COMMIT as COMMIT
from ox_session_capture.commit_slots import (
    SLOTS,
    Info,
    Slot,
    merged,
    open_slots,
    read_image,
    read_image_at,
    write_slot,
)
from ox_session_capture.commit_slots import committed_size as committed_size
from ox_session_capture.commit_slots import set_committed as set_committed
from ox_session_capture.confined import UnsafePathError, open_regular, open_regular_stat
from ox_session_capture.records import (
    JOURNAL,
    MARKER,
    RAW,
    AppendJournal,
    RecordError,
    RecordingMarker,
    atomic_write_model,
    lock_file,
    read_marker,
    read_model,
)
from ox_session_capture.records import (
    update_marker as update_marker,  # re-exported: a whole read-modify-write outside a batch
)

log = logging.getLogger(__name__)


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


class MarkerFile:
    """The marker of one recording as this process last read or wrote it, with its newest
    commit slot applied (`commit_slots`).

    `current()` costs one `lstat` of the marker and one read of the slot file while neither
    changed; it re-reads and re-validates the marker only after another writer replaced it
    (a stop, a heartbeat, finalization's catch-up). `commit` writes the whole marker under
    its lock; `advance` commits a live step with one slot write.
    Not thread-safe; blocking.
    """

    def __init__(self, session_dir: Path) -> None:
        self.path = session_dir / MARKER
        self.raw = session_dir / RAW  # the paths of a batch, made once
        self.journal = session_dir / JOURNAL
        self.slots = session_dir / SLOTS
        self._marker: RecordingMarker | None = None
        self._ident: tuple[int, int, int] | None = None
        self._image = b""
        self.slots_refused = False  # the slot file could not be written (warned once)

    def open_slots(self) -> int | None:
        """The slot file open for reading and writing (`commit_slots.open_slots`), or None
        when it cannot be (a folder there: warned once per recording followed)."""
        try:
            return open_slots(self.slots)
        except (UnsafePathError, OSError) as exc:
            if not self.slots_refused:  # once per recording followed, not once per line
                log.warning("%s: commit slots unusable (%s); journaling each batch",
                            self.path.parent.name, exc)  # fmt: skip
            self.slots_refused = True
            return None

    def current(self, slots_fd: int | None = None) -> RecordingMarker:
        """The marker; `FileNotFoundError` when gone, `RecordError` when corrupt. A writer
        that opened the slot file (`open_slots`) passes its fd: the slots are read there."""
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            self._marker = None
            raise
        image = read_image(self.slots) if slots_fd is None else read_image_at(slots_fd)
        ident = (st.st_ino, st.st_size, st.st_mtime_ns)
        if self._marker is not None and ident == self._ident and image == self._image:
            return self._marker
        self._marker = None
        marker = merged(read_model(self.path, RecordingMarker), image)
        # Identity from before the read: a write in between shows as a change next time.
        self._marker, self._ident, self._image = marker, ident, image
        return marker

    def commit(self, change: Callable[[RecordingMarker], None], raw_size: int) -> RecordingMarker:
        """Under the marker's lock: apply `change`, record `raw_size` as committed, write the
        whole marker (fixed temp name, fsync of its content and of the folder: slots of a
        later sequence build on it, docs/capture-journal.md)."""
        with lock_file(self.path):
            marker = self.current()
            try:
                change(marker)
                set_committed(marker, raw_size)
                atomic_write_model(self.path, marker, fixed_tmp=True)
                st = os.lstat(self.path)
            except BaseException:
                self._marker = None  # memory may be ahead of the file now
                raise
            self._ident = (st.st_ino, st.st_size, st.st_mtime_ns)
            return marker

    def advance(
        self,
        slots_fd: int,
        source_offset: int,
        entries: int,
        fingerprint: str,
        raw_size: int,
        info: Info = (),
    ) -> None:
        """Commit a live step: the next slot (written to the slot file open at `slots_fd`)
        says the marker is at `source_offset` with `entries` more entries, `raw_size` bytes
        of `raw.jsonl` and session `info` (`carried_info`). The caller holds the raw file's
        lock and read `current()` under it; the marker has an epoch (`commit_point`)."""
        marker = self._marker
        point = commit_slots.commit_point(marker) if marker is not None else None
        if marker is None or point is None:
            raise RecordError(f"{self.path}: no commit point to advance from")
        epoch, seq = point
        slot = Slot(seq + 1, epoch, source_offset, marker.entry_count + entries, raw_size,
                    fingerprint, info)  # fmt: skip
        try:
            self._image = write_slot(slots_fd, slot, self._image)
        except BaseException:
            self._marker = None  # the slot may or may not be there: read it again
            raise
        commit_slots.apply(marker, slot)


Data = bytes | Sequence[bytes]
"""Bytes to append: one buffer, or a batch's chunks (written with `writev`, never joined:
joining a catch-up's 32 MB is a copy into fresh pages)."""


def data_size(data: Data) -> int:
    return len(data) if isinstance(data, _BUFFERS) else sum(map(len, data))


def write_all(fd: int, data: bytes | memoryview) -> None:
    """Write all of `data` at `fd` (through short writes)."""
    view = memoryview(data)
    while view:
        view = view[_progress(os.write(fd, view)) :]


def write_durably(fd: int, data: Data) -> None:
    """Write all of `data` at `fd` (through short writes), then fsync it. An error may leave
    part of it written: the caller cuts it off."""
    views = [memoryview(data)] if isinstance(data, _BUFFERS) else [memoryview(c) for c in data if c]
    if len(views) == 1:  # a live step's one chunk
        write_all(fd, views[0])
        os.fsync(fd)
        return
    first = 0  # views[:first] are written
    while first < len(views):
        written = _progress(os.writev(fd, views[first : first + _IOV_MAX]))
        while first < len(views) and written >= len(views[first]):
            written -= len(views[first])
            first += 1
        if written:
            views[first] = views[first][written:]
    os.fsync(fd)


def _progress(written: int) -> int:
    if written <= 0:  # a file that takes nothing would loop for ever
        raise OSError(errno.EIO, "raw.jsonl took no bytes")
    return written


_BUFFERS = (bytes, bytearray, memoryview)
_IOV_MAX = max(16, os.sysconf("SC_IOV_MAX") if "SC_IOV_MAX" in os.sysconf_names else 16)


def uncommitted_cut(raw: Path, marker: RecordingMarker, *, keep_footer: bool = True) -> int:
    """Cut `raw.jsonl` back to the size the marker committed, and return its size: a whole-
    marker commit builds on it. Bytes past the commit of a live recording are a failed
    step's (its slot or marker never written: a full disk, an I/O error); committed with the
    next batch, their lines, read again from the source, would be in the recording twice.
    A stopped recording's are its footer, kept unless `keep_footer` is False (a stop that
    drains before writing its own: the drain would leave the old footer amid the entries)."""
    raw_size = os.lstat(raw).st_size
    committed = committed_size(marker)
    if committed is None or raw_size <= committed:
        return raw_size
    if keep_footer and marker.stopped_at is not None:
        return raw_size
    _truncate(raw, committed)
    return committed


def _remove_journal(session_dir: Path) -> None:
    # No folder fsync: a journal that reappears after a power cut settles the same way again.
    with contextlib.suppress(FileNotFoundError):
        os.unlink(journal_path(session_dir))


def _truncate(path: Path, size: int) -> None:
    fd = open_regular(path, os.O_WRONLY)
    try:
        os.ftruncate(fd, size)
        os.fsync(fd)
    finally:
        os.close(fd)


_FOOTER_MAX = 1024 * 1024
"""More bytes than any footer past a stopped recording's commit: they are cut off whole."""


def _keep_whole_lines(raw: Path, committed: int) -> None:
    """Cut a stopped recording's bytes past `committed` back to their last newline: a footer
    torn by a full disk or a crash is no line, and whatever a catch-up appends later would be
    glued to it and lost to every reader (the next stop writes the footer again)."""
    try:
        fd, st = open_regular_stat(raw, os.O_RDWR)
    except FileNotFoundError:
        return
    try:
        size = st.st_size
        if size <= committed or os.pread(fd, 1, size - 1) == b"\n":
            return
        past = os.pread(fd, _FOOTER_MAX, committed) if size - committed <= _FOOTER_MAX else b""
        keep = committed + past.rfind(b"\n") + 1  # `committed` when none ends there
        log.warning("%s: cut %d bytes of a torn line past the committed entries",
                    raw.parent.name, size - keep)  # fmt: skip
        os.ftruncate(fd, keep)
        os.fsync(fd)
    finally:
        os.close(fd)


def settle_locked(session_dir: Path) -> Settled:
    """`settle_journal` for a caller that already holds the raw file's lock."""
    jpath = journal_path(session_dir)
    journal: AppendJournal | None = None
    bad: RecordError | None = None
    try:
        journal = read_model(jpath, AppendJournal)
    except FileNotFoundError:
        pass
    except RecordError as exc:
        bad = exc
    present = journal is not None or bad is not None
    try:
        marker = read_marker(session_dir)
    except FileNotFoundError:
        if not present:
            return Settled.NONE
        raise JournalError(
            f"{jpath}: crash journal without a marker ({MARKER}); left alone"
        ) from None
    except RecordError as exc:
        if not present:
            return Settled.NONE  # the caller reports the corrupt marker when it reads it
        raise JournalError(f"{jpath}: the marker is unreadable ({exc}); left alone") from exc
    committed = committed_size(marker)
    if committed is not None and (journal is None or _matches(marker, journal)):
        return _settle_committed(session_dir, marker, committed, journal, present)
    if bad is not None:
        raise JournalError(f"unreadable crash journal, left alone: {bad}") from bad
    if journal is None:
        return Settled.NONE
    return _settle_journal(session_dir, marker, journal)


def _matches(marker: RecordingMarker, journal: AppendJournal) -> bool:
    return marker.source_offset in (journal.old_offset, journal.new_offset)


def _raw_size(session_dir: Path, what: str) -> int:
    try:
        return os.lstat(session_dir / RAW).st_size
    except FileNotFoundError:
        raise JournalError(f"{what}: crash journal without {RAW}; left alone") from None


def _settle_committed(
    session_dir: Path,
    marker: RecordingMarker,
    committed: int,
    journal: AppendJournal | None,
    present: bool,
) -> Settled:
    """The marker names the committed size of the raw file: bytes past it belong to a batch
    that was not committed. The journal, if any, is at one of the marker's offsets or torn
    (unreadable after a power cut: it is written without fsync). A stopped recording without
    a journal keeps them, as far as they end a line: its footer (`_keep_whole_lines`)."""
    if not present and marker.stopped_at is not None:
        _keep_whole_lines(session_dir / RAW, committed)
        return Settled.NONE
    try:
        raw_size = os.lstat(session_dir / RAW).st_size
    except FileNotFoundError:
        if not present:
            return Settled.NONE
        raise JournalError(f"{journal_path(session_dir)}: no {RAW}; left alone") from None
    if raw_size < committed:
        if not present:
            return Settled.NONE  # shortened by someone else: appending goes on from its end
        raise JournalError(
            f"{journal_path(session_dir)}: {RAW} is {raw_size} bytes, shorter than the "
            f"marker's committed {committed}; left alone"
        )
    if raw_size == committed and not present:
        return Settled.NONE
    if raw_size > committed:
        _truncate(session_dir / RAW, committed)
    _remove_journal(session_dir)
    rolled = raw_size > committed or (
        journal is not None and marker.source_offset == journal.old_offset != journal.new_offset
    )
    return Settled.ROLLED_BACK if rolled else Settled.KEPT


def _settle_journal(session_dir: Path, marker: RecordingMarker, journal: AppendJournal) -> Settled:
    """A marker without `commit` (an older version's): the journal decides."""
    jpath = journal_path(session_dir)
    raw = session_dir / RAW
    raw_size = _raw_size(session_dir, str(jpath))
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

    A marker with a valid `commit` key decides alone: `raw.jsonl` longer than the committed
    size is truncated back (the batch is re-read from the source). Otherwise the journal
    decides: marker still at `old_offset` → truncate `raw.jsonl` back to `raw_size`; marker at
    `new_offset` with `raw.jsonl` of `final_size` bytes → keep; anything else →
    `JournalError`, both files untouched. Raises `LockTimeout` when the lock is not free
    within `lock_timeout` seconds. Blocking: call from a thread in trio code.
    """
    with lock_file(session_dir / RAW, lock_timeout):
        return settle_locked(session_dir)


def durable_append(
    session_dir: Path,
    data: Data,
    old_offset: int,
    new_offset: int,
    change: Callable[[RecordingMarker], None],
    markers: MarkerFile | None = None,
) -> RecordingMarker:
    """Append `data` to `raw.jsonl` and move the marker from `old_offset` to `new_offset`
    (`change` sets the marker's fields) so that a crash at any instant is settled exactly once.

    The caller holds the raw file's lock and has checked that the marker is at `old_offset`;
    `markers` is its in-memory marker (read here when not given). Raises `RecordingGone` when
    the marker vanished (nothing written, or the append rolled back) and `RecordError` when it
    turned corrupt (rolled back too). Blocking.
    """
    markers = markers if markers is not None else MarkerFile(session_dir)
    try:
        marker = markers.current()
    except FileNotFoundError:
        raise RecordingGone(f"{session_dir.name}: the recording ended") from None
    raw = markers.raw
    raw_size = uncommitted_cut(raw, marker)
    try:
        final = _write_journal(markers, raw_size, old_offset, new_offset, data)
    except FileExistsError:
        # The journal of an earlier batch of this recording that failed (a full disk) and
        # was not settled since (a live tail steps on without settling): the marker is still
        # at its old offset. Settle it (its bytes cut off) and write this batch's.
        settle_locked(session_dir)
        raw_size = os.lstat(raw).st_size
        final = _write_journal(markers, raw_size, old_offset, new_offset, data)
    fd = open_regular(raw, os.O_WRONLY | os.O_APPEND)
    try:
        write_durably(fd, data)  # the batch is on disk before the marker that commits it
    finally:
        os.close(fd)
    try:
        marker = markers.commit(change, final)
    except (FileNotFoundError, RecordError) as exc:
        _truncate(raw, raw_size)
        _remove_journal(session_dir)
        if isinstance(exc, FileNotFoundError):
            raise RecordingGone(f"{session_dir.name}: the recording ended") from None
        raise
    _remove_journal(session_dir)
    return marker


def _write_journal(
    markers: MarkerFile, raw_size: int, old_offset: int, new_offset: int, data: Data
) -> int:
    """Write the crash journal of a batch appended to `raw_size` bytes; its final size."""
    final = raw_size + data_size(data)
    journal = AppendJournal(
        raw_size=raw_size, old_offset=old_offset, new_offset=new_offset, final_size=final
    )
    # No fsync: the marker's `commit` covers a journal lost to a power cut.
    atomic_write_model(
        markers.journal,
        journal,
        fixed_tmp=True,
        fsync_file=False,
        fsync_folder=False,
        link_new=True,  # no inode allocated and freed per batch
    )
    return final


class EarlyAppend:
    """A catch-up's batch appended to `raw.jsonl` block by block, as it is converted, ahead
    of its commit, each block's writeback started at once: the commit
    (`append_committed(..., early=)`) then only fsyncs what is mostly on disk already,
    instead of writing and syncing tens of megabytes while nothing else runs.

    Until the slot commits them these bytes are past the commit point, like a failed step's:
    a crash cuts them off (settling, or the next commit) and their lines are read again. So
    only a recording whose bytes past the commit are cut off gets one (`start`: a valid commit
    point, not stopped: a stopped one's are its footer), and only for a caller that holds the
    raw file's lock from `start` to the commit (`recover.catch_up`). A write that fails cuts
    the bytes off and ends it (the commit then writes the batch itself, or fails as it would
    have). `close()` always."""

    def __init__(self, fd: int, committed: int) -> None:
        self._fd = fd
        self.committed = committed
        self.appended = 0

    @classmethod
    def start(cls, markers: MarkerFile) -> EarlyAppend | None:
        """One for the recording of `markers` (its lock held), or None when its bytes past the
        commit would not be cut off by a crash, or `raw.jsonl` is shorter than committed."""
        try:
            marker = markers.current()
        except FileNotFoundError:
            return None
        committed = committed_size(marker)
        if committed is None or commit_slots.commit_point(marker) is None or marker.stopped_at:
            return None
        try:
            fd, st = open_regular_stat(markers.raw, os.O_WRONLY | os.O_APPEND)
        except (OSError, UnsafePathError):
            return None
        try:
            if st.st_size < committed:
                raise OSError(errno.EINVAL, "shorter than committed")  # a commit will say
            if st.st_size > committed:
                os.ftruncate(fd, committed)  # a failed step's bytes, as a commit cuts them
        except OSError:
            os.close(fd)
            return None
        return cls(fd, committed)

    def add(self, data: bytes) -> None:
        """Append `data` and start its writeback; on an error cut everything off, and stop."""
        if self._fd < 0 or not data:
            return
        try:
            write_all(self._fd, data)
            if _FADVISE is not None:
                # Linux starts the writeback of the dirty range (without waiting for it).
                _FADVISE(self._fd, self.committed + self.appended, len(data), _DONTNEED)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self.committed)
            self.close()
            return
        self.appended += len(data)

    def abandon(self) -> None:
        """The batch will not be committed (its conversion failed): cut its bytes off now, so
        that no reader meets its lines past the commit meanwhile; then stop."""
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self.committed)
        self.close()

    def holds(self, size_of_data: int, raw_size: int) -> bool:
        """Whether `raw.jsonl` (of `raw_size` bytes) holds just the batch past the commit."""
        return (
            self._fd >= 0
            and size_of_data == self.appended
            and raw_size == self.committed + self.appended
        )

    def close(self) -> None:
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)


_FADVISE = getattr(os, "posix_fadvise", None)
_DONTNEED = getattr(os, "POSIX_FADV_DONTNEED", 4)


def append_committed(
    markers: MarkerFile,
    marker: RecordingMarker,
    data: Data,
    new_offset: int,
    entries: int,
    fingerprint: str,
    learnt: dict[str, str] | None = None,
    slots_fd: int | None = None,
    early: EarlyAppend | None = None,
) -> bool:
    """A live step's append: `data` to `raw.jsonl`, fsync, then one commit slot moving the
    marker to `new_offset` and keeping the session info the adapter `learnt`
    (`MarkerFile.advance`). No journal and no marker file written: the slot is the commit
    point (docs/capture-journal.md). The caller holds the raw file's lock and read `marker`
    with `markers.current()` under it; `slots_fd` is the slot file it opened for that
    (`open_slots`), left open. `early`: the caller appended `data` already, as it made it
    (`EarlyAppend`): when `raw.jsonl` holds just that past the commit, it is only fsynced.

    Returns False, with nothing written, when this recording's commit cannot take this path
    (a marker without a commit point or stopped, `raw.jsonl` shorter than committed, session
    info too long for a slot, a slot file that cannot be written): the caller uses
    `durable_append`. Blocking.
    """
    committed = committed_size(marker)
    if committed is None or commit_slots.commit_point(marker) is None or marker.stopped_at:
        return False  # a stopped marker's bytes past the commit are its footer: journal them
    info = commit_slots.carried_info(marker, learnt or {})
    if info is None:
        return False
    size_of_data = data_size(data)
    slots = markers.open_slots() if slots_fd is None else slots_fd  # before any byte is appended
    if slots is None:
        return False
    try:
        fd, st = open_regular_stat(markers.raw, os.O_WRONLY | os.O_APPEND)
        try:
            size = st.st_size
            if size < committed:
                return False  # shortened by someone else: durable_append goes on from its end
            written = early is not None and early.holds(size_of_data, size)
            if size > committed and not written:
                os.ftruncate(fd, committed)  # a failed step's uncommitted bytes, as settling does
            if size_of_data:  # none when every line was a duplicate: only the offset moves
                try:
                    if written:
                        os.fsync(fd)  # appended as it was made: on disk before the slot too
                    else:
                        write_durably(fd, data)  # on disk before the slot committing it
                except OSError:
                    # Cut the failed batch's part off now (a truncation needs no free space):
                    # a full disk that lasts must not leave a torn line in `raw.jsonl` for
                    # whoever reads it meanwhile. The next step would cut it off all the same.
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, committed)
                    raise
        finally:
            os.close(fd)
        # A slot write that fails may still have landed whole: its bytes decide, never this
        # process's guess. If it did not, the next step or settling drops the batch's bytes.
        markers.advance(slots, new_offset, entries, fingerprint, committed + size_of_data, info)
    finally:
        if slots_fd is None:
            os.close(slots)
    return True
