"""A secret written in a way that only changes how it is written is redacted as the text it
reads as: terminal color codes around or inside it, JSON escapes left in text that is no JSON
document (`views.reading`)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ox_session_capture.redact import redact_raw_bytes, redact_text
from ox_session_capture.redact.views import reading
from ox_session_capture.testing.redacted import redacted

ESC = "\x1b"
GH = "ghp_" + "Qm7vT2kX9pL4sW8nB3cR6yH1jF5dZ0gA2eK4"
PW = "Vq8rTm2LxZp4"

COLORED = [
    (f"Your token: {ESC}[1m{GH}{ESC}[0m", GH),
    (f"connect {ESC}[36mpassword{ESC}[0m={ESC}[35m{PW}{ESC}[0m host=db", PW),
    (f"{ESC}[01;31m{ESC}[KDB_PASSWORD{ESC}[m{ESC}[K={PW}", PW),
    (f'{ESC}[34;1m"password"{ESC}[0m{ESC}[1;39m:{ESC}[0m {ESC}[0;32m"{PW}"{ESC}[0m', PW),
    (f"{ESC}[36mpassword{ESC}[0m: {ESC}[32m{PW}{ESC}[0m", PW),
    (f"PASS{ESC}[01;31mWORD{ESC}[m={PW}", PW),  # grep's match inside the name
    (f"token {GH[:20]}{ESC}[1m{GH[20:]}{ESC}[0m", GH[20:]),  # and inside the secret
    (f"\u009b1m{GH}\u009b0m", GH),
    (f"{ESC}]8;;https://x{ESC}\\{ESC}[1mpassword={PW}{ESC}[0m{ESC}]8;;{ESC}\\", PW),
]


@pytest.mark.parametrize(("text", "secret"), COLORED)
def test_a_colored_secret_is_redacted_and_the_colors_kept(text: str, secret: str) -> None:
    out = redacted(text)
    assert secret not in out
    assert "[REDACTED_" in out
    assert out.count(ESC) >= text.count(ESC) - 2  # only codes inside a secret go with it


@pytest.mark.parametrize(("text", "secret"), COLORED)
def test_a_colored_secret_is_redacted_in_a_published_raw_line(text: str, secret: str) -> None:
    line = json.dumps({"type": "tool", "tool_output": text}).encode() + b"\n"
    assert b"\\u00" in line  # the escape codes written as JSON escapes
    assert secret.encode() not in redact_raw_bytes(line)


def test_colors_alone_change_nothing() -> None:
    text = f"{ESC}[32m12 passed{ESC}[0m in 0.3s, {ESC}[1mkeys:{ESC}[0m a b c"
    assert redact_text(text) == text


PW2 = "Ur4nKs7VpQe1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq+AbCdEfGhIjKlMnOp0123+45678=="
ESCAPED = [
    # PHP's json_encode in a log of JSON lines: no one JSON document, so matched as text
    ('{"db":"mysql:\\/\\/app:' + PW2 + '@db:3306\\/app"}\n{"msg":"ready"}', PW2),
    ('HTTP/1.1 200 OK\n\n{"url":"https:\\/\\/bot:' + PW2 + '@git.acme.io\\/x"}', PW2),
    # Go escapes < > &, .NET also +
    ('body: "\\u003cpassword\\u003e' + PW2 + "\\u003c/password\\u003e", PW2),
    ('cut "AccountName=acme;AccountKey=' + KEY.replace("+", "\\u002B") + ";Endpoint", "0123"),
    # a letter of a token's prefix escaped
    ('out: "gh\\u0070_Qm7vT2kX9pL4sW8nB3cR6yH1jF5dZ0gA2eK4', "Qm7vT2kX9pL4sW8n"),
    # JSON in a JSON string, cut: the slash escaped twice
    ('{"input": "{\\"u\\": \\"https:\\\\\\/\\\\\\/bot:' + PW2 + "@h", PW2),
    # escapes and colors together
    ('log "\\u001b[36mpassword\\u001b[0m=\\u001b[35m' + PW2 + "\\u001b[0m", PW2),
]


@pytest.mark.parametrize(("text", "secret"), ESCAPED)
def test_a_secret_spelled_with_json_escapes_in_text_is_redacted(text: str, secret: str) -> None:
    out = redacted(text)
    assert secret not in out
    assert "[REDACTED_" in out


@pytest.mark.parametrize(
    "text",
    [
        'print("caf\\u00e9 \\u2014 na\\u00efve")',
        'path = "C:\\\\Users\\\\dev\\\\" + "\\/tmp\\/x"',
        '"token_url":"https:\\/\\/auth.acme.io\\/oauth\\/token"}\n{"a":1}',
        "regex = /\\u[0-9a-f]{4}/",
    ],
)
def test_escapes_alone_change_nothing(text: str) -> None:
    assert redact_text(text) == text


_PIECES = st.sampled_from(
    ["a", "/", "\\", "\\/", "\\\\", "\\u0041", "\\u00", "\x1b[1m", "\x1b", "[", "m", "\u009b1m",
     "\x1b]8;;x\x07", "\\u001b[0m", "password=", "Vq8r"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_each_character_of_a_reading_maps_back_to_what_reads_as_it(text: str) -> None:
    seen = reading(text)
    if seen is None:
        return
    for i, char in enumerate(seen.text):
        start, end = seen.origin(i, i + 1)
        alone = reading(text[start:end])
        assert (alone.text if alone else text[start:end]) == char
    out = redact_text(text)
    assert redact_text(out) == out


SPACED = [
    (f"password:\u00a0{PW}", PW),  # a no-break space, pasted from a web page
    (f"Authorization:\u00a0Bearer\u00a0{PW}{PW}", PW),
    (f"password\u3000=\u3000{PW}", PW),  # the ideographic space of a CJK input method
    (f"password\uff1a{PW}", PW),  # a full-width colon
    (f"DB_PASSWORD\uff1d{PW}", PW),  # a full-width equals sign
    (f"export API_KEY=\u202f{PW}", PW),  # a narrow no-break space
]


@pytest.mark.parametrize(("text", "secret"), SPACED)
def test_a_secret_after_a_space_or_sign_of_another_script_is_redacted(
    text: str, secret: str
) -> None:
    assert secret not in redacted(text)


def test_such_spaces_alone_change_nothing() -> None:
    text = "12\u00a0passed in\u202f0.3\u00a0s \u3000 ratio\uff1a 2\uff1d2"
    assert redact_text(text) == text
