"""Catching up a long session file on two cores: blocks converted by forked helpers.

A catch-up (`recover.catch_up`) reads the agent's file in blocks of whole lines. With enough
to read, two helper processes forked from the catching-up thread convert the blocks
(`Helper`, `convert_next`): parse, convert with a fresh adapter of the same class, redact,
serialise; each takes the next block as it hands one back. The tail folds each block into its
own state, in file order, exactly as if it had converted it itself (`merge_block`):

- the adapter's open tool calls: a helper logs every call it opened and every result that
  looked one up (`LoggedCalls`), in order; the tail replays the log on its own calls, and a
  result whose tool name differs from the one the helper could see (its call was in an
  earlier block) gets the right one;
- duplicates (an agent message id already captured, or earlier in the batch) are dropped
  with the tail's own sets, after the replay;
- session info (latest wins) and the counts of unknown line types are added in order.

So `raw.jsonl` gets the same bytes whether or not helpers ran; `test_catch_up_blocks.py`
checks that on generated files. Only adapters that say their lines depend on nothing but
that state (`independent_blocks`) get helpers; a helper that fails, is killed, or meets
what it cannot fold (an over-long line, a log it cannot match) gives nothing back, and the
tail converts that block itself. A helper is a child of the tail's thread: it gets SIGKILL
when that thread ends (`PR_SET_PDEATHSIG`), is killed and reaped by `Helper.close`
whatever happens, closes every descriptor but its two pipes and the session file (another
thread's lock would stay held by its copy), writes nothing but its blocks (with their first
and last bytes, for the tail's prefix print) to a pipe, and never logs (a lock another
thread held at the fork stays held in the child).

A sparse file's holes are not read (`data_regions`, below): a block with a hole is read by
the tail itself, past its holes; a helper that meets one says so (`Block.sparse`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import math
import os
import pickle
import select
import signal
import sys
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pydantic_core

from ox_session_capture.adapters.base import UNKNOWN_TYPES_KEPT, Calls
from ox_session_capture.raw_lines import (
    FINGERPRINT_SPAN,
    Fields,
    Redactor,
    entry_lines,
    entry_parser,
    redact_fields,
    whole_lines,
    within,
)

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
_PIPE_BYTES = 1024 * 1024  # Linux's default /proc/sys/fs/pipe-max-size
HELPER_TIMEOUT = 120.0
"""Seconds a tail waits for one block from its helper (which takes about as long as the
tail's own block, a second at most): past that the helper is taken as stuck (a lock held by
another thread at the fork, say), killed, and the tail converts the block itself."""


# ---------------------------------------------------------------- reading past holes
#
# A hole of a sparse file reads as zeros and costs its maker no disk: a file of terabytes of
# holes with a line of data here and there would hold whoever reads it whole for hours. Zeros
# are no JSON line (a run of NUL bytes before a line is no part of it: `within`,
# `adapters.base.load_json_object`), so what `SEEK_DATA` reports as a hole is skipped, never
# read. A `SEEK_HOLE` answer may be stale (the file written since): it only ever ends a read
# early, and the next `SEEK_DATA` decides; a file system that reports no holes, or an `lseek`
# that fails, leaves plain reading. A read of real lines pays a strided copy of a byte per
# page (`zero_pages`), and one `lseek` only when that shows zeros.

PAGE = 4096
"""Where holes are looked for in bytes read: a hole of a page or more holds a zero at a page
boundary of the file; a read past holes counts each of its reads as a page at least."""


def zero_pages(data: bytes, offset: int) -> bool:
    """Whether `data`, read at `offset`, holds a NUL byte at one of the file's page boundaries:
    where a hole of a page or more shows (JSON text holds none)."""
    return b"\0" in data[-offset % PAGE :: PAGE]


def first_hole(fd: int, start: int, end: int) -> int:
    """Where the first hole in `[start, end)` of the file open at `fd` begins, as `SEEK_HOLE`
    says now; `end` when there is none, or the file system cannot tell."""
    try:
        hole = os.lseek(fd, start, os.SEEK_HOLE)
    except OSError:
        return end
    return hole if start <= hole < end else end


def next_data(fd: int, pos: int, size: int) -> int:
    """The first offset from `pos` that may hold a newline: what `SEEK_DATA` reports as a
    hole is skipped, not read. `size` past the last data; `pos` when `lseek` cannot tell."""
    try:
        return min(os.lseek(fd, pos, os.SEEK_DATA), size)
    except OSError as exc:  # ENXIO: nothing but a hole up to the end
        return size if exc.errno == errno.ENXIO else pos


def data_end(fd: int, pos: int, size: int) -> int:
    """Where the data at `pos` ends: the next hole, else `size`. A read goes no further and
    `next_data` skips the hole after it: a whole chunk from each byte of data would read the
    MiB of zeros after it, so a file with a byte every MiB (a page of disk per MiB) would be
    read whole. (`pos` in a hole, the file changed meanwhile: `size`.)"""
    hole = first_hole(fd, pos, size)
    return hole if hole > pos else size


def data_regions(
    fd: int, pos: int, stop: int, budget: int, least: int = PAGE
) -> Iterator[tuple[int, bytes]]:
    """The data of the file open at `fd` in `[pos, stop)`, as `(offset, bytes read)` in file
    order, holes skipped; until `budget` bytes were read (each read counted as `least` bytes
    at least: the `lseek`s and reads are bounded too) or a read comes back empty."""
    while pos < stop and budget > 0:
        at = next_data(fd, pos, stop)
        if at >= stop:
            return
        chunk = os.pread(fd, min(data_end(fd, at, stop), at + budget) - at, at)
        if not chunk:
            return
        yield at, chunk
        budget -= max(len(chunk), least)
        pos = at + len(chunk)


def line_of(fd: int, start: int, end: int) -> bytes:
    """`[start, end)` of the file open at `fd` (one line, without its newline) read past its
    holes: as read whole, but for a hole in it, when it is a NUL byte and what follows the
    last hole (zeros before a line are no part of it)."""
    parts: list[bytes] = []
    pos = start
    for at, chunk in data_regions(fd, start, end, end - start, least=1):  # all of it
        if at > pos:
            parts = [b"\0"]
        parts.append(chunk)
        pos = at + len(chunk)
    if pos < end:  # zeros up to the end (or the file shrank meanwhile)
        parts = [b"\0"]
    return b"".join(parts)


@dataclass
class DataLines:
    """`data_lines`' answer: the whole lines read, the offset past the last one's newline
    (`end`: the start when none), the lines over the limit left out, whether a hole was
    skipped, where reading stopped, and the first and last `FINGERPRINT_SPAN` bytes of
    `[start, end)` as read (a hole's as zeros: for the tail's prefix print)."""

    lines: list[bytes]
    end: int
    skipped: int
    holes: bool
    scanned: int
    first: bytes = b""
    last: bytes = b""


def data_lines(pieces: Iterable[tuple[int, bytes]], start: int, max_line: int) -> DataLines:
    """The whole lines from `start` in `pieces` (a file's data read past its holes,
    `data_regions`), as `whole_lines` splits the same bytes read whole, but that a line which
    holds a hole is a NUL byte and what follows its last hole (for a JSON line it is the same
    line: no JSON text holds a NUL, and what follows the last one is the line)."""
    lines: list[bytes] = []
    read: list[tuple[int, bytes]] = []
    line: list[bytes] = []  # the line under way: since its start, or since its last hole
    pos = end = start
    holes = False
    for at, chunk in pieces:
        read.append((at, chunk))
        if at > pos:
            holes = True
            line = [b"\0"]
        pos = at + len(chunk)
        if chunk.rfind(b"\n") < 0:
            line.append(chunk)
            continue
        parts = chunk.split(b"\n")
        rest = parts.pop()
        line.append(parts[0])
        parts[0] = b"".join(line)
        lines += parts
        end = pos - len(rest)
        line = [rest]
    skipped = 0
    if lines and max(map(len, lines)) > max_line:  # as `whole_lines` leaves them out
        kept = [part for one in lines if (part := within(one, max_line)) is not None]
        skipped = len(lines) - len(kept)
        lines = kept
    got = DataLines(lines, end, skipped, holes, pos)
    if end > start:
        got.first = _span(read, start, min(end, start + FINGERPRINT_SPAN))
        got.last = _span(read, max(start, end - FINGERPRINT_SPAN), end)
    return got


def _span(read: list[tuple[int, bytes]], start: int, end: int) -> bytes:
    """`[start, end)` of the file as `read` (its pieces in order) holds it; zeros between."""
    out = bytearray(end - start)
    for at, chunk in read:
        low, high = max(start, at), min(end, at + len(chunk))
        if low < high:
            out[low - start : high - start] = chunk[low - at : high - at]
    return bytes(out)


class LoggedCalls(Calls):
    """`Calls` that also logs, in order, each call opened `(id, name)` and each lookup of a
    result `(id, None)`: what `merge_block` replays on the tail's own calls."""

    def __init__(self, limit: int = 4096) -> None:
        super().__init__(limit)
        self.log: list[tuple[str, str | None]] = []
        self.lookups = 0

    def add(self, call_id: str | None, name: str) -> None:
        if call_id:
            self.log.append((call_id, name))
        super().add(call_id, name)

    def pop(self, call_id: str | None) -> str | None:
        if call_id:
            self.log.append((call_id, None))
            self.lookups += 1
        return super().pop(call_id)


