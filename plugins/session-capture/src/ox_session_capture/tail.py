"""Following one agent session file into `raw.jsonl`, each batch through the crash journal.

`SourceTail` is synchronous and blocking (run it in a thread from trio code). Each `step()`
reads the complete lines past the consumed offset, converts them with the adapter, redacts
them, and appends them durably through the crash journal, advancing the marker's
`source_offset` and `entry_count` in the same batch. Beyond the original:

- a trailing line without its newline is never consumed;
- a source that was replaced (another inode) or truncated or rewritten (shorter than the
  offset, or the bytes before the offset no longer match the stored fingerprint) is re-read
  from the start, dropping entries whose agent message id (`source_id`) was already captured;
- a line over 10 MiB is skipped (and counted) without losing anything after it;
- the holes of a sparse file are skipped, not read (`blocks.data_regions`): a step reads a
  batch of data however far apart it lies, not a batch of the zeros a hole reads as.

`recover.catch_up(session_dir)` does the same once, to the end of the file, for finalization.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import attrs

from ox_core.fs import open_lock
from ox_session_capture.adapters import SessionAdapter
from ox_session_capture.adapters.base import Calls
from ox_session_capture.blocks import (
    Helper,
    Helpers,
    data_end,
    data_lines,
    data_regions,
    first_hole,
    helpers_possible,
    independent_blocks,
    line_of,
    merge_block,
    next_data,
    zero_pages,
)
from ox_session_capture.confined import (
    UnsafePathError,
    check_owner,
    open_regular_stat,
    opened_path,
)
from ox_session_capture.journal import (
    EarlyAppend,
    MarkerFile,
    RecordingGone,
    append_committed,
    committed_size,
    durable_append,
    settle_locked,
    uncommitted_cut,
)
from ox_session_capture.raw_lines import (
    ADAPTER_FAILED,
    MAX_LINE,
    Fields,
    PrefixPrint,
    RawBatch,
    Redactor,
    captured_ids,
    convert_lines,
    entry_parser,
    fingerprint,
    note_session,
    prior_ids,
    redact_fields,
    session_info,
    take_unknown,
    whole_lines,
    within,
)
from ox_session_capture.records import (
    RAW,
    RecordingMarker,
    lock_path,
)

log = logging.getLogger(__name__)

BATCH_BYTES = 1024 * 1024
"""Source bytes read per step (one durable append) while following a live file."""
CATCH_UP_BATCH_BYTES = 2 * 1024 * 1024
"""Source bytes read at a time when catching up a whole file (a helper's block at most).
Small enough that a block's buffers are reused memory, not fresh pages: 2 MB blocks catch a
105 MB file up in 0.74 s of CPU with the helpers against 0.87 s with 16 MB ones, and in
0.26 s against 0.29 s without (`benchmarks/tail.py`)."""
CATCH_UP_COMMIT_BYTES = 32 * 1024 * 1024
"""`raw.jsonl` bytes gathered (from as many blocks as that takes) per durable commit when
catching up: a 100 MB session is one commit and one round of fsyncs, not seven."""
_SCAN_CHUNK = 1024 * 1024
OVER_LONG = "(line over 10 MiB)"
"""The type skipped over-long lines are counted under with the unknown line types."""


HELPERS = 2
"""Helper processes of a catch-up: two cores' worth (the tail itself only folds their
blocks in and commits)."""
HELPED_MIN_BYTES = 8 * 1024 * 1024
"""Bytes left to read below which a catch-up converts them itself (forks cost a few ms)."""
HELPED_BLOCK_MIN = 1024 * 1024
"""Smallest block given to a helper, but for the file's last."""
HELPED_AHEAD = 2 * HELPERS
"""Blocks asked of the helpers and not yet folded in, at most: a helper that gave one back
gets the next at once, while the tail waits on another's (their results held meanwhile)."""


class TailError(Exception):
    """Following the file cannot go on safely (e.g. the cursor stopped advancing)."""


class WriteFailed(OSError):
    """Committing a batch to the recording failed (a full disk, an I/O error on the ledger's
    side, not the source's): nothing of it was committed, its lines are read again."""


