"""A stop goes on with the tail of its own catch-up: under the ledger's creation lock (which
every agent hook of the ledger waits on) it drains only what the agent wrote since, without
reading `raw.jsonl` again for the ids it holds; unless another writer committed in between,
when it reads the recording again. Either way every line is recorded once."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ox_session_capture import recording, tail
from ox_session_capture.recording import create_recording, stop_recording
from ox_session_capture.records import RAW
from ox_session_capture.recover import catch_up
from ox_session_capture.testing import append, claude_session_file, numbered_user


def texts(session_dir: Path) -> list[str]:
    lines = [json.loads(line) for line in (session_dir / RAW).read_text().splitlines()]
    return [str(e.get("content")) for e in lines if e.get("type") == "user"]


def messages(numbers: range) -> list[str]:
    return [f"message {n}" for n in numbers]


def lines(numbers: range) -> bytes:
    return b"".join(numbered_user(n) for n in numbers)


def reads_of_the_recording(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Each later read of a recording's raw file for the ids it holds, by its folder."""
    reads: list[Path] = []
    real = tail.captured_ids

    def counted(raw: Path, *args: Any) -> set[str]:
        reads.append(raw.parent)
        return real(raw, *args)

    monkeypatch.setattr(tail, "captured_ids", counted)
    return reads


def meanwhile(monkeypatch: pytest.MonkeyPatch, act: Callable[[Path], None]) -> None:
    """`act(session_dir)` runs between the stop's catch-up and its work under the creation
    lock: as the agent (or another writer) would, just before the lock is taken."""
    real = recording.creation_lock_of

    @contextlib.contextmanager
    def acting_first(session_dir: Path, timeout: float | None = None) -> Iterator[None]:
        act(session_dir)
        with real(session_dir, timeout):
            yield

    monkeypatch.setattr(recording, "creation_lock_of", acting_first)


def test_the_stop_drains_what_came_since_its_catch_up_without_reading_the_recording_again(
    ledger: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = claude_session_file(home)
    rec = create_recording(ledger, "claude-code", source, pid=1)
    append(source, lines(range(5)))  # a backlog no step took
    # The agent writes two new lines, and one again that the catch-up took (its id seen).
    meanwhile(monkeypatch, lambda _: append(source, lines(range(5, 7)) + numbered_user(2)))
    reads = reads_of_the_recording(monkeypatch)
    result = stop_recording(rec.session_dir)
    assert reads == [rec.session_dir]  # the catch-up's resume; the stop read nothing again
    assert (result.entry_count, result.drained) == (7, 7)
    assert texts(rec.session_dir) == messages(range(7))


def test_a_writer_between_the_catch_up_and_the_stop_has_the_stop_read_the_recording_again(
    ledger: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finalization's catch-up (say) takes lines 5 and 6 after the stop's own catch-up: the
    stop's tail no longer knows the recording, so the stop reads it again, and records
    neither line twice nor misses line 7, written after."""
    source = claude_session_file(home)
    rec = create_recording(ledger, "claude-code", source, pid=1)
    append(source, lines(range(5)))

    def another_writer(session_dir: Path) -> None:
        append(source, lines(range(5, 7)))
        assert catch_up(session_dir).entries == 2
        append(source, lines(range(7, 8)) + numbered_user(6))

    meanwhile(monkeypatch, another_writer)
    reads = reads_of_the_recording(monkeypatch)
    result = stop_recording(rec.session_dir)
    # The stop's catch-up, the other writer's, then the stop's own reading of the recording.
    assert reads == [rec.session_dir] * 3
    assert result.entry_count == 8
    assert texts(rec.session_dir) == messages(range(8))


def test_a_failed_catch_up_leaves_the_stop_to_read_and_drain_everything(
    ledger: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = claude_session_file(home)
    rec = create_recording(ledger, "claude-code", source, pid=1)
    append(source, lines(range(3)))

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise OSError("the raw file's lock could not be had")

    monkeypatch.setattr(recording, "catch_up_tail", failing)
    reads = reads_of_the_recording(monkeypatch)
    result = stop_recording(rec.session_dir)
    assert reads == [rec.session_dir]  # the stop's own
    assert (result.entry_count, result.drained) == (3, 3)
    assert texts(rec.session_dir) == messages(range(3))