@dataclass
class Block:
    """One block of whole lines converted apart from the tail: its entries' `raw.jsonl`
    lines (`data`, each ending with a newline: JSON text has none inside) and their agent
    message ids; `looked_up` maps an entry (a tool result) to the index of its lookup among
    the log's lookups and the tool name it got."""

    start: int
    end: int
    skipped_long: int = 0
    data: bytes = b""
    ids: list[str | None] = field(default_factory=list)
    looked_up: dict[int, tuple[int, str | None]] = field(default_factory=dict)
    calls: list[tuple[str, str | None]] = field(default_factory=list)
    info: dict[str, str] = field(default_factory=dict)
    unknown: dict[str, int] = field(default_factory=dict)
    failed_lines: int = 0
    not_entries: int = 0
    # The first and last `FINGERPRINT_SPAN` bytes of `[start, end)` as the helper read them:
    # the tail's prefix print goes on with the bytes read, never with a later read of the
    # file (a rewrite meanwhile would go unseen).
    first: bytes = b""
    last: bytes = b""
    # A hole was read in the block (its zeros convert to nothing): the tail reads on past the
    # holes itself (`tail.SourceTail._read`) rather than have helpers read them.
    sparse: bool = False


class CannotFold(Exception):
    """The block converted apart would not be the same as converted by the tail."""


