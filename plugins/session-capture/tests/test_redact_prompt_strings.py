"""A password's name that ends a quoted string with its colon (an `expect` prompt, a form's
label: `"password:"`) is followed by the quote closing that string, not by a value: the text
up to the next quote was redacted as the password (`expect "password:" { send "…" }` became
`expect "password:"[REDACTED_PASSWORD]"…`), and the password itself was left to other rules."""

from __future__ import annotations

import pytest

from ox_session_capture.testing.redacted import redacted

PW = "Tr0ub4dor9x"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f'expect "password:" {{ send "{PW}\\r" }}', 'expect "password:" { send "'),
        ('label="password:" value="Hunter2pw"', 'label="password:" value="'),
        ('prompt = "Password:" + " "', 'prompt = "Password:" + " "'),
        ('\\"password:\\" {\\n send', '\\"password:\\" {\\n send'),
    ],
)
def test_the_quote_closing_a_prompt_opens_no_value(text: str, kept: str) -> None:
    out = redacted(text)
    assert out.startswith(kept), out
    assert PW not in out


@pytest.mark.parametrize(
    "text",
    [
        f'{{"password": "{PW}"}}',
        f'password:"{PW}"',
        f"password: '{PW}'",
        f'{{\\"password\\":\\"{PW}\\"}}',
        f'curl -d "user=bob&password="{PW}" https://x',  # the shell's one word after `=`
    ],
)
def test_a_value_after_a_quoted_key_is_still_redacted(text: str) -> None:
    out = redacted(text)
    assert PW not in out
    assert "[REDACTED_PASSWORD]" in out
