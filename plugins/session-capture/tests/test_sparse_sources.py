"""A sparse session file against capture: gigabytes of holes (zeros that cost their maker no
disk) with lines of real data between them, a newline every MiB, zeros written for real.

What is right: a live tail's steps and a stop's catch-up (its helper processes included)
read the file's data, not its holes (`SEEK_DATA`), so they cost what the file costs on disk,
not what it claims to be; and they capture exactly what reading it whole captures (zeros
before a line are no part of it), whatever lies where: a line split by a hole, a line that
ends where a hole begins, an over-long line of holes, a file system that reports no holes or
reports them stale. A dense file is read as before: no `lseek` for holes at all.

Bytes read are counted by `os.pread`, in this process and in the catch-up's forked helpers
(a shared page), so the numbers do not depend on the machine's load.
"""

from __future__ import annotations

import errno
import mmap
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from ox_session_capture import blocks, tail
from ox_session_capture.adapters import load_adapter
from ox_session_capture.blocks import helpers_possible
from ox_session_capture.raw_lines import UNKNOWN_KEY
from ox_session_capture.recording import create_recording, stop_recording
from ox_session_capture.records import RAW, read_marker
from ox_session_capture.tail import SourceTail
from ox_session_capture.testing import CLAUDE_DIR, followed, numbered_user
from ox_session_capture.transcript import read_raw

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
PAGE = 4096


@pytest.fixture(autouse=True)
def holes_reported(tmp_path: Path) -> None:
    """Skip unless the test's file system keeps holes and reports them (`SEEK_DATA`)."""
    probe = tmp_path / "probe"
    with open(probe, "wb") as f:
        f.truncate(4 * MIB)
        os.pwrite(f.fileno(), b"x", 2 * MIB)
        try:
            at = os.lseek(f.fileno(), 0, os.SEEK_DATA)
        except (OSError, AttributeError) as exc:
            pytest.skip(f"no SEEK_DATA on the test's file system: {exc}")
    blocks_used = os.stat(probe).st_blocks * 512
    probe.unlink()
    if at == 0 or blocks_used >= 4 * MIB:
        pytest.skip("the test's file system keeps or reports no holes (a sparse file is dense)")


class Counted:
    """Bytes `os.pread` returned and `lseek`s for holes made, in this process and in the
    helpers it forks: each process adds to its own slot of a shared page (no lost update)."""

    SLOTS = 255

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._page = mmap.mmap(-1, 16 * self.SLOTS)
        pread, lseek = os.pread, os.lseek

        def counting_pread(fd: int, n: int, offset: int) -> bytes:
            data = pread(fd, n, offset)
            self._add(0, len(data))
            return data

        def counting_lseek(fd: int, pos: int, how: int) -> int:
            if how in (os.SEEK_DATA, os.SEEK_HOLE):
                self._add(8, 1)
            return lseek(fd, pos, how)

        monkeypatch.setattr(os, "pread", counting_pread)
        monkeypatch.setattr(os, "lseek", counting_lseek)

    def _add(self, at: int, n: int) -> None:
        at += 16 * (os.getpid() % self.SLOTS)
        self._page[at : at + 8] = (int.from_bytes(self._page[at : at + 8], "little") + n).to_bytes(
            8, "little"
        )

    def _sum(self, at: int) -> int:
        page = self._page
        return sum(int.from_bytes(page[i : i + 8], "little") for i in range(at, len(page), 16))

    @property
    def read(self) -> int:
        return self._sum(0)

    @property
    def seeks(self) -> int:
        return self._sum(8)


def contents(session_dir: Path) -> list[str]:
    return [e.content for e in read_raw(session_dir / RAW).entries]


def drain(source_tail: SourceTail) -> int:
    """Step `source_tail` until nothing more is consumed; the steps that consumed."""
    for steps in range(10_000):
        if not source_tail.step().progressed:
            return steps
    raise AssertionError("the tail never stopped consuming")


# ------------------------------------------------------------------ gigabytes of holes


def gigabytes_of_holes(src: Path, first: int = 2) -> list[str]:
    """`src` goes on past three GiB of holes, the contents of its lines (`message <first>`
    on) returned: a line after a GiB of hole, zeros written for real (a line of them), a line
    split by a GiB of hole (junk: no JSON line), then a line a MiB (each after a MiB of hole:
    a `\\n` page every MiB) for a GiB, and a last line after 5 MiB of hole. About 4 MiB of
    disk."""
    want: list[str] = []
    n = first
    with open(src, "r+b") as f:
        pos = f.seek(0, os.SEEK_END)

        def put(data: bytes, gap: int = 0) -> None:
            nonlocal pos
            pos += gap
            os.pwrite(f.fileno(), data, pos)
            pos += len(data)

        put(numbered_user(n), GIB)
        want.append(f"message {n}")
        put(b"\0" * (64 * KIB) + b"\n")  # real zeros: a line of them, read as data is
        split = numbered_user(n + 1)
        put(split[:40])
        put(split[40:], GIB)  # what follows the hole is no JSON line: nothing captured
        n += 2
        for _ in range(1024):
            put(numbered_user(n), MIB)
            want.append(f"message {n}")
            n += 1
        put(numbered_user(n), 5 * MIB)
        want.append(f"message {n}")
    return want


