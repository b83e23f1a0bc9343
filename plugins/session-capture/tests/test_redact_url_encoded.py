"""A secret written URL-encoded is redacted as the text it decodes to (`views.reading`): a
redirect's `next=https%3A%2F%2Fapp%2Fcb%3Ftoken%3D…`, a form body `client_secret%3D…%26…`,
a database URL typed into a web console, a URL encoded again inside another's query. Before,
every corpus shape so encoded reached the ledger whole: the escapes hide the `=`, `:`, `"`,
`@` the rules read between a name and its value."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ox_session_capture.redact import LedgerRedactor, redact_raw_bytes, redact_text
from ox_session_capture.redact.views import reading
from ox_session_capture.testing.corpus.benign import LINES
from ox_session_capture.testing.corpus.secrets import SHAPES, Shape
from ox_session_capture.testing.redacted import redacted


def _quote(text: str) -> str:
    return urllib.parse.quote(text, safe="")


ENCODINGS: dict[str, Callable[[str], str]] = {
    "encodeURIComponent": _quote,
    "quote": urllib.parse.quote,  # `/` kept
    "quote twice": lambda text: _quote(_quote(text)),
    # A form's encoding writes spaces as `+`: read so beside any `%XX` escape.
    "form with escapes": lambda text: urllib.parse.quote_plus(text) + "%26page%3D2",
    "form twice": lambda text: urllib.parse.quote_plus(urllib.parse.quote_plus(text) + "%26x"),
}


def _leaks(shape: Shape, out: str) -> bool:
    return shape.secret in out or any(e(shape.secret) in out for e in ENCODINGS.values())


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_shape_url_encoded_is_redacted(encoding: str) -> None:
    encode = ENCODINGS[encoding]
    leaked = []
    for shape in SHAPES:
        text = encode(shape.text)
        if _leaks(shape, redacted(text)):
            leaked.append(f"{shape.kind}: {text[:80]}")
    assert not leaked, f"{len(leaked)} of {len(SHAPES)} leaked:\n" + "\n".join(leaked)


GH = "ghp_" + "Qm7vT2kX9pL4sW8nB3cR6yH1jF5dZ0gA2eK4"
TOKEN = "q8Zr2mXv7LpT4nWs9Kd1"
PW = "Hunter2pw"
B64_SECRET = "x2eZRwN+ptWPYxAwIZ0DqK7f/COokPyQnP8o4FG5"

SEEN = [
    # An OAuth redirect in a server log: the token is a query parameter of an encoded URL.
    (f"GET /login?next=https%3A%2F%2Fapp.example.com%2Fcb%3Ftoken%3D{TOKEN}%26x%3D1 302", TOKEN),
    # A database URL set through a web console, logged as the form sent it.
    (f"DATABASE_URL=postgres%3A%2F%2Fapp%3A{PW}%40db.internal%3A5432%2Fapp", PW),
    (f"body: grant_type=client_credentials&client_secret%3D{TOKEN}%26scope%3Dall", TOKEN),
    (f"curl -d 'payload=%7B%22api_key%22%3A%20%22{TOKEN}Xa%22%7D' https://x", TOKEN),
    # Encoded again inside another URL's query.
    (f"https://sso.example.com/?r=https%253A%252F%252Fci%252F%253Fpassword%253D{PW}", PW),
    # A form field: spaces as `+`, the `+` of a base64 secret as `%2B`.
    ("aws_secret_access_key+%3D+" + urllib.parse.quote(B64_SECRET, safe=""), B64_SECRET[8:20]),
    (f"q=Authorization%3A+Bearer+{GH}", GH),
    (f"password%3A%C2%A0{PW}", PW),  # a no-break space, encoded as UTF-8
]


@pytest.mark.parametrize(("text", "secret"), SEEN)
def test_a_url_encoded_secret_is_redacted_and_the_escapes_around_it_kept(
    text: str, secret: str
) -> None:
    out = redacted(text)
    assert secret not in out
    assert "[REDACTED_" in out
    assert out.count("%") >= text.count("%") - 12  # only escapes inside a secret go with it


@pytest.mark.parametrize(("text", "secret"), SEEN)
def test_a_url_encoded_secret_is_redacted_in_a_published_raw_line(text: str, secret: str) -> None:
    line = json.dumps({"type": "tool", "tool_output": text}).encode() + b"\n"
    assert secret.encode() not in redact_raw_bytes(line)


def test_a_plus_decoded_from_an_escape_stays_a_plus() -> None:
    # `%2B` with no other escape beside it: a base64 token's own `+`, not a form's space
    # (read as a space, it would cut the token where its rule no longer sees it).
    token = "ops_eyJ2UBbGp/8qC8Jc11eEj6bJVwqdXCVHp2tB68O7O1Q5cC+oI1RxYRzKofjrkILxROQKgLy3"
    shape = next(s for s in SHAPES if s.kind == "ONEPASSWORD_TOKEN")
    text = _quote(shape.text)
    assert "%2B" in text
    assert not _leaks(shape, redact_text(text))
    seen = reading(_quote(token))
    assert seen is not None
    assert seen.text == token


@pytest.mark.parametrize("encoding", ["encodeURIComponent", "quote", "quote twice", "form"])
def test_benign_text_url_encoded_is_left_alone(encoding: str) -> None:
    encode = {**ENCODINGS, "form": urllib.parse.quote_plus}[encoding]
    changed = []
    for line in LINES:
        if redact_text(line) != line:
            continue  # the corpus's own few redacted lines are another test's
        text = encode(line)
        if redact_text(text) != text:
            changed.append(f"{text[:80]} -> {redact_text(text)[:80]}")
    assert not changed, "\n".join(changed)


@pytest.mark.parametrize(
    "text",
    [
        "printf '%02x %2d %3d%%' 7 8 9",  # format strings hold `%XX`-like pieces
        "progress 100%20 files",
        "https://example.com/search?q=rust+async%20await&page=2",
        "%E2%9C%93 done, %F0%9F%9A%80 shipped",  # UTF-8 escapes of signs
        "%ZZ %4 %",  # not escapes
        "a+b+c = d",
    ],
)
def test_escapes_alone_change_nothing(text: str) -> None:
    assert redact_text(text) == text


_PIECES = st.sampled_from(
    ["a", "+", "%", "%3D", "%3d", "%2B", "%25", "%253D", "%C3%A9", "%F0", "%2", "password",
     "token", "Vq8rTm2LxZp4", " ", "\\u0025", "\x1b[1m"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=14).map("".join))
def test_a_reading_maps_back_in_order_and_redaction_is_idempotent(text: str) -> None:
    seen = reading(text)
    if seen is not None:
        last = 0
        for i in range(len(seen.text)):
            start, end = seen.origin(i, i + 1)
            assert 0 <= start < end <= len(text)
            assert start >= last or end > last  # never before what came before it
            last = max(last, start)
    out = redact_text(text)
    assert redact_text(out) == out
    assert LedgerRedactor().many(["x", text]) == ["x", out]
