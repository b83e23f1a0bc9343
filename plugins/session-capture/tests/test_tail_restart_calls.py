"""A tail that starts again between a tool call and its result (the daemon restarted during a
long tool, or finalization's catch-up took over) still names the result's tool: its new
adapter learns the unanswered calls from `raw.jsonl`. Real files, the real claude-code
adapter."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ox_session_capture.adapters import load_adapter
from ox_session_capture.raw_lines import captured_ids
from ox_session_capture.recording import create_recording
from ox_session_capture.records import RAW
from ox_session_capture.tail import SourceTail
from ox_session_capture.testing import append, claude_assistant, claude_session_file, claude_user


def tools(session_dir: Path) -> list[tuple[str | None, str | None, bool]]:
    """(tool name, call id, is a result) of the tool entries in `raw.jsonl`."""
    out = []
    for line in (session_dir / RAW).read_text().splitlines():
        entry = json.loads(line)
        if entry.get("type") == "tool":
            out.append((entry.get("tool_name"), entry.get("call_id"), "tool_output" in entry))
    return out


def test_a_result_read_by_a_new_tail_names_the_call_an_earlier_tail_saw(home: Path) -> None:
    src = claude_session_file(home)
    src.write_bytes(b"")
    (home.parent / "ledger").mkdir()
    rec = create_recording(home.parent / "ledger", "claude-code", src, pid=os.getpid(), home=home)
    call = {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "make"}}
    append(src, claude_assistant("a1", [call]))
    first = SourceTail(rec.session_dir, load_adapter("claude-code"), src)
    first.resume()
    assert first.step().entries == 1
    # A new tail, as after a restart: a fresh adapter that never saw the call.
    result = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "built"}
    append(src, claude_user("u2", [result]))
    second = SourceTail(rec.session_dir, load_adapter("claude-code"), src)
    second.resume()
    assert second.step().entries == 1
    assert tools(rec.session_dir) == [("Bash", "toolu_1", False), ("Bash", "toolu_1", True)]


def test_only_unanswered_calls_of_the_committed_part_are_carried(tmp_path: Path) -> None:
    raw = tmp_path / RAW
    lines = [
        {"type": "tool", "tool_name": "Bash", "tool_input": "{}", "call_id": "c1"},
        {"type": "tool", "tool_name": "Bash", "tool_output": "ok", "call_id": "c1"},
        {"type": "tool", "tool_name": "Read", "tool_input": "{}", "call_id": "c2"},
        {"type": "tool", "tool_name": 7, "tool_input": "{}", "call_id": "c3"},  # not a name
        {"type": "user", "content": "call_id c4", "call_id": "c4"},
    ]
    raw.write_text("".join(json.dumps(e) + "\n" for e in lines) + "{broken\n")
    calls: dict[str, str] = {}
    captured_ids(raw, open_calls=calls)
    assert calls == {"c2": "Read"}
    committed = len(raw.read_bytes().split(b"\n", 2)[0]) + 1  # the first line only
    calls.clear()
    captured_ids(raw, size=committed, open_calls=calls)
    assert calls == {"c1": "Bash"}
