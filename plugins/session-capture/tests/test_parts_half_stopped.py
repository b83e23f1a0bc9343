"""A stop that could not finish (the ledger's disk was full while it drained: `WriteFailed`,
documented to leave the part stopped, with its marker, for the next stop or finalization's
catch-up to finish). The agent is then resumed (its start hook). Every line must end up in
exactly one part: the new part must not start at the file's end (the lines between the failed
part's offset and there would be held only if the old part's catch-up gets them), and the old
part's later catch-up must not also take the lines the new part records."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from ox_session_capture import recording
from ox_session_capture.parts import begin_part
from ox_session_capture.records import RAW, read_marker
from ox_session_capture.recover import catch_up
from ox_session_capture.tail import SourceTail, WriteFailed
from ox_session_capture.testing import append, claude_session_file, numbered_user


def texts(session_dir: Path) -> list[str]:
    lines = [json.loads(line) for line in (session_dir / RAW).read_text().splitlines()]
    return [str(e.get("content")) for e in lines if e.get("type") == "user"]


def test_a_resume_after_a_stop_that_failed_records_each_line_once(
    ledger: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = claude_session_file(home)
    sid = source.stem
    first = begin_part(ledger, "claude-code", sid, str(source), pid=0)
    append(source, numbered_user(1))

    def disk_full(tail: SourceTail) -> object:
        raise WriteFailed(errno.ENOSPC, "No space left on device")

    real_drain = recording.drain
    monkeypatch.setattr(recording, "drain", disk_full)
    with pytest.raises(
        (OSError, recording.RecordingRejected)
    ):  # the end hook's stop: the disk is full
        recording.stop_recording(first.session_dir)
    monkeypatch.setattr(recording, "drain", real_drain)
    assert read_marker(first.session_dir).stopped_at is not None  # stopped, marker kept

    # The disk has room again; the agent is resumed and writes on.
    second = begin_part(ledger, "claude-code", sid, str(source), pid=0, resumed=True)
    append(source, numbered_user(2))
    recording.stop_recording(second.session_dir)
    # Finalization's catch-up (or the next stop) finishes the first part.
    if (first.session_dir / ".recording.json").exists():
        catch_up(first.session_dir)
    everything = texts(first.session_dir) + texts(second.session_dir)
    assert sorted(everything) == ["message 1", "message 2"], (
        texts(first.session_dir),
        texts(second.session_dir),
    )
