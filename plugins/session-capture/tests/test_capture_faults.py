"""Faults the capture must survive without losing or duplicating a line: the commit slot file
emptied or filled with garbage by hand, a full disk (ENOSPC) or an I/O error at a write of a
stop's drain. Faults are injected at the OS boundary only."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ox_session_capture import recording
from ox_session_capture.adapters import load_adapter
from ox_session_capture.commit_slots import SLOTS
from ox_session_capture.recording import RecordingRejected, create_recording, stop_recording
from ox_session_capture.records import MARKER, RAW
from ox_session_capture.recover import CatchUpResult, drain
from ox_session_capture.tail import SourceTail
from ox_session_capture.testing import append, claude_session_file, numbered_user


def texts(session_dir: Path) -> list[str]:
    lines = [json.loads(line) for line in (session_dir / RAW).read_text().splitlines()]
    return [str(e.get("content")) for e in lines if e.get("type") == "user"]


def messages(*numbers: int) -> list[str]:
    return [f"message {n}" for n in numbers]


def follow(session_dir: Path, source: Path) -> SourceTail:
    tail = SourceTail(session_dir, load_adapter("claude-code"), source)
    tail.resume()
    return tail


@pytest.mark.parametrize("damage", [b"", b"garbage\n" * 200])
def test_a_slot_file_damaged_by_hand_loses_no_line(ledger: Path, home: Path, damage: bytes) -> None:
    """The live steps committed only to the slot file; it is emptied or overwritten. The
    recording falls back to its marker (its start): `raw.jsonl` is cut back there and the
    lines are read again, each once. None may be taken for already captured on the strength
    of the bytes being cut off."""
    source = claude_session_file(home)
    rec = create_recording(ledger, "claude-code", source, pid=0)
    tail = follow(rec.session_dir, source)
    for n in range(1, 4):
        append(source, numbered_user(n))
        assert tail.step().entries == 1
    (rec.session_dir / SLOTS).write_bytes(damage)
    append(source, numbered_user(4))
    drain(tail)
    assert texts(rec.session_dir) == messages(1, 2, 3, 4)
    stop_recording(rec.session_dir)
    assert texts(rec.session_dir) == messages(1, 2, 3, 4)


def failing(
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    target: str,
    times: int,
    err: int,
    short: bool = False,
) -> Callable[[], int]:
    """`os.<name>` fails with `err` on an fd of a file named `target`, `times` times (with
    `short`, a write first takes half its bytes, as a disk filling up does); returns how many
    failures are left."""
    real = getattr(os, name)
    left = [times]
    halve = [short and name == "write"]

    def fake(fd: int, *args: object) -> object:
        if left[0] > 0 and os.readlink(f"/proc/self/fd/{fd}").endswith("/" + target):
            if halve[0]:
                halve[0] = False
                data = bytes(args[0])  # type: ignore[call-overload]
                return real(fd, data[: len(data) // 2])
            left[0] -= 1
            raise OSError(err, os.strerror(err))
        return real(fd, *args)

    monkeypatch.setattr(os, name, fake)
    return lambda: left[0]


def footers(session_dir: Path) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in (session_dir / RAW).read_text().splitlines()]
    return [e for e in lines if "closed_at" in e]


@pytest.mark.parametrize(
    ("call", "target", "err", "short"),
    [
        ("write", RAW, errno.ENOSPC, False),  # the drained line
        ("write", RAW, errno.ENOSPC, True),  # the drained line, half of it written
        ("fsync", RAW, errno.EIO, False),
        ("write", ".raw.jsonl.append.json.tmp", errno.ENOSPC, False),  # the crash journal
    ],
)
def test_a_failed_write_of_a_stops_drain_loses_no_line(
    ledger: Path,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    call: str,
    target: str,
    err: int,
    short: bool,
) -> None:
    """The stop drains a line no step captured (the agent wrote it while the stop caught up);
    writing it to the recording fails (a full disk, an I/O error). The stop must not close
    the recording without it (footer written, marker removed): it fails, the recording stays
    stopped, and once the disk has room again the stop records the line once, under one whole
    footer that counts it."""
    source = claude_session_file(home)
    rec = create_recording(ledger, "claude-code", source, pid=0)
    real_catch_up = recording.catch_up_tail

    def catch_up_then_write(session_dir: Path, **kwargs: Any) -> tuple[CatchUpResult, Any]:
        result = real_catch_up(session_dir, **kwargs)
        append(source, numbered_user(1))
        left.append(failing(monkeypatch, call, target, 1, err, short))
        return result

    monkeypatch.setattr(recording, "catch_up_tail", catch_up_then_write)
    left: list[Callable[[], int]] = []
    with pytest.raises((OSError, RecordingRejected)):  # a full disk, as the lock reports it
        stop_recording(rec.session_dir)
    assert left[0]() == 0
    monkeypatch.undo()
    assert (rec.session_dir / MARKER).exists()  # stopped, not closed: a retry finishes it
    assert stop_recording(rec.session_dir).entry_count == 1
    assert texts(rec.session_dir) == messages(1)
    assert [f["entry_count"] for f in footers(rec.session_dir)] == [1]


@pytest.mark.parametrize(("err", "short"), [(errno.ENOSPC, False), (errno.ENOSPC, True)])
def test_a_failed_footer_write_is_finished_by_a_second_stop(
    ledger: Path, home: Path, monkeypatch: pytest.MonkeyPatch, err: int, short: bool
) -> None:
    """Writing the footer fails (whole, or after half of it reached the disk): the marker
    stays, and the next stop writes one whole footer after the entries."""
    source = claude_session_file(home)
    rec = create_recording(ledger, "claude-code", source, pid=0)
    append(source, numbered_user(1))
    real_drain = recording.drain

    def drain_then_fail(tail: SourceTail) -> CatchUpResult:
        result = real_drain(tail)
        failing(monkeypatch, "write", RAW, 1, err, short)  # the footer's write
        return result

    monkeypatch.setattr(recording, "drain", drain_then_fail)
    with pytest.raises((OSError, RecordingRejected)):  # a full disk, as the lock reports it
        stop_recording(rec.session_dir)
    monkeypatch.undo()
    assert (rec.session_dir / MARKER).exists()
    assert stop_recording(rec.session_dir).entry_count == 1
    assert texts(rec.session_dir) == messages(1)
    assert [f["entry_count"] for f in footers(rec.session_dir)] == [1]


def test_a_stop_cut_off_after_its_footer_is_finished_with_one_footer(
    ledger: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daemon dies between the footer and the marker's removal: the next stop (or a
    person's `session stop`) must not leave two footers."""
    source = claude_session_file(home)
    rec = create_recording(ledger, "claude-code", source, pid=0)
    append(source, numbered_user(1))

    def die(session_dir: Path) -> None:
        raise KeyboardInterrupt  # stands for the process ending here

    monkeypatch.setattr(recording, "remove_marker", die)
    with pytest.raises(KeyboardInterrupt):
        stop_recording(rec.session_dir)
    monkeypatch.undo()
    assert stop_recording(rec.session_dir).entry_count == 1
    assert texts(rec.session_dir) == messages(1)
    assert [f["entry_count"] for f in footers(rec.session_dir)] == [1]


