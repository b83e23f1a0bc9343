"""A team's redaction patterns (`.ox/redact.toml`, teammates' content) redact text, never the
records' structure: a pattern that matches a field name or a record type (`user`, `content`,
`type`, even `[\\s\\S]`) used to make every session's summary fail (an entry that no longer
validates) and turned the published `raw.jsonl` into lines no reader takes."""

from __future__ import annotations

import json
import re

import pytest

from ox_session_capture import transcript
from ox_session_capture.records import RawEntry
from ox_session_capture.redact import redact_entries, redact_raw_bytes

HEADER = {
    "_meta": {
        "schema_version": "1",
        "agent_id": "Ox7f3a",
        "agent_type": "claude-code",
        "session_id": "ses_0192aaaa-0000-7000-8000-000000000001",
        "started_at": "2026-11-25T10:00:00Z",
        "username": "dev",
        "model": "claude-opus-5-5",
    }
}
LINES = [
    HEADER,
    {"ts": "2026-11-25T10:00:01Z", "type": "user", "content": "the user asks", "source_id": "u1"},
    {"ts": "2026-11-25T10:00:02Z", "type": "assistant", "content": "content of the answer"},
    {
        "ts": "2026-11-25T10:00:03Z",
        "type": "tool",
        "tool_name": "Bash",
        "tool_input": '{"command": "cat user.txt"}',
        "call_id": "toolu_1",
    },
    {
        "ts": "2026-11-25T10:00:04Z",
        "type": "tool",
        "tool_name": "Bash",
        "tool_output": "user content",
        "call_id": "toolu_1",
        "is_error": False,
        "exit_code": 0,
    },
    {"ts": "2026-11-25T10:00:05Z", "type": "system", "content": "type: user"},
    {"type": "footer", "closed_at": "2026-11-25T10:01:00Z", "entry_count": 5},
]
PATTERNS = ["user", "content", "type", "tool", "_meta", "ts", r"[\s\S]", r"\w+", "footer"]


def raw_bytes() -> bytes:
    return b"".join(json.dumps(line).encode() + b"\n" for line in LINES)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_team_pattern_never_breaks_an_entry(pattern: str) -> None:
    entries = [transcript.classify_line(line) for line in LINES[1:-1]]
    assert all(isinstance(e, RawEntry) for e in entries)
    clean = redact_entries(entries, [re.compile(pattern)])
    assert [e.type for e in clean] == [e.type for e in entries]
    assert [e.ts for e in clean] == [e.ts for e in entries]
    assert [e.exit_code for e in clean] == [e.exit_code for e in entries]
    if pattern in ("user", r"[\s\S]", r"\w+"):
        assert "user" not in clean[0].content  # the text itself is still redacted


@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_team_pattern_never_breaks_the_published_raw(pattern: str) -> None:
    out = redact_raw_bytes(raw_bytes(), [re.compile(pattern)])
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == len(LINES)
    for before, after in zip(LINES, lines, strict=True):
        assert list(after) == list(before)  # every key kept, in order
        for key in ("type", "ts", "closed_at", "is_error", "exit_code", "entry_count"):
            if key in before:
                assert after[key] == before[key]
    meta = lines[0]["_meta"]
    assert list(meta) == list(HEADER["_meta"])
    for key in ("schema_version", "agent_id", "agent_type", "session_id", "started_at"):
        assert meta[key] == HEADER["_meta"][key]
    # Read back as a transcript: the same kinds of entries, one each.
    kinds = [type(transcript.classify_line(line)).__name__ for line in lines]
    assert kinds == [type(transcript.classify_line(line)).__name__ for line in LINES]
    if pattern in ("user", r"[\s\S]", r"\w+"):
        assert "user" not in lines[1]["content"]
        assert "user" not in lines[4]["tool_output"]


def test_a_secret_in_an_id_or_a_type_that_is_not_ours_is_still_redacted() -> None:
    # Only our own values are kept: an id is still text, a type we never write is redacted.
    line = {
        "type": "password=hunter2hunter2",
        "source_id": "password=hunter2hunter2",
        "password=hunter2hunter2": "a name that is not ours",
    }
    out = json.loads(redact_raw_bytes(json.dumps(line).encode() + b"\n"))
    assert "hunter2hunter2" not in json.dumps(out)