def test_a_live_tail_reads_the_data_of_gigabytes_of_holes_not_the_holes(
    home: Path, ledger: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step read a batch of bytes from its offset, holes and all: a `\\n` every MiB made
    every MiB of holes a step that read it (a GiB: 2,000 steps, 3 GiB read, seconds of the
    capture thread), for a file that costs a page of disk per MiB. Now a step reads a batch
    of data, past the holes."""
    src, rec, source_tail = followed(ledger, home)
    want = gigabytes_of_holes(src)
    assert os.stat(src).st_size > 3 * GIB
    assert os.stat(src).st_blocks * 512 < 8 * MIB  # what the attack costs on disk
    counted = Counted(monkeypatch)
    steps = drain(source_tail)
    assert contents(rec.session_dir) == ["message 1", *want]
    assert counted.read < 24 * MIB, f"read {counted.read // MIB} MiB for ~4 MiB of data"
    assert steps < 32, f"{steps} steps for ~4 MiB of data"


def test_a_stops_catch_up_reads_the_data_of_gigabytes_of_holes_not_the_holes(
    home: Path, ledger: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = home / CLAUDE_DIR / "a.jsonl"
    src.parent.mkdir(parents=True)
    src.write_bytes(b"")
    rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home)
    write_layout(src, [(0, numbered_user(1))], sparse=False)
    want = gigabytes_of_holes(src)
    counted = Counted(monkeypatch)
    stop_recording(rec.session_dir, redact=lambda text: text)
    assert contents(rec.session_dir) == ["message 1", *want]
    assert counted.read < 24 * MIB, f"read {counted.read // MIB} MiB for ~4 MiB of data"


# ------------------------------------------------------------------ as if read whole


def tricky_layout() -> list[tuple[int, bytes]]:
    """`(gap, data)` pieces: each `data` written `gap` bytes (a hole) past the last. Every
    place a hole can be against a line, in ~40 MiB, a third of it data."""
    pieces: list[tuple[int, bytes]] = []
    pos = 0

    def put(data: bytes, gap: int = 0) -> None:
        nonlocal pos
        pieces.append((gap, data))
        pos += gap + len(data)

    def lines(first: int, size: int, holes_every: int = 0) -> None:
        """Whole lines (`message <first>` on) for `size` bytes, a hole of two pages after
        the line that passes each `holes_every` bytes (its zeros before the next line)."""
        n, done, since = first, 0, 0
        while done < size:
            line = numbered_user(n)
            gap = 0
            if holes_every and since >= holes_every:
                gap = -pos % PAGE + 2 * PAGE
                since = 0
            put(line, gap)
            done += len(line)
            since += len(line)
            n += 1

    put(numbered_user(1))
    put(numbered_user(2), 3 * MIB)  # a line after a hole larger than a batch
    put(b"\0" * (64 * KIB) + b"\n")  # zeros written for real: a line of them
    put(b"\n" + numbered_user(3))
    split = numbered_user(4)
    put(split[:50])
    put(split[50:], 2 * MIB)  # a line split by a hole
    line = numbered_user(5)
    put(b" " * (-(pos + len(line)) % PAGE) + line)  # a line that ends where a hole begins
    put(b"\n", MIB)  # a line of nothing but a hole
    put(b"\n", MIB)
    lines(100, 6 * MIB)  # dense: helpers convert it
    lines(100_000, 3 * MIB, holes_every=300 * KIB)  # holes between lines, a few a block
    put(b'{"type": "user", "message": "')
    put(numbered_user(6), 11 * MIB)  # over 10 MiB of hole: its end is the line
    put(b"x" * (3 * MIB))
    put(numbered_user(7), MIB)  # a first line longer than a batch, a hole, a JSON line
    put(numbered_user(8), 2 * MIB)
    put(b'{"type": "user", "message": "not yet', 2 * MIB)  # no newline: not taken
    return pieces


def write_layout(path: Path, pieces: list[tuple[int, bytes]], *, sparse: bool) -> None:
    """The pieces written into `path` (appended): their gaps as holes, or as zeros written."""
    with open(path, "r+b") as f:
        pos = f.seek(0, os.SEEK_END)
        for gap, data in pieces:
            if not sparse and gap:
                os.pwrite(f.fileno(), b"\0" * gap, pos)
            pos += gap
            os.pwrite(f.fileno(), data, pos)
            pos += len(data)


def captured(
    home: Path, ledger: Path, name: str, pieces: list[tuple[int, bytes]], sparse: bool, live: bool
) -> tuple[list[dict[str, object]], object]:
    """The entries (and the counts of lines of unknown types, live) a live tail (`live`) or a
    stop's catch-up captured from a file of `pieces`, sparse or dense."""
    src = home / CLAUDE_DIR / name
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(b"")
    rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home)
    write_layout(src, pieces, sparse=sparse)
    if sparse:
        assert os.stat(src).st_blocks * 512 < os.stat(src).st_size // 2
    unknown: object = None
    if live:
        source_tail = SourceTail(rec.session_dir, load_adapter("claude-code"), src)
        source_tail.resume()
        drain(source_tail)
        unknown = (read_marker(rec.session_dir).model_extra or {}).get(UNKNOWN_KEY)
        assert unknown
    else:
        stop_recording(rec.session_dir, redact=lambda text: text)
    return [e.model_dump() for e in read_raw(rec.session_dir / RAW).entries], unknown