def independent_blocks(adapter: object) -> bool:
    """Whether `adapter`'s lines can be converted by block apart from each other and folded
    back (`merge_block`): it says so, and its state is a `Calls` and plain dicts."""
    return (
        getattr(type(adapter), "independent_blocks", False) is True
        and type(getattr(adapter, "calls", None)) is Calls
        and isinstance(getattr(adapter, "info", None), dict)
        and isinstance(getattr(adapter, "unknown", None), dict)
    )


def convert_block(
    adapter_class: Callable[[], Any],
    lines: list[bytes],
    start: int,
    end: int,
    skipped_long: int,
    redact: Redactor | None,
) -> Block:
    """`lines` (a block of whole source lines from `start` to `end`) converted by a fresh
    adapter, redacted and serialised. Raises `CannotFold` when the result could not be folded
    back exactly."""
    adapter = adapter_class()
    calls = LoggedCalls(adapter.calls.limit)
    adapter.calls = calls
    parse = entry_parser(adapter)
    block = Block(start, end, skipped_long)
    entries: list[Fields] = []
    for line in lines:
        lookups = calls.lookups
        try:
            got = parse(line)
        except Exception:
            block.failed_lines += 1
            continue
        # The lookups this line made belong to its tool results, one each, in order.
        lookup = lookups
        for entry in got:
            if entry.__class__ is not dict:
                block.not_entries += 1
                continue
            if "tool_output" in entry and "call_id" in entry:
                if lookup >= calls.lookups:
                    raise CannotFold("a tool result without its lookup")
                block.looked_up[len(entries)] = (lookup, entry.get("tool_name"))
                lookup += 1
            entries.append(entry)
        if lookup != calls.lookups:
            raise CannotFold("a lookup without its tool result")
    if len(adapter.unknown) >= UNKNOWN_TYPES_KEPT:
        # Which types the tail keeps counting then depends on the blocks before this one.
        raise CannotFold("too many unknown line types")
    if redact is not None:
        redact_fields(entries, redact)
    block.data = entry_lines(entries)
    block.ids = [sid if isinstance(sid := e.get("source_id"), str) else None for e in entries]
    block.calls = calls.log
    block.info = dict(adapter.info)
    block.unknown = dict(adapter.unknown)
    return block


