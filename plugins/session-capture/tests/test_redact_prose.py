"""A credential named in a sentence, then its value (`the password is Hunter2pw`): what users
type to their agent. A sentence about a credential keeps its words."""

from __future__ import annotations

import pytest

from ox_session_capture.redact import redact_text

SECRET = "Xq7mR2vLp9"


@pytest.mark.parametrize(
    "text",
    [
        f"The staging db password is {SECRET} until Friday.",
        f"the password is {SECRET}.",
        f"my password is '{SECRET}'",
        f"the password was changed to {SECRET}",
        f"the root password has been reset to {SECRET}",
        f"token should be {SECRET}",
        f"password for admin@db: {SECRET}",
        f"use the API key {SECRET}KdT4wZ for staging",
        f"The secret key is `{SECRET}`",
    ],
)
def test_a_value_named_in_prose_is_redacted(text: str) -> None:
    out = redact_text(text)
    assert SECRET not in out
    assert "[REDACTED_" in out


@pytest.mark.parametrize(
    "text",
    [
        "Password is incorrect",
        "The password is stored in vault",
        "The API key is read from the environment, never from the config file.",
        "the secret to success is tests",
        "a token is 401 bytes",
        "the token is valid for 3600s",
        "the password is $DB_PASSWORD",
        "the password is https://vault.internal/db",
        "the API key is `OPENAI_API_KEY`",
        "the token is `GITHUB_TOKEN` in CI",
        "the key is missing",
        "token budget is 4k",
        "the password is required",
    ],
)
def test_a_sentence_about_a_credential_is_kept(text: str) -> None:
    assert redact_text(text) == text