@pytest.mark.parametrize("live", [True, False], ids=["live", "catch-up"])
def test_holes_anywhere_capture_what_reading_them_as_zeros_does(
    home: Path, ledger: Path, live: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    pieces = tricky_layout()
    dense = captured(home, ledger, "dense.jsonl", pieces, sparse=False, live=live)
    folded: list[bool] = []
    merge = tail.merge_block

    def noting(block: blocks.Block, *args: object) -> object:
        folded.append(block.sparse)
        return merge(block, *args)

    monkeypatch.setattr(tail, "merge_block", noting)
    sparse = captured(home, ledger, "sparse.jsonl", pieces, sparse=True, live=live)
    got = {e["content"] for e in dense[0]}
    assert {f"message {n}" for n in (1, 2, 3, 5, 6, 7, 8, 100, 100_001)} <= got
    assert "message 4" not in got  # split by a hole: neither half is a line
    assert sparse == dense
    if not live and helpers_possible():
        # Helpers converted the dense part, and one met a hole the plan did not see.
        assert False in folded, folded
        assert True in folded, folded


def no_hole_reporting(monkeypatch: pytest.MonkeyPatch) -> None:
    lseek = os.lseek

    def refusing(fd: int, pos: int, how: int) -> int:
        if how in (os.SEEK_DATA, os.SEEK_HOLE):
            raise OSError(errno.EINVAL, "not supported")
        return lseek(fd, pos, how)

    monkeypatch.setattr(os, "lseek", refusing)


def stale_holes(monkeypatch: pytest.MonkeyPatch) -> None:
    """`SEEK_HOLE` says a hole begins at the next page boundary, wherever: as stale an answer
    as can be (data written since it was looked at)."""
    lseek = os.lseek

    def stale(fd: int, pos: int, how: int) -> int:
        if how == os.SEEK_HOLE:
            return min(lseek(fd, pos, how), pos - pos % PAGE + PAGE)
        return lseek(fd, pos, how)

    monkeypatch.setattr(os, "lseek", stale)


@pytest.mark.parametrize("live", [True, False], ids=["live", "catch-up"])
@pytest.mark.parametrize("lseek", [no_hole_reporting, stale_holes], ids=["none", "stale"])
def test_a_file_system_that_reports_no_holes_or_stale_ones_loses_nothing(
    home: Path,
    ledger: Path,
    live: bool,
    lseek: Callable[[pytest.MonkeyPatch], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only what `SEEK_DATA` says is a hole is skipped: a `SEEK_HOLE` answer only ends a read
    early, and an `lseek` that fails leaves plain reading."""
    pieces = tricky_layout()
    dense = captured(home, ledger, "dense.jsonl", pieces, sparse=False, live=live)
    lseek(monkeypatch)
    assert captured(home, ledger, "sparse.jsonl", pieces, sparse=True, live=live) == dense


# ------------------------------------------------------------------ the common path


def test_a_dense_file_is_read_without_looking_for_holes(
    home: Path, ledger: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Looking for holes costs an `lseek` only after a read that showed zeros: none for a
    file of JSON lines, live or caught up (helpers included), and it is read once."""
    counted = Counted(monkeypatch)
    src, rec, source_tail = followed(ledger, home)
    body = b"".join(numbered_user(n) for n in range(2, 60_000))
    with open(src, "ab") as f:
        f.write(body[: len(body) // 2])
    drain(source_tail)
    with open(src, "ab") as f:
        f.write(body[len(body) // 2 :])
    stop_recording(rec.session_dir, redact=lambda text: text)
    assert counted.seeks == 0
    assert len(contents(rec.session_dir)) == 59_999
    # Read once, and the catch-up's plans' windows (64 KiB a block of 2 MiB).
    assert counted.read < len(body) * 1.1, (counted.read, len(body))
