from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ox_handler_session_finalize.redact import (
    PATTERNS,
    RedactRulesError,
    contains_secret,
    load_ledger_rules,
    redact_text,
)

from .secret_shapes import SECRET_SHAPES


@pytest.mark.parametrize(
    ("kind", "text", "secret"), SECRET_SHAPES, ids=[r[0] for r in SECRET_SHAPES]
)
def test_each_shape_is_redacted_and_named(kind: str, text: str, secret: str) -> None:
    out = redact_text(text)
    assert secret not in out
    assert f"[REDACTED_{kind}]" in out


def test_table_covers_at_least_fifteen_kinds() -> None:
    kinds = {row[0] for row in SECRET_SHAPES}
    assert len(kinds) >= 15
    # Every built-in rule is exercised by the table.
    assert kinds == {p.kind for p in PATTERNS}


def test_assignment_keeps_the_name() -> None:
    assert redact_text("db_password=Sup3rS3cret99") == "db_password=[REDACTED_PASSWORD]"
    assert redact_text('"api_key": "abcdef123456"') == '"api_key": "[REDACTED_PASSWORD]"'


def test_ordinary_text_is_unchanged() -> None:
    text = (
        "Refactor the password reset flow; the secret to success is tests.\n"
        "See https://example.com/docs and skip the task list. key=short"
    )
    assert redact_text(text) == text
    assert not contains_secret(text)


def test_secret_inside_json_escaped_transcript_line() -> None:
    line = '{"type":"user","content":"my key is ' + "AKIA" + 'IOSFODNN7EXAMPLE thanks"}'
    out = redact_text(line)
    assert "IOSFODNN7EXAMPLE" not in out
    assert out.endswith('thanks"}')


def test_redaction_is_idempotent() -> None:
    for _, text, _ in SECRET_SHAPES:
        once = redact_text(text)
        assert redact_text(once) == once


def test_extra_patterns() -> None:
    extra = [re.compile(r"ACME-[0-9]{8}"), re.compile(r"token (?P<secret>\w+)")]
    out = redact_text("id ACME-12345678 and token zzz", extra)
    assert out == "id [REDACTED_CUSTOM] and token [REDACTED_CUSTOM]"


def test_load_ledger_rules(tmp_path: Path) -> None:
    assert load_ledger_rules(tmp_path) == []
    (tmp_path / ".ox").mkdir()
    (tmp_path / ".ox" / "redact.toml").write_text('patterns = ["ACME-[0-9]{8}"]\n')
    rules = load_ledger_rules(tmp_path)
    assert redact_text("x ACME-00000001 y", rules) == "x [REDACTED_CUSTOM] y"


@pytest.mark.parametrize(
    "content",
    ['patterns = ["(unclosed"]', "patterns = 3", "patterns = [", 'patterns = [1, "a"]'],
)
def test_bad_rules_file_is_a_clear_error(tmp_path: Path, content: str) -> None:
    (tmp_path / ".ox").mkdir()
    (tmp_path / ".ox" / "redact.toml").write_text(content)
    with pytest.raises(RedactRulesError, match=r"redact\.toml"):
        load_ledger_rules(tmp_path)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_never_raises_and_is_idempotent(text: str) -> None:
    out = redact_text(text)
    assert isinstance(out, str)
    assert redact_text(out) == out


@settings(max_examples=100, deadline=None)
@given(st.text(), st.sampled_from(SECRET_SHAPES), st.text())
def test_secret_is_caught_anywhere(prefix: str, row: tuple[str, str, str], suffix: str) -> None:
    _, text, secret = row
    assert secret not in redact_text(prefix + " " + text + " " + suffix)


def test_redact_raw_bytes_keeps_clean_lines_and_json() -> None:
    import json

    from ox_handler_session_finalize.export import redact_raw_bytes

    clean = b'{"type": "user",  "content": "hello"}\n'
    secret = "AKIA" + "IOSFODNN7EXAMPLE"
    dirty = json.dumps({"type": "user", "content": f"key {secret}"}).encode() + b"\n"
    deep = b"[" * 5000 + b"]" * 5000 + b"\n"
    text_line = f"not json {secret}\n".encode()
    out = redact_raw_bytes(clean + dirty + deep + text_line)
    lines = out.splitlines(keepends=True)
    assert lines[0] == clean
    assert json.loads(lines[1])["content"] == "key [REDACTED_AWS_ACCESS_KEY]"
    assert lines[2] == deep
    assert lines[3] == b"not json [REDACTED_AWS_ACCESS_KEY]\n"


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_redact_raw_bytes_never_raises(data: bytes) -> None:
    from ox_handler_session_finalize.export import redact_raw_bytes

    out = redact_raw_bytes(data)
    assert redact_raw_bytes(out) == out


@pytest.mark.parametrize(
    "code",
    [
        'SECRET_KEY = os.environ["SECRET_KEY"]',
        "password = os.getenv('DB_PASSWORD')",
        "const apiKey = process.env.API_KEY;",
        "password: string;",
        "api_key: Optional[str] = None",
        "PASSWORD=${DB_PASSWORD}",
        "password=<your password here>",
        "password = self.password_field",
        "secret: undefined",
        "password=********",
    ],
)
def test_code_that_names_a_secret_is_left_readable(code: str) -> None:
    assert redact_text(code) == code