def convert_next(
    adapter_class: Callable[[], Any],
    fd: int,
    start: int,
    end: int,
    max_line: int,
    redact: Redactor | None,
) -> Block:
    """The block of whole lines in `[start, end)` of the file open at `fd` (lines over
    `max_line` left out), converted (`convert_block`); an empty block (`end == start`) when
    it is not one a tail can fold: an over-long line, a result without its lookup... A
    block that holds a hole says so (`Block.sparse`)."""
    data = os.pread(fd, end - start, start)
    sparse = zero_pages(data, start) and first_hole(fd, start, end) < end
    split = whole_lines(data, max_line)
    if split is None:
        return Block(start, start, sparse=sparse)
    lines, used, skipped = split
    try:
        block = convert_block(adapter_class, lines, start, start + used, skipped, redact)
    except CannotFold:
        return Block(start, start, sparse=sparse)
    block.first = data[: min(used, FINGERPRINT_SPAN)]
    block.last = data[max(0, used - FINGERPRINT_SPAN) : used]
    block.sparse = sparse
    return block


def merge_block(
    block: Block, adapter: Any, seen: set[str], batch_ids: set[str]
) -> tuple[bytes, int, list[str], int]:
    """Fold `block` into the tail's `adapter` as if it had converted the block's lines: the
    `raw.jsonl` lines it adds, how many, their agent message ids, and how many entries were
    dropped as duplicates."""
    calls: Calls = adapter.calls
    names: list[str | None] = []
    for call_id, name in block.calls:
        if name is None:
            names.append(calls.pop(call_id))
        else:
            calls.add(call_id, name)
    _fold_counts(block, adapter)
    looked_up = block.looked_up
    ids = [sid for sid in block.ids if sid is not None]
    distinct = set(ids)
    if (
        len(distinct) == len(ids)
        and distinct.isdisjoint(seen)
        and distinct.isdisjoint(batch_ids)
        and all(names[lookup] == had for lookup, had in looked_up.values())
    ):
        # Nothing to drop or rename (a catch-up's usual block): its lines as they are.
        batch_ids.update(distinct)
        return block.data, len(block.ids), ids, 0
    lines: list[bytes] = []
    ids = []
    dups = 0
    every = block.data.split(b"\n")
    del every[-1]
    for n, line in enumerate(every):
        sid = block.ids[n]
        if sid is not None:
            if sid in seen or sid in batch_ids:
                dups += 1
                continue
            batch_ids.add(sid)
            ids.append(sid)
        if n in looked_up:
            lookup, had = looked_up[n]
            if names[lookup] != had:
                line = _renamed(line, names[lookup])
        lines.append(line)
    return b"\n".join([*lines, b""]) if lines else b"", len(lines), ids, dups


def _fold_counts(block: Block, adapter: Any) -> None:
    """The block's session info (latest wins) and unknown line types into `adapter`."""
    adapter.info.update(block.info)
    counts: dict[str, int] = adapter.unknown
    for key, count in block.unknown.items():
        if key in counts or len(counts) < UNKNOWN_TYPES_KEPT:
            counts[key] = counts.get(key, 0) + count
    if block.failed_lines or block.not_entries:
        log.warning("%s: %d lines the adapter failed on, %d results that were not entries; "
                    "skipped", getattr(adapter, "name", "?"), block.failed_lines,
                    block.not_entries)  # fmt: skip


def _renamed(line: bytes, name: str | None) -> bytes:
    """A tool result's line with the tool name `name` (None: without one), in its place
    (after `content`, as `tool_result` writes it)."""
    entry = pydantic_core.from_json(line)
    out: dict[str, Any] = {}
    for key, value in entry.items():
        if key == "tool_name":
            continue
        out[key] = value
        if key == "content" and name:
            out["tool_name"] = name
    return pydantic_core.to_json(out)


# ---------------------------------------------------------------- the helper process


def helpers_possible() -> bool:
    """Whether a helper can be forked here: Linux (the parent-death signal) with 2+ cores."""
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    try:
        return len(os.sched_getaffinity(0)) >= 2
    except OSError:
        return (os.cpu_count() or 1) >= 2


_libc: Any = None


def _prctl() -> Any:
    global _libc
    if _libc is None:
        import ctypes  # only a catch-up with helpers needs it: not at the daemon's start

        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc.prctl


