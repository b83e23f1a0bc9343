"""Every complete line an agent writes reaches `raw.jsonl`, even one whose bytes or JSON are
unusual: a run of NUL bytes before it (a file extended by a crash or preallocated, then
appended to), an integer longer than Python's 4300-digit `int()` limit."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ox_session_capture.adapters import load_adapter
from ox_session_capture.recording import create_recording
from ox_session_capture.records import RAW, read_marker, update_marker
from ox_session_capture.recover import catch_up, drain
from ox_session_capture.tail import SourceTail
from ox_session_capture.testing import append, claude_text, numbered_user
from ox_session_capture.transcript import read_raw


def follow(ledger: Path, src: Path, adapter: str = "claude-code") -> SourceTail:
    rec = create_recording(ledger, adapter, src, pid=os.getpid())
    tail = SourceTail(rec.session_dir, load_adapter(adapter), src)
    tail.resume()
    return tail


def captured(tail: SourceTail) -> list[tuple[str, str, str | None]]:
    entries = read_raw(tail.session_dir / RAW).entries
    return [(e.type, e.content, e.tool_output) for e in entries]


def test_lines_after_a_region_of_nul_bytes_are_captured(ledger: Path, src: Path) -> None:
    tail = follow(ledger, src)
    append(src, numbered_user(0))
    assert drain(tail).entries == 1
    # The file got a run of zeros (a crash after its size grew but before its data reached
    # the disk, or space preallocated), then the agent went on appending whole lines.
    append(src, b"\0" * 4096)
    append(src, numbered_user(1) + numbered_user(2))
    assert drain(tail).entries == 2
    assert captured(tail) == [
        ("user", "message 0", None),
        ("user", "message 1", None),
        ("user", "message 2", None),
    ]
    assert read_marker(tail.session_dir).source_offset == src.stat().st_size


def test_lines_after_a_preallocated_region_larger_than_the_line_limit_are_captured(
    ledger: Path, src: Path
) -> None:
    tail = follow(ledger, src)
    append(src, numbered_user(0))
    assert drain(tail).entries == 1
    # 12 MiB of zeros (a hole: the file's size set ahead of its data), more than the 10 MiB
    # line limit, then lines: the zeros are no part of the next line.
    with src.open("r+b") as f:
        f.truncate(src.stat().st_size + 12 * 1024 * 1024)
    append(src, numbered_user(1) + numbered_user(2))
    assert drain(tail).entries == 2  # the live tail (1 MiB reads)
    assert captured(tail) == [
        ("user", "message 0", None),
        ("user", "message 1", None),
        ("user", "message 2", None),
    ]
    # Finalization's catch-up (2 MiB reads) of the same file, from the start.
    (ledger / "again").mkdir()
    other = create_recording(ledger / "again", "claude-code", src, pid=os.getpid())
    update_marker(other.session_dir, _from_start)
    assert catch_up(other.session_dir).entries == 3
    assert [e.content for e in read_raw(other.session_dir / RAW).entries] == [
        "message 0",
        "message 1",
        "message 2",
    ]
    assert "unknown_lines" not in (read_marker(other.session_dir).model_extra or {})


def _from_start(marker: Any) -> None:
    marker.source_offset = marker.start_offset = 0
    marker.source_fingerprint = None


def _tool_result_line(uid: str, call_id: str, text: str, structured: bytes) -> bytes:
    """A claude tool result line as the CLI writes it for an MCP tool: the result's text in
    the message and its structured copy in `toolUseResult` (JSON written by hand: Python
    cannot print an integer of more than 4300 digits)."""
    return (
        b'{"parentUuid":null,"type":"user","message":{"role":"user","content":[{"type":'
        b'"tool_result","tool_use_id":"' + call_id.encode() + b'","content":"' + text.encode()
        + b'"}]},"uuid":"' + uid.encode() + b'","timestamp":"2026-11-24T00:38:28.000Z",'
        b'"toolUseResult":{"structuredContent":' + structured + b"}}\n"
    )  # fmt: skip


def test_a_line_holding_an_integer_of_over_4300_digits_is_captured(ledger: Path, src: Path) -> None:
    tail = follow(ledger, src)
    huge = b"1" + b"0" * 5000  # 10**5000: valid JSON, beyond `int()`'s default limit
    append(src, claude_text("a1000000-0000-4000-8000-000000000001", "computing 10**5000"))
    append(src, _tool_result_line("a1000000-0000-4000-8000-000000000002", "toolu_1", "done",
                                  b'{"value":' + huge + b"}"))  # fmt: skip
    append(src, numbered_user(3))
    assert drain(tail).entries == 3
    assert captured(tail) == [
        ("assistant", "computing 10**5000", None),
        ("tool", "", "done"),
        ("user", "message 3", None),
    ]


def test_lines_ox_cannot_read_are_counted_not_lost_silently(ledger: Path, src: Path) -> None:
    tail = follow(ledger, src)
    deep = b"[" * 5000 + b"]" * 5000  # valid JSON, nested beyond what `json` decodes
    lines = [
        numbered_user(0),
        b'{"parentUuid":null,"type":"user","message":{"role":"user","content":"lost"},'
        b'"uuid":"b1000000-0000-4000-8000-000000000001","toolUseResult":' + deep + b"}\n",
        b'{"type":"user","message":{"role":"user","content":"half a line\n',  # torn by a crash
        b"\n",  # a blank line: nothing the agent wrote
        b'{"type":"user","message":{"content":"' + b"x" * (10 * 1024 * 1024) + b'"}}\n',
        numbered_user(1),
    ]
    for line in lines:
        append(src, line)
    assert drain(tail).entries == 2
    assert captured(tail) == [("user", "message 0", None), ("user", "message 1", None)]
    marker = read_marker(tail.session_dir)
    assert marker.source_offset == src.stat().st_size
    assert (marker.model_extra or {})["unknown_lines"] == {
        "(unreadable line)": 2,
        "(line over 10 MiB)": 1,
    }
