"""Bytes past a recording's commit point belong to no committed batch, whatever path the
next commit takes: a journaled batch (a line of an unknown type, a replaced source), a stop's
drain, or a retry after a full disk. Each test failed before the whole-marker commits cut
them off too (`journal.uncommitted_cut`)."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
import trio

from ox_core.testing import wait_for
from ox_session_capture import commit_slots, recording
from ox_session_capture.adapters import load_adapter
from ox_session_capture.recording import create_recording, stop_recording
from ox_session_capture.records import RAW
from ox_session_capture.tail import SourceTail, WriteFailed
from ox_session_capture.testing import append, claude_session_file, numbered_user
from ox_session_capture.transcript import read_raw
from ox_session_capture.watcher import SessionWatcherManager

UNKNOWN = b'{"type":"brand-new-kind","uuid":"x"}\n'


def texts(session_dir: Path) -> list[str]:
    lines = [json.loads(line) for line in (session_dir / RAW).read_text().splitlines()]
    return [str(e.get("content")) for e in lines if e.get("type") == "user"]


def follow(session_dir: Path, source: Path) -> SourceTail:
    tail = SourceTail(session_dir, load_adapter("claude-code"), source)
    tail.resume()
    return tail


def fail_write_once(
    monkeypatch: pytest.MonkeyPatch, name: str, *, short: bool = False
) -> dict[str, int]:
    """The next write to the recording's file `name` fails with ENOSPC (after one short write
    of half its bytes, with `short`); the state's `left` is 0 once it failed."""
    real = os.write
    state = {"left": 1, "halve": int(short)}

    def fake(fd: int, data: object) -> int:
        if state["left"] and os.readlink(f"/proc/self/fd/{fd}").endswith("/" + name):
            if state["halve"]:
                state["halve"] = 0
                b = bytes(data)  # type: ignore[arg-type]
                return real(fd, b[: len(b) // 2])
            state["left"] = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, data)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "write", fake)
    return state


@pytest.mark.parametrize("short", [False, True])
def test_a_journaled_batch_that_hit_a_full_disk_is_committed_once_by_the_retry(
    ledger: Path, home: Path, monkeypatch: pytest.MonkeyPatch, short: bool
) -> None:
    source = claude_session_file(home)
    rec = create_recording(ledger, "claude-code", source, pid=0)
    tail = follow(rec.session_dir, source)
    append(source, numbered_user(1) + UNKNOWN)  # unknown type: the batch is journaled
    fail_write_once(monkeypatch, RAW, short=short)
    with pytest.raises(WriteFailed) as info:
        tail.step()
    assert info.value.errno == errno.ENOSPC  # the watcher waits this out and steps again
    monkeypatch.undo()
    tail.step()  # the watcher's retry, same tail (no resume/settle in between)
    assert texts(rec.session_dir) == ["message 1"]
    stop_recording(rec.session_dir)
    assert texts(rec.session_dir) == ["message 1"]


def a_slot_write_that_fails(
    ledger: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path, SourceTail]:
    """A followed recording whose step of line 1 appended and fsynced it, then failed to write
    its commit slot (a full disk): its bytes are past the commit point. (source, folder, tail)"""
    source = claude_session_file(home)
    rec = create_recording(ledger, "claude-code", source, pid=0)
    tail = follow(rec.session_dir, source)
    append(source, numbered_user(1))

    def full_disk(*args: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(commit_slots.os, "pwrite", full_disk)
        with pytest.raises(WriteFailed) as info:
            tail.step()
    assert info.value.errno == errno.ENOSPC
    return source, rec.session_dir, tail


def test_bytes_of_a_step_whose_slot_write_failed_are_not_committed_by_a_journaled_step(
    ledger: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, folder, tail = a_slot_write_that_fails(ledger, home, monkeypatch)
    append(source, UNKNOWN + numbered_user(2))  # the retry's batch is journaled
    tail.step()
    assert texts(folder) == ["message 1", "message 2"]


def test_a_reset_with_only_known_lines_after_a_failed_slot_write_keeps_one_copy(
    ledger: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same stray bytes; the retry finds the source replaced (re-read from 0): journaled."""
    source, folder, tail = a_slot_write_that_fails(ledger, home, monkeypatch)
    new = source.with_suffix(".new")
    new.write_bytes(numbered_user(1) + numbered_user(2))
    os.replace(new, source)  # the agent rewrote its file (a new inode)
    tail.step()
    assert texts(folder) == ["message 1", "message 2"]


def test_a_journaled_batch_whose_marker_write_hit_a_full_disk_is_committed_once_by_the_retry(
    ledger: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The likeliest spot for a full disk: the raw append fits the file's last block, the
    marker's new temp file needs a block. Raw bytes and the journal are left behind."""
    source = claude_session_file(home)
    rec = create_recording(ledger, "claude-code", source, pid=0)
    tail = follow(rec.session_dir, source)
    append(source, numbered_user(1) + UNKNOWN)
    fail_write_once(monkeypatch, ".recording.json.tmp")
    with pytest.raises(WriteFailed) as info:
        tail.step()
    assert info.value.errno == errno.ENOSPC
    monkeypatch.undo()
    tail.step()  # the watcher's retry
    assert texts(rec.session_dir) == ["message 1"]


async def test_a_full_disk_at_a_journaled_batch_is_waited_out(
    ledger: Path, home: Path, manager: SessionWatcherManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = claude_session_file(home)
    rec = create_recording(ledger, "claude-code", source, pid=os.getpid())
    assert await manager.start_watch(rec.name, source, "claude-code")
    disk = fail_write_once(monkeypatch, ".recording.json.tmp")
    append(source, numbered_user(1) + UNKNOWN)
    await wait_for("the journaled batch to meet the full disk", lambda: not disk["left"])
    # The disk has room again: the watch retries (at once on the next event, or within
    # WRITE_RETRY). Until the retry committed the batch, or (before the fix) the watch
    # ended at it:
    await wait_for(
        "the retry",
        lambda: rec.name not in manager.active_sessions() or texts(rec.session_dir),
    )
    assert rec.name in manager.active_sessions(), "the watch ended instead of waiting it out"
    append(source, numbered_user(2))
    with trio.fail_after(30):
        await manager.wait_synced(rec.name)
    assert [e.content for e in read_raw(rec.session_dir / RAW).entries] == [
        "message 1",
        "message 2",
    ]


def lines(session_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (session_dir / RAW).read_text().splitlines()]


def test_a_stop_cut_off_after_its_footer_then_more_lines_gives_one_footer_at_the_end(
    ledger: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = claude_session_file(home)
    rec = create_recording(ledger, "claude-code", source, pid=0)
    append(source, numbered_user(1))

    def die(session_dir: Path) -> None:
        raise KeyboardInterrupt  # the process ends between footer and marker removal

    monkeypatch.setattr(recording, "remove_marker", die)
    with pytest.raises(KeyboardInterrupt):
        stop_recording(rec.session_dir)
    monkeypatch.undo()
    append(source, numbered_user(2))  # the agent writes on before the stop is retried
    assert stop_recording(rec.session_dir).entry_count == 2
    kinds = [
        "footer" if "closed_at" in e else e.get("type", "header") for e in lines(rec.session_dir)
    ]
    assert kinds == ["header", "user", "user", "footer"], kinds
