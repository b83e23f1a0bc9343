"""Finding 1: the 500-character excerpt of a successful tool result is cut before redaction,
so a secret straddling the cut loses its tail, no rule matches the rest, and the prefix
(all but the last character or two) reaches raw.jsonl, the prompt and the pushed files."""

from __future__ import annotations

import base64
import json

import pytest

from ox_session_capture.adapters.base import OUTPUT_EXCERPT
from ox_session_capture.adapters.claude_code import ClaudeCodeAdapter
from ox_session_capture.raw_lines import entry_lines, redact_fields
from ox_session_capture.redact import make_redactor, redact_file_bytes

GH = "ghp_" + "pBFNP7Irv1FwTFGf3LGhycC4BOj2NhiYSnuG"  # 36 chars after ghp_
PG = "postgres://app:yLpo3nOpNPuDW5@db:5432/app"
BASIC = base64.b64encode(b"admin:CorrectHorseBatteryStaple").decode()


def _captured(output: str) -> tuple[str, bytes]:
    """The tool_output as `raw.jsonl` stores it, and that file as it would be uploaded."""
    adapter = ClaudeCodeAdapter()
    use = {"type": "assistant", "uuid": "a1", "timestamp": "2026-01-01T00:00:00Z",
           "message": {"role": "assistant", "model": "m", "content": [
               {"type": "tool_use", "id": "t1", "name": "Bash",
                "input": {"command": "cat .env"}}]}}  # fmt: skip
    res = {"type": "user", "uuid": "u1", "timestamp": "2026-01-01T00:00:01Z",
           "message": {"role": "user", "content": [
               {"type": "tool_result", "tool_use_id": "t1", "content": output,
                "is_error": False}]}}  # fmt: skip
    entries = [e for obj in (use, res) for e in adapter.parse_fields(json.dumps(obj).encode())]
    redact_fields(entries, make_redactor(None))
    raw = entry_lines(entries)
    uploaded = redact_file_bytes("raw.jsonl", raw)
    return entries[-1]["tool_output"], uploaded


def _straddling(line: str, secret: str, missing: int) -> str:
    """A `.env`-like output where `secret` ends `missing` characters past the excerpt's cut."""
    start = OUTPUT_EXCERPT - (len(secret) - missing)
    pad = "# settings\n" * 60
    head = pad[: start - line.index(secret) - 1] + "\n"
    return head + line + "\nLOG_LEVEL=info\n" + "DEBUG=false\n" * 40


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f"[ci] pushing with {GH} as bot", GH),
        (f"DATABASE_URL={PG}", "yLpo3nOpNPuDW5"),
        (f"curl -H 'Authorization: Basic {BASIC}' https://ci", BASIC),
    ],
    ids=["github-token", "url-password", "basic-auth"],
)
@pytest.mark.parametrize("missing", [1, 3])
def test_a_secret_cut_by_the_excerpt_leaves_no_usable_prefix(
    line: str, secret: str, missing: int
) -> None:
    output = _straddling(line, secret, missing)
    assert secret in output
    stored, uploaded = _captured(output)
    prefix = secret[: len(secret) - missing]
    assert prefix not in stored, stored[-200:]
    assert prefix.encode() not in uploaded
