"""A JSON document that repeats a key: every JSON reader keeps the last value, so a
redaction that decodes the document and finds nothing to change there used to keep the text
as written, with the earlier values in it that no rule had looked at (a hand-edited
`settings.json` printed by a tool, a user's paste, a line of a teammate's `raw.jsonl`)."""

from __future__ import annotations

import json
import re

import pytest

from ox_session_capture.redact import redact_file_bytes, redact_raw_bytes, redact_text

GH = "ghp_" + "Wm3vT8kX2pL7sQ9nB4cR1yH6jF0dZ5gA3eK8"
PW = "Tq7#mZ2vLx9Wp4rN"
ACME = "ACME-" + "58203917"
TEAM = [re.compile(r"ACME-[0-9]{8}")]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('{"github.token": "' + GH + '", "github.token": "${env:GITHUB_TOKEN}"}', GH),
        ('{"db": {"password": "' + PW + '", "password": null}}', PW),
        ('[{"note": "' + ACME + '", "note": "see the wiki"}]', ACME),
        ('"{\\"a\\": \\"' + GH + '\\", \\"a\\": 1}"', GH),  # JSON in a JSON string
    ],
    ids=["vendor", "keyed", "team-pattern", "nested"],
)
def test_a_value_a_repeated_key_hides_is_redacted(text: str, secret: str) -> None:
    assert secret not in redact_text(text, TEAM)
    # Where it was: a tool's output in an entry, and each file of an upload.
    line = json.dumps({"type": "tool", "tool_output": text}) + "\n"
    assert secret not in redact_raw_bytes(line.encode(), TEAM).decode()
    assert secret not in redact_raw_bytes(text.encode() + b"\n", TEAM).decode()
    assert secret not in redact_file_bytes("meta.json", text.encode(), TEAM).decode()


def test_a_raw_line_that_repeats_one_of_oxs_fields_keeps_its_structure() -> None:
    line = '{"type":"user","content":"' + GH + '","content":"hello"}\n'
    out = json.loads(redact_raw_bytes(line.encode()))
    assert out == {"type": "user", "content": "hello"}


def test_a_document_without_repeats_is_still_kept_byte_for_byte() -> None:
    text = '{ "b": 1,  "a": [1, 2],\n "c": {"d": "e"} }'
    assert redact_text(text) == text
    assert redact_file_bytes("meta.json", text.encode()) == text.encode()
