"""Hostile lines in an agent's session file: valid JSON of a shape no CLI writes. Each one is
followed through a real recording (the tail, the marker, `raw.jsonl`, the transcript reader):
it must not stop the recording, lose the genuine lines around it, or make a genuine entry
collide with another on its `source_id`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ox_session_capture.adapters import load_adapter
from ox_session_capture.recording import create_recording
from ox_session_capture.records import RAW, RawEntry, read_marker
from ox_session_capture.testing import claude_assistant, claude_user, record_lines
from ox_session_capture.transcript import read_raw


def _line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj).encode() + b"\n"


def contents(session_dir: Path) -> list[tuple[str, str]]:
    transcript = read_raw(session_dir / RAW)
    assert transcript.bad_lines == 0
    return [(e.type, e.content or e.tool_output or "") for e in transcript.entries]


def claude_file(home: Path) -> Path:
    return home / ".claude/projects/-work/s.jsonl"


# ---------------------------------------------------------------- what the adapter learns


@pytest.mark.parametrize(
    "hostile",
    [
        # JSON's `\ud800` escape decodes to a lone surrogate, which no UTF-8 writer accepts.
        b'{"type":"\\ud800"}',
        b'{"type":"assistant","uuid":"z","version":"2.1.\\udc00","message":{"content":"x"}}',
        b'{"type":"assistant","uuid":"z","message":{"model":"m\\ud800","content":"x"}}',
    ],
    ids=["unknown-type", "version", "model"],
)
def test_an_unencodable_session_detail_never_stops_the_recording(
    ledger: Path, home: Path, hostile: bytes
) -> None:
    src = claude_file(home)
    lines = [claude_user("u1", "before"), hostile + b"\n", claude_user("u2", "after", version=None)]
    session_dir = record_lines(ledger, home, src, "claude-code", lines)
    assert ("user", "after") in contents(session_dir)
    marker = read_marker(session_dir)
    assert marker.source_offset == src.stat().st_size
    extra = marker.model_extra or {}
    for key in ("model", "agent_version"):
        assert isinstance(extra.get(key, ""), str)
        extra.get(key, "").encode()  # what the marker keeps is text a UTF-8 file can hold


def test_a_huge_model_name_is_not_carried_by_every_later_step(ledger: Path, home: Path) -> None:
    src = claude_file(home)
    hostile = claude_assistant("a1", [{"type": "text", "text": "hi"}]).replace(
        b'"claude-opus-5-5"', json.dumps("m" * 200_000).encode()
    )
    session_dir = record_lines(ledger, home, src, "claude-code", [hostile, claude_user("u", "x")])
    assert contents(session_dir) == [("assistant", "hi"), ("user", "x")]
    # Session details are short: a 200 KB one would be rewritten into the marker at every step.
    model = (read_marker(session_dir).model_extra or {}).get("model", "")
    assert 0 < len(model) <= 200


# ---------------------------------------------------------------- values out of range


def _gemini_message(when: str, result: str) -> bytes:
    call = {"id": "c1", "name": "run_shell_command", "args": {"command": "make"},
            "status": "success", "timestamp": when, "result": result}  # fmt: skip
    message = {"id": "m1", "timestamp": when, "type": "gemini", "content": "Building."}
    return _line({**message, "toolCalls": [call]})


def _codex_output(when: str, output: str) -> bytes:
    payload = {"type": "function_call_output", "call_id": "c1", "output": output}
    return _line({"timestamp": when, "type": "response_item", "payload": payload})


OK_TS = "2026-11-24T00:38:26Z"
# Valid ISO 8601 with an offset in seconds, which is moved to UTC: past year 9999 / before 1.
LATE_TS = "9999-12-31T23:59:59-05:30:15"
EARLY_TS = "0001-01-01T00:00:00+05:30:15"


@pytest.mark.parametrize("when", [LATE_TS, EARLY_TS])
def test_a_timestamp_out_of_range_in_utc_loses_only_the_time(when: str) -> None:
    claude = load_adapter("claude-code")
    line = claude_user("u1", "still here", timestamp=when)
    assert [(e.type, e.content, e.ts) for e in claude.parse_line(line.rstrip())] == [
        ("user", "still here", None)
    ]
    gemini = load_adapter("gemini")
    out = gemini.parse_line(_gemini_message(when, "Output: ok\nExit Code: 0").rstrip())
    assert [(e.type, e.ts) for e in out] == [("assistant", None), ("tool", None), ("tool", None)]


# A number no exit code has (an int of more than 4300 digits is refused by `int()`).
HUGE = "9" * 5000


def test_an_exit_code_beyond_reason_in_a_tool_output_loses_nothing() -> None:
    claude = load_adapter("claude-code")
    line = claude_user(
        "u1",
        [
            {"type": "tool_result", "tool_use_id": "t1", "content": f"Exit code {HUGE}\nboom"},
            {"type": "tool_result", "tool_use_id": "t2", "content": "fine"},
            {"type": "text", "text": "and a word from the person"},
        ],
    )
    out = claude.parse_line(line.rstrip())
    assert [(e.type, e.exit_code) for e in out] == [("user", None), ("tool", None), ("tool", None)]
    # The text of a command's output that merely mentions such a number (a file it printed).
    codex = load_adapter("codex")
    out = codex.parse_line(_codex_output(OK_TS, f"Output:\nexit code: {HUGE}\n").rstrip())
    assert [(e.type, e.exit_code) for e in out] == [("tool", None)]
    gemini = load_adapter("gemini")
    out = gemini.parse_line(_gemini_message(OK_TS, f"Output: exit code: {HUGE}\n").rstrip())
    assert [(e.type, e.exit_code) for e in out] == [("assistant", None), *[("tool", None)] * 2]
    # Within reason, still read (and written as a number the transcript reader takes back).
    out = codex.parse_line(_codex_output(OK_TS, "Exit code: 4294967295\n").rstrip())
    assert [(e.exit_code, e.is_error) for e in out] == [(4294967295, True)]
    out = codex.parse_line(_codex_output(OK_TS, '{"metadata":{"exit_code":' + "9" * 4000 + "}}"))
    assert [e.exit_code for e in out] == [None]


def test_out_of_range_values_reach_the_transcript_with_everything_around_them(
    ledger: Path, home: Path
) -> None:
    src = home / ".codex/sessions/2026/12/01/rollout-x.jsonl"
    call = {"type": "function_call", "call_id": "c1", "name": "shell", "arguments": "{}"}
    lines = [
        _line({"timestamp": OK_TS, "type": "response_item", "payload": call}),
        _codex_output(LATE_TS, f"exit code: {HUGE}"),
        _line({"timestamp": EARLY_TS, "type": "response_item", "payload": {
            "type": "message", "role": "assistant", "content": [
                {"type": "output_text", "text": "done"}]}}),
    ]  # fmt: skip
    session_dir = record_lines(ledger, home, src, "codex", lines)
    entries = read_raw(session_dir / RAW).entries
    assert [(e.type, e.tool_name, e.ts is None) for e in entries] == [
        ("tool", "shell", False),
        ("tool", "shell", True),
        ("assistant", None, True),
    ]


# ---------------------------------------------------------------- source ids


def sids(entries: list[RawEntry]) -> list[Any]:
    return [(e.model_extra or {}).get("source_id") for e in entries]


_HOSTILE_CODEX = {"type": "message", "id": "c1#output", "role": "assistant",
                 "content": [{"type": "output_text", "text": "hostile"}]}  # fmt: skip
# Each hostile line's id is what the adapter builds for a genuine entry of a later line
# (`<uuid>#<block>`, `<call id>#output`, `<message id>#<call id>`).
CRAFTED = {
    "claude-code": (
        ".claude/projects/-work/s.jsonl",
        [claude_user("a1#0", "hostile"), claude_assistant("a1", [{"type": "text", "text": "ok"}])],
        [("user", "hostile"), ("assistant", "ok")],
    ),
    "codex": (
        ".codex/sessions/2026/12/01/rollout-x.jsonl",
        [
            _line({"timestamp": OK_TS, "type": "response_item", "payload": _HOSTILE_CODEX}),
            _codex_output(OK_TS, "genuine"),
        ],
        [("assistant", "hostile"), ("tool", "genuine")],
    ),
    "gemini": (
        ".gemini/tmp/work/chats/session-x.jsonl",
        [
            _line({"id": "m1#c1", "timestamp": OK_TS, "type": "user", "content": "hostile"}),
            _gemini_message(OK_TS, "genuine"),
        ],
        [("user", "hostile"), ("assistant", "Building."), ("tool", ""), ("tool", "genuine")],
    ),
}


@pytest.mark.parametrize("adapter", sorted(CRAFTED))
def test_a_crafted_id_never_makes_a_genuine_entry_a_duplicate(
    ledger: Path, home: Path, adapter: str
) -> None:
    where, lines, expected = CRAFTED[adapter]
    session_dir = record_lines(ledger, home, home / where, adapter, lines)
    assert contents(session_dir) == expected  # the genuine one is not dropped as captured


def test_a_huge_id_is_not_copied_into_every_entry_of_its_line(ledger: Path, home: Path) -> None:
    uid = "u" * 100_000
    blocks = [{"type": "text", "text": f"part {i}"} for i in range(300)]
    line = claude_assistant(uid, blocks)
    src = claude_file(home)
    # Written twice (a rewrite of the same message): its entries are captured once.
    session_dir = record_lines(ledger, home, src, "claude-code", [line, line])
    entries = read_raw(session_dir / RAW).entries
    assert [e.content for e in entries] == [f"part {i}" for i in range(300)]
    assert len(set(sids(entries))) == 300
    # Each entry names its message with a bounded id, not with another copy of 100 KB.
    assert (session_dir / RAW).stat().st_size < 200_000


# ---------------------------------------------------------------- the CLI's wrappers

_OLD_WRAPPERS = re.compile(
    r"<(system-reminder|local-command-caveat|command-message|user-prompt-submit-hook)>"
    r"[\s\S]*?</\1>",
)


def test_unclosed_wrapper_tags_in_a_prompt_take_linear_time() -> None:
    # A pasted log of 500 KB of `<system-reminder>` openings and no closing tag: the lazy
    # regex that stripped them tried every opening against the rest of the text (minutes;
    # hours for a 9 MB line) while the recording waited. Run apart, so a regression is a
    # failure rather than a hung test.
    script = (
        "from ox_session_capture.adapters.base import strip_wrappers\n"
        "text = '<system-reminder>x' * 30000 + '<command-message>y</command-message>z'\n"
        "assert strip_wrappers(text) == '<system-reminder>x' * 30000 + 'z'\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], timeout=30, check=False)
    assert proc.returncode == 0


_TAGS = ("system-reminder", "command-message", "local-command-caveat", "user-prompt-submit-hook")
_PIECES = [f"<{t}>" for t in _TAGS] + [f"</{t}>" for t in _TAGS] + ["a", " ", "\n", "<", "</", ">"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_wrappers_are_stripped_as_before(text: str) -> None:
    from ox_session_capture.adapters.base import strip_wrappers

    assert strip_wrappers(text) == _OLD_WRAPPERS.sub("", text).strip()


def test_a_file_naming_thousands_of_line_types_keeps_the_marker_bounded(
    ledger: Path, home: Path, src: Path
) -> None:
    """A live tail counts the first `UNKNOWN_TYPES_KEPT` unknown types it meets, however many
    commits the file takes (each commit counted 50 more before: 240 here)."""
    from ox_session_capture.adapters.base import UNKNOWN_TYPES_KEPT
    from ox_session_capture.tail import SourceTail

    src.write_bytes(b"")
    rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home)
    tail = SourceTail(rec.session_dir, load_adapter("claude-code"), src)
    tail.resume()
    for step in range(6):
        with open(src, "ab") as f:
            f.write(claude_user(f"u{step}", "text"))
            f.write(b"".join(_line({"type": f"kind-{step}-{n}"}) for n in range(40)))
        assert tail.step().entries == 1
    counts = (read_marker(rec.session_dir).model_extra or {})["unknown_lines"]
    assert len(counts) == UNKNOWN_TYPES_KEPT
    assert set(counts) == {f"kind-{n // 40}-{n % 40}" for n in range(UNKNOWN_TYPES_KEPT)}
    assert set(counts.values()) == {1}