@pytest.mark.parametrize("later_lines", [0, 1])
def test_a_torn_footer_left_for_finalization_is_cut_before_its_catch_up(
    ledger: Path, home: Path, later_lines: int
) -> None:
    """The stop's footer was half written (a full disk) and no stop came again: the agent
    died, finalization ends the recording. Its catch-up must not glue what it appends to the
    torn footer (the entry would be lost to every reader), nor publish a torn line."""
    from ox_session_capture.records import read_marker, remove_marker
    from ox_session_capture.recover import recover_recording

    source = claude_session_file(home)
    rec = create_recording(ledger, "claude-code", source, pid=0)
    append(source, numbered_user(1))
    real_drain = recording.drain
    with pytest.MonkeyPatch.context() as faults:  # undone alone: `home` keeps its $HOME

        def drain_then_fail(tail: SourceTail) -> CatchUpResult:
            result = real_drain(tail)
            failing(faults, "write", RAW, 1, errno.ENOSPC, short=True)  # the footer's write
            return result

        faults.setattr(recording, "drain", drain_then_fail)
        with pytest.raises((OSError, RecordingRejected)):
            stop_recording(rec.session_dir)
    assert not (rec.session_dir / RAW).read_bytes().endswith(b"\n")  # the torn footer
    for n in range(2, 2 + later_lines):
        append(source, numbered_user(n))
    recover_recording(rec.session_dir, read_marker(rec.session_dir))  # finalization's catch-up
    remove_marker(rec.session_dir)
    assert texts(rec.session_dir) == messages(*range(1, 2 + later_lines))  # every line parses


@pytest.mark.parametrize("write", ["atomic_write_bytes", "atomic_write_model"])
def test_a_recording_that_cannot_be_written_leaves_no_folder(
    ledger: Path, home: Path, monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    """The disk fills up while a recording is made (its header, or its marker): the request
    is refused and leaves no folder without a marker behind (one that nothing records into,
    and that a scan would meet for ever); once there is room, the next request makes it."""
    source = claude_session_file(home)

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.MonkeyPatch.context() as faults:
        faults.setattr(recording, write, full)
        with pytest.raises(RecordingRejected, match="No space left"):
            create_recording(ledger, "claude-code", source, pid=0)
    sessions = ledger / ".ox" / "cache" / "sessions"
    assert list(sessions.iterdir()) == []
    rec = create_recording(ledger, "claude-code", source, pid=0)
    assert [p.name for p in sessions.iterdir()] == [rec.name]
    assert (rec.session_dir / MARKER).exists()
