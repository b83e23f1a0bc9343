"""Creating and stopping a tail recording without a daemon."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ox_session_capture.recording import (
    RecordingRejected,
    create_recording,
    stop_recording,
)
from ox_session_capture.records import JOURNAL, MARKER, RAW, read_marker
from ox_session_capture.testing import append, claude_session_file, numbered_user
from ox_session_capture.transcript import read_raw


def test_create_writes_folder_header_and_marker(ledger: Path, home: Path) -> None:
    src = claude_session_file(home)
    append(src, numbered_user(0))
    when = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    rec = create_recording(ledger, "claude", src, pid=4242, username="ada", now=when)
    assert rec.session_dir == ledger / ".ox" / "cache" / "sessions" / rec.name
    assert rec.name.endswith("-ada-f04c7045")
    lines = (rec.session_dir / RAW).read_bytes().splitlines()
    assert len(lines) == 1
    meta = json.loads(lines[0])["_meta"]
    assert meta["schema_version"] == "1"
    assert meta["agent_type"] == "claude-code"
    assert meta["username"] == "ada"
    assert meta["session_id"].startswith("ses_")
    marker = read_marker(rec.session_dir)
    assert marker.watch_mode == "tail"
    assert marker.parent_pid == 4242
    assert marker.adapter_name == "claude-code"
    assert marker.session_file == str(src)
    assert marker.start_offset == marker.source_offset == len(numbered_user(0))
    assert marker.agent_session_id == "f04c7045-b614-40b5-816d-7256c84b37f6"
    assert marker.session_id == meta["session_id"]
    assert marker.stopped_at is None
    for name in (MARKER, RAW):
        assert stat.S_IMODE((rec.session_dir / name).stat().st_mode) == 0o600
    assert not read_raw(rec.session_dir / RAW).has_content


def test_default_parent_pid_is_the_callers_parent(ledger: Path, home: Path) -> None:
    rec = create_recording(ledger, "claude-code", claude_session_file(home))
    assert read_marker(rec.session_dir).parent_pid == os.getppid()


def test_a_source_that_does_not_exist_yet_starts_at_zero(ledger: Path, home: Path) -> None:
    src = claude_session_file(home)
    src.unlink()
    rec = create_recording(ledger, "claude-code", src, pid=1)
    assert read_marker(rec.session_dir).start_offset == 0


def test_create_is_idempotent_for_a_live_recording_of_the_same_file(
    ledger: Path, home: Path
) -> None:
    src = claude_session_file(home)
    first = create_recording(ledger, "claude-code", src, pid=1)
    assert create_recording(ledger, "claude", src, pid=1) == first
    other = create_recording(ledger, "claude-code", claude_session_file(home, "other"), pid=1)
    assert other != first
    assert len(list((ledger / ".ox" / "cache" / "sessions").iterdir())) == 2


def test_same_minute_same_agent_gets_a_distinct_name(ledger: Path, home: Path) -> None:
    src = claude_session_file(home)
    when = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    first = create_recording(ledger, "claude-code", src, pid=1, now=when, agent_id="a")
    stop_recording(first.session_dir)
    second = create_recording(ledger, "claude-code", src, pid=1, now=when, agent_id="a")
    assert second.name == first.name + "-2"


@pytest.mark.parametrize(
    ("adapter", "path", "message"),
    [
        ("claude-code", "relative/x.jsonl", "absolute path"),
        ("claude-code", "{home}/elsewhere/x.jsonl", "not under the claude-code session folders"),
        ("codex", "{home}/.claude/projects/p/x.jsonl", "not under the codex session folders"),
        ("claude-code", "{home}/.claude/projects/../../etc/x.jsonl", "not under"),
        ("cursor", "{home}/.claude/projects/p/x.jsonl", "unknown session adapter 'cursor'"),
    ],
)
def test_rejections_leave_nothing_behind(
    ledger: Path, home: Path, adapter: str, path: str, message: str
) -> None:
    with pytest.raises(RecordingRejected, match=message):
        create_recording(ledger, adapter, path.format(home=home), pid=1)
    assert not (ledger / ".ox").exists()


def test_a_symlink_escaping_the_roots_is_rejected(ledger: Path, home: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.jsonl"
    outside.touch()
    link = home / ".claude" / "projects" / "p" / "x.jsonl"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)
    with pytest.raises(RecordingRejected, match="not under"):
        create_recording(ledger, "claude-code", link, pid=1)


def test_stop_drains_writes_a_footer_and_removes_the_marker(ledger: Path, home: Path) -> None:
    src = claude_session_file(home)
    rec = create_recording(ledger, "claude-code", src, pid=1)
    append(src, numbered_user(0) + numbered_user(1) + numbered_user(2)[:20])
    result = stop_recording(rec.session_dir)
    assert (result.name, result.entry_count, result.drained) == (rec.name, 2, 2)
    assert not (rec.session_dir / MARKER).exists()
    assert not (rec.session_dir / JOURNAL).exists()
    raw = read_raw(rec.session_dir / RAW)
    assert [e.content for e in raw.entries] == ["message 0", "message 1"]
    assert raw.footer is not None
    assert raw.footer.entry_count == 2
    assert raw.footer.stopped_at is not None
    assert raw.footer.closed_at is not None
    assert (raw.footer.model_extra or {}).get("agent_version") == "2.1.330"
    with pytest.raises(RecordingRejected, match="no live recording"):
        stop_recording(rec.session_dir)


def test_stop_with_the_source_gone_still_closes_the_recording(ledger: Path, home: Path) -> None:
    src = claude_session_file(home)
    rec = create_recording(ledger, "claude-code", src, pid=1)
    src.unlink()
    assert stop_recording(rec.session_dir).entry_count == 0
    assert not (rec.session_dir / MARKER).exists()


def test_a_slot_file_that_cannot_be_made_does_not_stop_the_recording(
    ledger: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The slot file is made with the recording; when that is refused (a folder or a link
    that keeps coming back there), the recording starts anyway and its steps journal."""
    from ox_core.fs import UnsafePathError
    from ox_session_capture import recording as recording_mod

    def refused(path: Path) -> int:
        raise UnsafePathError(f"{path} is a directory; refused")

    monkeypatch.setattr(recording_mod, "open_slots", refused)
    src = claude_session_file(home)
    rec = create_recording(ledger, "claude", src, pid=4242)
    assert read_marker(rec.session_dir).stopped_at is None


