"""A secret printed hex-encoded (`echo -n "$TOKEN" | xxd -p`, `hexdump -ve '1/1 "%.2x"'`, a
`0x…` literal) is redacted as the text it decodes to (`redact.encoded`); hashes, random bytes
and hex of text without a secret are left alone. Before, each reached the ledger whole: no
rule sees a token in its digits."""

from __future__ import annotations

import base64
import hashlib
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ox_session_capture.redact import redact_text
from ox_session_capture.testing.corpus.benign import LINES
from ox_session_capture.testing.corpus.secrets import SHAPES, Shape
from ox_session_capture.testing.redacted import redacted

GH = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def xxd_p(data: str | bytes) -> str:
    """What `xxd -p` prints: lower-case digits, 60 to a line."""
    raw = data.encode() if isinstance(data, str) else data
    return "\n".join(textwrap.wrap(raw.hex(), 60))


FORMS = {
    "xxd -p": xxd_p,
    "one line": lambda text: text.encode().hex(),
    "upper case": lambda text: text.encode().hex().upper(),
    "0x literal": lambda text: "0x" + text.encode().hex(),
    "in a YAML value": lambda text: f"blob: {text.encode().hex()}\nnext: 1",
    "\\x escapes": lambda text: "".join(f"\\x{b:02x}" for b in text.encode()),
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("shape", SHAPES, ids=[f"{n}-{s.kind}" for n, s in enumerate(SHAPES)])
def test_every_shape_hex_encoded_is_redacted(shape: Shape, form: str) -> None:
    for before in ("", "#", "# "):  # the secret at each place in a digit pair's reading
        text = FORMS[form](before + "\n" + shape.text + "\n")
        out = redact_text(f"$ xxd -p dump.bin\n{text}\n")
        digits = (before + "\n" + shape.text).encode().hex()
        assert digits[:40] not in out.lower().replace("\n", ""), before
        assert "[REDACTED_HEX_" in out


def test_xxd_of_a_token_is_redacted_and_named_after_it() -> None:
    # (`echo -n $GITHUB_TOKEN | xxd -p` prints a secret: its whole output is hidden as such,
    # `test_redact_terminal.py`.)
    text = f"$ xxd -p out.bin\n{xxd_p(GH)}\n$ echo done"
    out = redacted(text)
    assert out == "$ xxd -p out.bin\n[REDACTED_HEX_GITHUB_TOKEN]\n$ echo done"


def test_base64_inside_hex_is_read_to_the_secret() -> None:
    inner = base64.b64encode(f"password={GH}".encode()).decode()
    out = redact_text(f"payload {inner.encode().hex()} end")
    assert inner.encode().hex() not in out
    assert out.startswith("payload [REDACTED_HEX_")
    assert out.endswith(" end")


def test_hex_of_benign_text_is_left_alone() -> None:
    for line in LINES:
        if redact_text(line) != line:
            continue  # the corpus's own few redacted lines are another test's
        for text in (line.encode().hex(), xxd_p(line), "0x" + line.encode().hex().upper()):
            assert redact_text(text) == text, line


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=10, max_size=400), st.booleans(), st.booleans())
def test_hex_of_hashes_and_random_bytes_is_left_alone(
    data: bytes, digest: bool, upper: bool
) -> None:
    if digest:
        data = hashlib.sha256(data).digest()
    digits = data.hex().upper() if upper else data.hex()
    for text in (digits, f"commit {digits[:40]}", f"sha256:{digits}", xxd_p(data)):
        out = redact_text(text)
        assert out == text or "[REDACTED_HEX_" not in out


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SHAPES), st.sampled_from(["", " ", "\n", "x ", "\t"]), st.text(max_size=20))
def test_any_secret_the_rules_catch_is_caught_hex_encoded(
    shape: Shape, before: str, prose: str
) -> None:
    digits = (before + shape.text).encode().hex()
    text = f"{prose} {digits} {prose}"
    out = redact_text(text)
    assert digits not in out
    assert redact_text(out) == out


def _escapes(text: str) -> str:
    return "".join(f"\\x{b:02x}" for b in text.encode())


@pytest.mark.parametrize(
    "frame",
    [
        "printf '{}' > .env",
        'echo -e "{}"',
        "data = b'{}'",
        '{{"command": "printf \'{}\'"}}',  # escaped once more in JSON text
    ],
)
def test_bytes_written_as_x_escapes_are_read(frame: str) -> None:
    escaped = _escapes(f"DB_PASSWORD={GH}\n")
    text = frame.format(escaped.replace("\\", "\\\\") if frame.startswith("{") else escaped)
    out = redacted(text)
    assert escaped[:40] not in out
    assert escaped.replace("\\", "\\\\")[:40] not in out
    assert "[REDACTED_HEX_" in out


def test_x_escapes_of_binary_or_ordinary_text_are_kept() -> None:
    for text in (
        "shellcode = b'" + "\\x90" * 16 + "\\xcc\\x31\\xc0'",
        "printf '" + _escapes("hello, world: nothing to hide here") + "'",
        "\\x1b[31mred\\x1b[0m",
    ):
        assert redact_text(text) == text
