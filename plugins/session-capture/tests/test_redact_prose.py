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
        # A password holding a credential's word, a digit inside: no variable's name.
        "Your new password is Hunter2pwQx",
        "the password is Passw0rdX9",
        f"Authenticating as bob with password {SECRET}",
        f"Default credentials are admin/{SECRET}",
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
        "the password input-box is hidden",
        "password v2.0 released",
        "the password field_1 is empty",
        "credentials are stored in vault",
    ],
)
def test_a_sentence_about_a_credential_is_kept(text: str) -> None:
    assert redact_text(text) == text


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        # In code, `name = other_name` assigns a variable: kept, unless the "name" is a
        # password holding a credential's word with a digit inside.
        ("password = user_password", True),
        ("password = user_password2", True),
        ("password = get_password()", True),
        ("root_password = Hunter2pwQx", False),
        ("[mysqld]\nroot-password = Hunter2pwQx", False),
        ("db_password = Passw0rdX9", False),
    ],
)
def test_a_variable_is_kept_and_a_password_holding_a_name_is_not(text: str, kept: bool) -> None:
    assert (redact_text(text) == text) is kept