def test_a_deeply_nested_tool_output_is_captured(ledger: Path, home: Path) -> None:
    """A codex shell output that is JSON nested beyond Python's recursion limit (the agent
    printed a hostile file) is one tool result like any other, not a line the adapter fails
    on (which the tail would log and drop)."""
    src = home / ".codex" / "sessions" / "2026" / "01" / "02" / "rollout-x.jsonl"
    src.parent.mkdir(parents=True)
    src.touch()
    rec = create_recording(ledger, "codex", src, pid=1)
    ts = "2026-01-02T03:04:05Z"
    deep = '{"metadata": ' + "[" * 100_000 + "]" * 100_000 + "}"
    output = {"type": "function_call_output", "call_id": "c1", "output": deep}
    message = {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "after it"}],
    }
    for payload in (output, message):
        line = {"timestamp": ts, "type": "response_item", "payload": payload}
        append(src, json.dumps(line).encode() + b"\n")
    result = stop_recording(rec.session_dir)
    assert result.entry_count == 2
    raw = read_raw(rec.session_dir / RAW)
    assert raw.entries[-1].content == "after it"
    assert raw.footer is not None


def test_an_agent_session_index_nested_beyond_reason_reads_as_empty(
    ledger: Path, home: Path
) -> None:
    """The index of an agent session is a file in the ledger cache: one nested deeper than
    Python's recursion limit is unreadable like any damaged one (it only loses the link to
    earlier parts), never a failure of every start and stop of that agent session."""
    from ox_session_capture.identity import index_path, read_index
    from ox_session_capture.parts import begin_part

    sid = "f04c7045-b614-40b5-816d-7256c84b37f6"
    src = claude_session_file(home)
    index = index_path(ledger, "claude-code", sid)
    index.parent.mkdir(parents=True)
    index.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    assert read_index(ledger, "claude-code", sid).parts == ()
    rec = begin_part(ledger, "claude-code", sid, str(src), pid=1)
    append(src, numbered_user(0))
    assert stop_recording(rec.session_dir).entry_count == 1
    assert read_index(ledger, "claude-code", sid).parts == (rec.name,)