@attrs.frozen
class StepResult:
    """What one `step()` did: entries appended, source bytes consumed, whether the source was
    found replaced or truncated (and re-read from the start), over-long lines skipped."""

    entries: int = 0
    consumed: int = 0
    reset: bool = False
    skipped_long: int = 0
    duplicates: int = 0
    reloaded: bool = False  # another writer had moved the marker on; state reloaded

    @property
    def progressed(self) -> bool:
        return self.consumed > 0 or self.reset or self.reloaded


def _marker_extra(marker: RecordingMarker, key: str) -> object:
    return (marker.model_extra or {}).get(key)


@dataclass
class _Block:
    lines: list[bytes]
    end: int  # source offset after the last consumed byte
    skipped_long: int = 0
    data: bytes | None = None  # the bytes read, from the block's start (None: not kept)
    # Else the first and last `FINGERPRINT_SPAN` bytes of the block as read (past holes).
    edges: tuple[bytes, bytes] | None = None


class SourceTail:
    """Follows `source` into the recording in `session_dir`, one blocking `step()` at a time.

    `redact` is applied to every text field before it is written. With `lock_held=True` the
    caller already holds the raw file's lock (as `catch_up` does); otherwise each step takes
    it for its append. Not thread-safe: one thread steps a tail at a time.
    """

    def __init__(
        self,
        session_dir: Path,
        adapter: SessionAdapter,
        source: Path,
        *,
        redact: Redactor | None = None,
        lock_held: bool = False,
        batch_bytes: int = BATCH_BYTES,
        commit_bytes: int = 0,
    ) -> None:
        self.session_dir = session_dir
        self.adapter = adapter
        # The adapter's plain-dict entries when it has them (no model object per entry).
        self._parse = entry_parser(adapter)
        self.source = source
        self.redact = redact
        self.batch_bytes = batch_bytes
        self.commit_bytes = commit_bytes
        self._lock_held = lock_held
        self.offset = 0  # where the next read starts (may be ahead of a pending reset)
        self.persisted = 0  # the marker's source_offset as last seen / written
        self._entries = 0  # the marker's entry_count as last seen / written
        self.inode: int | None = None
        self.fp: str | None = None
        # The bytes `fp` digests, when this tail read them (`PrefixPrint`): a step compares
        # them instead of digesting the file's again. None, or of `offset` and `fp`.
        self._print: PrefixPrint | None = None
        self.seen: set[str] = set()
        # An unterminated line longer than a batch: (its start, scanned up to, fingerprint of
        # the file up to there), so each poll scans only the new bytes for its newline.
        self._long_scan: tuple[int, int, str] | None = None
        # The last read met a hole: the next one reads past holes from its start (and a
        # catch-up has no helpers read on there) until a read meets none.
        self._sparse = False
        self._reset_pending = False
        self._markers = MarkerFile(session_dir)  # the marker, re-read only when it changed
        self._lock_file = lock_path(self._markers.raw)
        self._lock_what = str(self._markers.raw)
        self._checked: tuple[int, int] | None = None  # (device, inode) whose path was checked
        # The source's (inode, size, mtime_ns, ctime_ns) as the last step opened it, before
        # reading; None when it was missing (`changes.StatKey`).
        self.source_stat: tuple[int, int, int, int] | None = None
        # A catch-up has forked helper processes convert its blocks (`blocks`).
        self._helped = bool(commit_bytes) and independent_blocks(adapter) and helpers_possible()
        # Whether the last commit rewrote the marker (several fsyncs): the next step is likely
        # to wait on the disk too (see `changes`). A recording's first steps commit by slot.
        self.slow = False

    def _lock(self) -> int:
        """The raw file's lock taken (`records.lock_file`'s, without its context manager: a
        step takes it at every line), its fd to close; -1 when the caller holds it."""
        return -1 if self._lock_held else open_lock(self._lock_file, what=self._lock_what)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        lock = self._lock()
        try:
            yield
        finally:
            if lock >= 0:
                os.close(lock)  # releases the lock

    # ------------------------------------------------------------ state

    def resume(self, requested_offset: int = 0) -> None:
        """Settle a leftover crash journal and load the persisted position: offset =
        max(`requested_offset`, marker `source_offset`, marker `start_offset`).

        Raises `RecordingGone` without a marker, `JournalError` for a journal that cannot be
        settled, `RecordError` for a corrupt marker.
        """
        with self._locked():
            settle_locked(self.session_dir)
            try:
                marker = self._markers.current()
            except FileNotFoundError:
                raise RecordingGone(f"{self.session_dir.name}: no recording marker") from None
            self._load(marker, requested_offset)

    def holds_at(self, marker: RecordingMarker) -> bool:
        """Whether `marker`, read under the raw file's lock taken again after this tail's
        last step, is where that step left it: no other writer committed meanwhile (each moves
        the source offset, and entries only grow), so what the tail knows of the recording (the
        captured ids, the calls still open, the source's print) holds, and it can step on
        without `resume` reading `raw.jsonl` again."""
        return marker.source_offset == self.persisted and marker.entry_count == self._entries

    def _load(self, marker: RecordingMarker, requested_offset: int = 0) -> None:
        self.persisted = marker.source_offset
        self._entries = marker.entry_count
        self.offset = max(requested_offset, marker.source_offset, marker.start_offset)
        inode = _marker_extra(marker, "source_inode")
        fp = _marker_extra(marker, "source_fingerprint")
        self.inode = inode if isinstance(inode, int) else None
        self.fp = fp if isinstance(fp, str) and self.offset == marker.source_offset else None
        self._print = None
        prior = prior_ids(self.session_dir, _marker_extra(marker, "prior_source_ids"))
        # Only the committed entries count as captured: bytes past the commit (a failed batch's,
        # or the steps of a slot file damaged since) are cut off by the next commit, and their
        # lines must be read again, not dropped as duplicates.
        open_calls: dict[str, str] = {}
        self.seen = captured_ids(self.session_dir / RAW, prior, committed_size(marker), open_calls)
        # The calls captured before this tail began, still unanswered: their results, read
        # from now on, name their tool as if this adapter had seen the calls.
        calls = getattr(self.adapter, "calls", None)
        if isinstance(calls, Calls):
            for call_id, name in open_calls.items():
                calls.add(call_id, name)
        self._long_scan = None
        self._sparse = False
        self._reset_pending = False

    # ------------------------------------------------------------ one step

    def step(self) -> StepResult:
        """Consume the complete lines available now (up to `batch_bytes`) into `raw.jsonl`.

        Returns what was done; consumed 0 means nothing new. A missing source file is not an
        error (it may be mid-replacement). Raises `RecordingGone` when the marker vanished,
        `UnsafePathError` when the source became a link, a special file, another user's file,
        or a path that now leads elsewhere (a folder on the way swapped for a link): it is
        never followed.
        Blocking; not cancellable midway (call it through `trio.to_thread.run_sync`).
        """
        self.source_stat = None
        try:
            # O_NOFOLLOW, O_NONBLOCK (only `pread` reads it), O_NOCTTY, then S_ISREG.
            fd, st = open_regular_stat(self.source, blocking=False)
        except FileNotFoundError:
            return StepResult()
        self.source_stat = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        try:
            # The file this tail checked before (same device and inode) is what it may read,
            # whatever path led to it; another one is checked for a path that leads elsewhere
            # (a folder on the way swapped for a link).
            if (st.st_dev, st.st_ino) != self._checked:
                check_owner(st, self.source)  # another user's file swapped in: never read
                actual = opened_path(fd)
                if actual is not None and actual != os.path.abspath(self.source):
                    if actual.endswith(" (deleted)"):
                        return StepResult()  # unlinked between open and check: mid-replacement
                    raise UnsafePathError(f"{self.source} now leads to {actual}; refused")
                self._checked = (st.st_dev, st.st_ino)
            return self._step(fd, st)
        finally:
            os.close(fd)

    def _step(self, fd: int, st: os.stat_result) -> StepResult:
        # No shortcut on an unchanged stat: mtime is coarse (a jiffy), so a same-size rewrite
        # can keep it; the fingerprint check costs two small preads per poll.
        reset = self._check_reset(fd, st.st_ino, st.st_size)
        start = self.offset
        early: EarlyAppend | None = None
        try:
            if self.commit_bytes and self._lock_held and not reset:
                # A catch-up appends its blocks as it converts them (its lock held throughout).
                early = EarlyAppend.start(self._markers)
            try:
                gathered, prefix = self._gather(fd, st.st_size, early)
            except BaseException:
                if early is not None:
                    early.abandon()  # before any commit: its bytes are no one's
                raise
            if gathered.end == start and not reset:
                self.offset = start
                return StepResult(skipped_long=gathered.skipped_long)
            if prefix is None:
                prefix = PrefixPrint.read(fd, gathered.end)
            new_fp = prefix.digest()
            gathered.unknown = take_unknown(self.adapter)
            # Lines not kept for other reasons are reported with those, not lost silently.
            not_kept = {ADAPTER_FAILED: gathered.failed, OVER_LONG: gathered.skipped_long}
            for key, lost in not_kept.items():
                if lost:
                    gathered.unknown[key] = lost + gathered.unknown.get(key, 0)
            self._commit(gathered, st.st_ino, new_fp, reset, early)
        except _Reloaded:
            return StepResult(reloaded=True)
        except BaseException:
            self.offset = start  # nothing was committed: read these bytes again next step
            raise
        finally:
            if early is not None:
                early.close()
        self.inode = st.st_ino
        self.fp = new_fp
        self._print = prefix
        self._reset_pending = False
        return StepResult(
            entries=gathered.count,
            consumed=gathered.end - start,
            reset=reset,
            skipped_long=gathered.skipped_long,
            duplicates=gathered.duplicates,
        )

    def _gather(
        self, fd: int, size: int, early: EarlyAppend | None = None
    ) -> tuple[RawBatch, PrefixPrint | None]:
        """Read and convert blocks from `self.offset` (advancing it) until one block was read,
        or, with `commit_bytes`, until that many raw bytes are ready or the file ends: a
        catch-up commits (and fsyncs) once per budget, not once per block, while memory stays
        bounded by a few blocks plus the budget. A catch-up with enough to read has helper
        processes convert its blocks (`_gather_helped`); each block goes to `early` too, when
        given. Also the print of the source's prefix up to the end of what was read, when the
        blocks' bytes give it (else None: read it)."""
        out = RawBatch(end=self.offset)
        batch_ids: set[str] = set()
        prefix = self._print if self.offset else PrefixPrint(0, b"", b"")
        while True:
            if self._helped and not self._sparse and size - self.offset >= HELPED_MIN_BYTES:
                prefix = self._gather_helped(fd, size, out, batch_ids, prefix, early)
                if out.size >= self.commit_bytes or self.offset >= size:
                    return out, prefix
            start = self.offset
            block = self._read(fd, size)
            entries, dups, failed = self._convert(block.lines, batch_ids)
            if entries and block.end <= self.offset:
                raise TailError(
                    f"{self.session_dir.name}: the cursor did not advance ({self.offset}) while "
                    f"{len(entries)} entries were returned; stopping rather than duplicating"
                )
            out.skipped_long += block.skipped_long
            out.failed += failed
            if block.end == self.offset:
                return out, prefix
            out.add(entries, dups, block.end)
            if early is not None:
                early.add(out.chunks[-1])
            if prefix is None or prefix.offset != start:
                prefix = None
            elif block.data is not None:
                prefix = prefix.advanced(memoryview(block.data)[: block.end - start])
            elif block.edges is not None:
                prefix = prefix.advanced_by(block.end - start, *block.edges)
            else:
                prefix = None
            self.offset = block.end
            if not self.commit_bytes or out.size >= self.commit_bytes or block.end >= size:
                return out, prefix

    def _gather_helped(
        self,
        fd: int,
        size: int,
        out: RawBatch,
        batch_ids: set[str],
        prefix: PrefixPrint | None,
        early: EarlyAppend | None,
    ) -> PrefixPrint | None:
        """Have `HELPERS` forked helpers convert the blocks from `self.offset`, each taking the
        next block as soon as it gave one back, and fold them into `out` in file order; until
        the commit budget is met (the blocks asked for by then are folded in too), the file
        ends, or a block needs the tail itself (an over-long line, one it cannot fold: the tail
        converts it, then helpers go on). A helper that cannot be forked, dies or hangs ends
        helping for this tail. Returns `prefix` (the print up to `self.offset`, or None)
        gone on with the bytes the helpers read."""
        planned = self.offset

        def plan() -> tuple[int, int] | None:
            # Past the commit budget nothing more is asked: what the helpers have is folded
            # in (never thrown away), then the batch is committed. Nor past a hole: the
            # tail reads on past the holes itself.
            nonlocal planned
            if out.size >= self.commit_bytes or self._sparse:
                return None
            end = self._plan(fd, planned, size)
            if end is None:
                return None
            block, planned = (planned, end), end
            return block

        # The first block planned before any helper is forked: none for a block the tail
        # reads itself (a hole, an over-long line), which it then does at once.
        first = plan()
        if first is None:
            return prefix
        planned_first: list[tuple[int, int]] = [first]

        def next_plan() -> tuple[int, int] | None:
            return planned_first.pop() if planned_first else plan()

        helpers = Helpers(HELPERS, lambda: self._fork(fd), next_plan, ahead=HELPED_AHEAD)
        try:
            while True:
                helpers.fill()
                if not helpers.asked:
                    return prefix
                block = helpers.next()
                if block is None:
                    self._helped = False  # it died or hung: no more helpers for this tail
                    return prefix
                if block.sparse:
                    self._sparse = True  # no more blocks asked: the tail reads past the holes
                if block.start != self.offset or block.end <= block.start:
                    return prefix  # not foldable: the tail converts this block itself
                data, count, ids, dups = merge_block(block, self.adapter, self.seen, batch_ids)
                out.add_lines(data, count, ids, dups, block.end)
                if early is not None:
                    early.add(data)
                out.skipped_long += block.skipped_long
                out.failed += block.failed_lines
                if prefix is not None and prefix.offset == block.start:
                    size_read = block.end - block.start
                    prefix = prefix.advanced_by(size_read, block.first, block.last)
                self.offset = block.end
        finally:
            helpers.close()

    def _fork(self, fd: int) -> Helper | None:
        try:
            return Helper(type(self.adapter), fd, MAX_LINE, self.redact)
        except OSError as exc:  # no process or descriptor to spare: the tail converts
            log.info("%s: no catch-up helper (%s)", self.session_dir.name, exc)
            self._helped = False  # not tried again at every block of this tail
            return None

    def _plan(self, fd: int, start: int, size: int) -> int | None:
        """The end of the next block for a helper: whole lines from `start`, a batch at most,
        less near the end of the file (a quarter of what is left, so the helpers finish
        together); None at the end, or when no newline ends a block there (an over-long
        line: the tail's own reading deals with it), or when a hole shows in it (the tail
        reads on past the holes itself: helpers would read them)."""
        left = size - start
        if left <= 0:
            return None
        want = left if left <= HELPED_BLOCK_MIN else max(HELPED_BLOCK_MIN, left // 4)
        end = start + min(self.batch_bytes, want)
        look = min(end - start, 64 * 1024)
        window = os.pread(fd, look, end - look)
        if zero_pages(window, end - look) and self._holed(fd, start, end):
            return None
        cut = window.rfind(b"\n")
        if cut >= 0:
            return end - look + cut + 1
        data = os.pread(fd, end - start, start)
        if zero_pages(data, start) and self._holed(fd, start, end):
            return None
        cut = data.rfind(b"\n")
        return start + cut + 1 if cut >= 0 else None

    def _holed(self, fd: int, start: int, end: int) -> bool:
        """Whether `[start, end)` holds a hole now; if so, reading goes on past holes."""
        holed = first_hole(fd, start, end) < end
        self._sparse = self._sparse or holed
        return holed

    def _check_reset(self, fd: int, inode: int, size: int) -> bool:
        """Whether the source is not the file we were reading; if so, restart at 0."""
        replaced = self.inode is not None and inode != self.inode
        shorter = size < self.offset
        changed = (
            not replaced
            and not shorter
            and self.fp is not None
            and self.offset > 0
            and not self._prefix_holds(fd)
        )
        if replaced or shorter or changed or self._reset_pending:
            if not self._reset_pending:
                why = "replaced" if replaced else "truncated" if shorter else "rewritten"
                log.warning("%s: source %s; re-reading it", self.session_dir.name, why)
            self.offset = 0
            self.fp = None
            self._print = None
            self._long_scan = None
            self._reset_pending = True
            return True
        if self.fp is None and self.offset > 0:
            # First look at this file at a persisted offset without fingerprint: trust it.
            self._print = PrefixPrint.read(fd, self.offset)
            self.fp = self._print.digest()
        return False

    def _prefix_holds(self, fd: int) -> bool:
        """Whether the bytes before `offset` are still those `fp` digests."""
        known = self._print
        if known is not None and known.offset == self.offset:
            return known.matches(fd)
        read = PrefixPrint.read(fd, self.offset)
        if self.fp is None or not read.has_digest(self.fp):
            return False
        self._print = read
        return True

    def _read(self, fd: int, size: int) -> _Block:
        start = self.offset
        if start >= size:
            return _Block([], start)
        if self._long_scan and self._long_scan[0] == start:
            _, scanned, fp = self._long_scan
            # The scanned bytes may have been truncated or rewritten meanwhile (undetectable
            # by the offset's own check while nothing is consumed): trust them only if they
            # are still there and match.
            if scanned <= size and fingerprint(fd, scanned) == fp:
                return self._finish_long(fd, size, start, scanned)
            self._long_scan = None
            return self._read(fd, size)
        if self._sparse:  # the last read met a hole: this one reads past them from the start
            return self._read_past_holes(fd, size, start, b"")
        end = min(size, start + self.batch_bytes)
        data = os.pread(fd, end - start, start)
        if zero_pages(data, start):  # zeros: maybe a hole, and more of them after it
            hole = first_hole(fd, start, end)
            if hole < end:
                return self._read_past_holes(fd, size, start, data[: hole - start])
        split = whole_lines(data, MAX_LINE)
        if split is not None:
            lines, used, skipped = split
            return _Block(lines, start + used, skipped, data)
        if end == size and size - start <= MAX_LINE:
            return _Block([], start)  # an unterminated last line: wait for its newline
        return self._finish_long(fd, size, start, end)

    def _read_past_holes(self, fd: int, size: int, start: int, head: bytes) -> _Block:
        """`_read` of a sparse stretch (`head`: the bytes read at `start` before its first
        hole): the whole lines in the next `batch_bytes` of data, however far apart, its holes
        skipped (`blocks.data_lines`); a first line without its newline in them is scanned
        for it as the plain read's is (`_finish_long`). Reads past holes again next time
        when it met one."""
        pieces = data_regions(fd, start + len(head), size, self.batch_bytes - len(head))
        if head:
            pieces = itertools.chain([(start, head)], pieces)
        got = data_lines(pieces, start, MAX_LINE)
        self._sparse = got.holes
        if got.end > start:
            return _Block(got.lines, got.end, got.skipped, edges=(got.first, got.last))
        return self._finish_long(fd, size, start, got.scanned)

    def _finish_long(self, fd: int, size: int, start: int, scanned: int) -> _Block:
        """The first line at `start` is longer than one batch: find its end by scanning."""
        pos = scanned
        while (pos := next_data(fd, pos, size)) < size:
            chunk = os.pread(fd, min(_SCAN_CHUNK, data_end(fd, pos, size) - pos), pos)
            if not chunk:
                break
            nl = chunk.find(b"\n")
            if nl >= 0:
                end = pos + nl
                self._long_scan = None
                # Read past its holes: a line of a page of data at each end and MiBs of
                # holes between costs two pages (`blocks.line_of`).
                if end - start <= MAX_LINE:
                    return _Block([line_of(fd, start, end)], end + 1)
                # Zeros (a hole, a preallocated region) before a line are no part of it.
                window = line_of(fd, end - MAX_LINE - 1, end)
                last = within(window) if len(window) > MAX_LINE else _after_zeros(window)
                if last is not None:
                    return _Block([last], end + 1)
                log.warning(
                    "%s: skipped a source line of %d bytes (limit %d)",
                    self.session_dir.name,
                    end - start,
                    MAX_LINE,
                )
                return _Block([], end + 1, skipped_long=1)
            pos += len(chunk)
        self._long_scan = (start, pos, fingerprint(fd, pos))
        return _Block([], start)

    def _convert(
        self, lines: Sequence[bytes], batch_ids: set[str]
    ) -> tuple[list[Fields], int, int]:
        where = f"{self.session_dir.name} ({self.adapter.name})"
        entries, dups, failed = convert_lines(self._parse, lines, self.seen, batch_ids, where)
        if self.redact is not None:
            redact_fields(entries, self.redact)
        return entries, dups, failed

    def _commit(
        self, gathered: RawBatch, inode: int, fp: str, reset: bool, early: EarlyAppend | None
    ) -> None:
        """Under the raw lock: check the marker still matches, append durably, advance it."""
        info = session_info(self.adapter)
        try:
            # The lock and the slot file without context managers: half their cost.
            lock = self._lock()
            try:
                slots = self._markers.open_slots()
                try:
                    self._commit_locked(slots, gathered, inode, fp, reset, info, early)
                finally:
                    if slots is not None:
                        os.close(slots)
            finally:
                if lock >= 0:
                    os.close(lock)  # releases the lock
        except OSError as exc:  # the source was read: the recording's side failed
            if exc.errno == errno.ENOENT and not os.path.lexists(self._markers.path):
                # Its folder was removed (the lock file could not be made): it ended.
                raise RecordingGone(f"{self.session_dir.name}: the recording ended") from None
            why = f"{self.session_dir.name}: writing the recording: {exc.strerror or exc}"
            raise WriteFailed(exc.errno, why) from exc
        self.persisted = gathered.end
        self._entries += gathered.count
        self.seen.update(gathered.ids)

    def _commit_locked(
        self,
        slots: int | None,
        gathered: RawBatch,
        inode: int,
        fp: str,
        reset: bool,
        info: dict[str, str],
        early: EarlyAppend | None,
    ) -> None:
        """`_commit`'s part under the raw file's lock, `slots` the slot file open (None when
        it cannot be: the step then journals); `early` the batch's bytes appended already."""
        try:
            marker = self._markers.current(slots)
        except FileNotFoundError:
            raise RecordingGone(f"{self.session_dir.name}: the recording ended") from None
        if marker.source_offset != self.persisted:
            # Someone else (finalization's catch-up) moved the recording on: reload and let
            # the next step read from there.
            log.info("%s: marker moved by another writer; reloading", self.session_dir.name)
            self._load(marker)
            raise _Reloaded
        # A step that moves only what a commit slot holds (offsets, counts, session info)
        # takes one slot write; a reset or lines of unknown types rewrite the marker (through
        # the journal with data).
        self.slow = not (
            not reset
            and not gathered.unknown
            and slots is not None
            and append_committed(
                self._markers,
                marker,
                gathered.chunks,
                gathered.end,
                gathered.count,
                fp,
                info,
                slots,
                early,
            )
        )
        if self.slow:
            self._rewrite_marker(gathered, inode, fp, reset, info)

    def _rewrite_marker(
        self, gathered: RawBatch, inode: int, fp: str, reset: bool, info: dict[str, str]
    ) -> None:
        """The whole marker rewritten with the step's move (through the journal when there
        are bytes to append): the slow path, so its `change` is made only here."""
        new_offset = gathered.end

        def change(marker: RecordingMarker) -> None:
            marker.source_offset = new_offset
            marker.entry_count += gathered.count
            if reset:
                # The file was replaced: everything in it belongs to the recording.
                marker.start_offset = 0
            marker.source_inode = inode  # type: ignore[attr-defined]  # extra key
            marker.source_fingerprint = fp  # type: ignore[attr-defined]
            note_session(marker, info, gathered.unknown)

        markers = self._markers
        data = gathered.chunks  # appended with writev: a catch-up's 32 MB is never joined
        if any(data):
            durable_append(self.session_dir, data, self.persisted, new_offset, change, markers)
            return
        try:
            # Bytes past the commit (a failed step's) are cut off, not committed.
            markers.commit(change, uncommitted_cut(markers.raw, markers.current()))
        except FileNotFoundError:
            raise RecordingGone(f"{self.session_dir.name}: the recording ended") from None


class _Reloaded(Exception):
    pass


def _after_zeros(window: bytes) -> bytes:
    """The end of an over-long line as `within` takes it, from its last `MAX_LINE + 1`
    bytes read past their holes (shorter: a hole is a NUL byte there): what follows the
    last NUL."""
    return window[window.rfind(b"\0") + 1 :]