class Helper:
    """A forked child that converts blocks of the file open at `fd` on request
    (`convert_next` with `adapter_class`, `max_line`, `redact`), one at a time: `submit` a
    block, then `receive` what its pipe holds whenever it is readable; each converted block
    lands in `finished`, in the order asked. Forked once for a catch-up's run of blocks:
    the pages both processes then write are copied once, not at every block. `close()` ends
    and reaps it: call it always.

    `fd` is the tail's descriptor at the fork: the helper reads the file that was open then,
    so a tail gives it blocks of that file only."""

    def __init__(
        self, adapter_class: Callable[[], Any], fd: int, max_line: int, redact: Redactor | None
    ) -> None:
        prctl = _prctl()  # loaded before the fork: the child imports nothing
        parent = os.getpid()
        requests = os.pipe()
        try:
            results = os.pipe()
        except BaseException:  # out of descriptors: none of ours left open
            os.close(requests[0])
            os.close(requests[1])
            raise
        with contextlib.suppress(OSError):  # the helper writes a block while the tail works
            fcntl.fcntl(results[1], fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        try:
            with warnings.catch_warnings():
                # Python 3.12+ warns of fork() in a process with threads: the child here
                # runs only this module's code on memory it owns, and never logs (see above).
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
        except BaseException:
            for end in (*requests, *results):
                os.close(end)
            raise
        if pid == 0:  # pragma: no cover - the child; what it writes is what the tests see
            os.close(requests[1])
            os.close(results[0])
            _serve(prctl, parent, requests[0], results[1], adapter_class, fd, max_line, redact)
        os.close(requests[0])
        os.close(results[1])
        os.set_blocking(results[0], False)  # read as it comes (`receive`), never waited on
        self.pid: int | None = pid
        self._requests: int = requests[1]
        self._results: int = results[0]
        self.deadline: float | None = None  # of the block asked and not yet received
        self.finished: deque[Block] = deque()
        self._parts: list[bytes] = []  # what was read of the block being received
        self._have = 0

    @property
    def alive(self) -> bool:
        return self.pid is not None

    @property
    def idle(self) -> bool:
        """Alive and converting nothing: it may be asked for a block."""
        return self.pid is not None and self.deadline is None

    def fileno(self) -> int:
        return self._results

    def submit(self, start: int, end: int) -> bool:
        """Ask for the block of whole lines in `[start, end)`; False when the helper is gone
        (it is then closed)."""
        if not self.idle:
            return False
        try:
            _write_all(self._requests, start.to_bytes(8, "little") + end.to_bytes(8, "little"))
        except OSError:  # it died: EPIPE
            self.close()
            return False
        self.deadline = time.monotonic() + HELPER_TIMEOUT
        return True

    def receive(self) -> None:
        """Read what the helper wrote so far, without waiting: a whole block goes to
        `finished` (the helper is then idle); at its end (EOF, an error) it is closed."""
        while self.pid is not None:
            try:
                chunk = os.read(self._results, _PIPE_BYTES)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self.close()
                return
            self._parts.append(chunk)
            self._have += len(chunk)
            self._unpack()

    def _unpack(self) -> None:
        if self._have < 8:
            return
        head = self._parts[0] if len(self._parts[0]) >= 8 else b"".join(self._parts)
        size = 8 + int.from_bytes(head[:8], "little")
        if self._have < size:
            return
        if self._have > size:  # more than the block asked for: not our helper's protocol
            self.close()
            return
        data = self._parts[0] if len(self._parts) == 1 else b"".join(self._parts)
        self._parts, self._have = [], 0
        block = pickle.loads(memoryview(data)[8:])  # our own fork's bytes, never a file's
        if not isinstance(block, Block):
            self.close()
            return
        self.finished.append(block)
        self.deadline = None

    def close(self) -> None:
        """End the helper (EOF on its requests, then SIGKILL if it has not exited) and reap it."""
        for name in ("_requests", "_results"):
            fd = getattr(self, name)
            if fd >= 0:
                setattr(self, name, -1)
                os.close(fd)
        self._parts, self._have = [], 0
        pid, self.pid = self.pid, None
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


class Helpers:
    """Up to `count` helpers (forked by `fork`, which gives None when it cannot) converting
    the blocks that `plan` gives (`(start, end)` in file order, None: no more for now), at
    most `ahead` asked and not yet taken. A helper's block is read as soon as it is ready and
    the helper gets the next one at once: it never waits on the tail to take a block. `next`
    gives the blocks in the order asked. `close()` ends them all: call it always."""

    def __init__(
        self,
        count: int,
        fork: Callable[[], Helper | None],
        plan: Callable[[], tuple[int, int] | None],
        ahead: int,
    ) -> None:
        self._count = count
        self._fork: Callable[[], Helper | None] | None = fork
        self._plan = plan
        self._ahead = ahead
        self._helpers: list[Helper] = []
        self._order: deque[Helper] = deque()  # who converts each block asked, in file order

    @property
    def asked(self) -> int:
        """Blocks asked for and not yet taken (`next`)."""
        return len(self._order)

    def fill(self) -> None:
        """Ask an idle helper (forked if need be) for each next block, up to `ahead`."""
        while len(self._order) < self._ahead:
            helper = next((h for h in self._helpers if h.idle), None)
            if helper is None and self._fork is not None and len(self._helpers) < self._count:
                helper = self._fork()
                if helper is None:
                    self._fork = None  # not tried again at every block
                else:
                    self._helpers.append(helper)
            if helper is None:
                return
            request = self._plan()
            if request is None:
                return
            # A helper gone meanwhile is put in order all the same: its block is then None.
            helper.submit(*request)
            self._order.append(helper)
            if not helper.alive:
                return

    def next(self) -> Block | None:
        """The next block asked, once converted (the helpers get more to do while the tail
        waits); None when its helper ended or hung without it (it is closed then, and the tail
        converts the block itself)."""
        helper = self._order[0]  # still asked while waited on: `ahead` counts it
        while not helper.finished and helper.alive:
            assert helper.deadline is not None  # alive, without its block: converting it
            wait = helper.deadline - time.monotonic()
            if wait <= 0:
                log.warning("a catch-up helper was stuck without its block; converting it here")
                helper.close()
                break
            self._wait(wait)
            self.fill()
        self._order.popleft()
        if helper.finished:
            return helper.finished.popleft()
        if helper.deadline is None or helper.deadline > time.monotonic():
            log.warning("a catch-up helper ended without its block; converting it here")
        return None

    def _wait(self, timeout: float) -> None:
        """Read what every converting helper wrote, waiting up to `timeout` s for the first."""
        busy = {h.fileno(): h for h in self._helpers if h.alive and h.deadline is not None}
        poller = select.poll()
        for fd in busy:
            poller.register(fd, select.POLLIN)
        for fd, _ in poller.poll(math.ceil(timeout * 1000)):
            busy[fd].receive()

    def close(self) -> None:
        for helper in self._helpers:
            helper.close()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:  # an interrupted write is retried by Python itself (PEP 475)
        view = view[os.write(fd, view) :]


def _read_exactly(fd: int, size: int) -> bytes:
    """`size` bytes from `fd` (blocking), fewer only at its end."""
    chunks = []
    left = size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _serve(
    prctl: Any,
    parent: int,
    requests: int,
    results: int,
    adapter_class: Callable[[], Any],
    fd: int,
    max_line: int,
    redact: Redactor | None,
) -> None:  # pragma: no cover - runs in the forked child
    status = 1
    try:
        # Killed with the thread that forked it: a daemon killed mid-catch-up leaves none.
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)
        # Only the three descriptors it uses: a copy of any other the daemon had open at the
        # fork (another thread's `flock` of its recording, a client's socket, a pipe) would
        # keep that lock held, or that end open, after its owner closed it.
        low = 3
        for keep in sorted({requests, results, fd}):
            if keep >= low:
                os.closerange(low, keep)
                low = keep + 1
        os.closerange(low, max(low, os.sysconf("SC_OPEN_MAX")))
        logging.disable(logging.CRITICAL)  # no handler lock, no stderr: nothing to deadlock
        while len(request := _read_exactly(requests, 16)) == 16:
            start = int.from_bytes(request[:8], "little")
            end = int.from_bytes(request[8:], "little")
            block = convert_next(adapter_class, fd, start, end, max_line, redact)
            data = pickle.dumps(block, protocol=pickle.HIGHEST_PROTOCOL)
            _write_all(results, len(data).to_bytes(8, "little") + data)
        status = 0
    except BaseException:
        status = 1
    finally:
        os._exit(status)
