"""A secret written in a way that only changes how it is shown is redacted as the text it
reads as: terminal color codes around or inside it (`views.reading`)."""

from __future__ import annotations

import json

import pytest

from ox_session_capture.redact import LedgerRedactor, redact_raw_bytes, redact_text

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
    out = redact_text(text)
    assert secret not in out
    assert "[REDACTED_" in out
    assert out.count(ESC) >= text.count(ESC) - 2  # only codes inside a secret go with it
    assert redact_text(out) == out
    assert LedgerRedactor().many(["plain words", text]) == ["plain words", out]


@pytest.mark.parametrize(("text", "secret"), COLORED)
def test_a_colored_secret_is_redacted_in_a_published_raw_line(text: str, secret: str) -> None:
    line = json.dumps({"type": "tool", "tool_output": text}).encode() + b"\n"
    assert b"\\u00" in line  # the escape codes written as JSON escapes
    assert secret.encode() not in redact_raw_bytes(line)


def test_colors_alone_change_nothing() -> None:
    text = f"{ESC}[32m12 passed{ESC}[0m in 0.3s, {ESC}[1mkeys:{ESC}[0m a b c"
    assert redact_text(text) == text
