"""The shapes of the eleventh attack on redaction (each leaked before its rule): a credential
set to a value in prose with the verb first (how an agent's summary reports its work: `I set
the admin password to …`, `changed DB_PASSWORD from … to …`, `use … as the password`), a
name then words then an arrow, a strong password after a label with words after it or right
after `with password`, a reset password's new value (`elasticsearch-reset-password`); and the
same forms holding no secret (kept)."""

from __future__ import annotations

import pytest

from ox_session_capture.redact.rules import strong_password
from ox_session_capture.testing.redacted import assert_hidden, redacted

PW = "Tm4#kQ8w!zR2"
OLD = "Zx9!qLmP2#vB"
K = "k9Xq2Lm7Zp4Rt8Vw1Yz3Bc6Df0Gh5Jn8"

LEAKED = [
    # the verb first: set / change / update / reset / rotate … to
    (f"I set the admin password to `{PW}`.", PW),
    (f"Set the password to {PW}", PW),
    (f"I set DB_PASSWORD to {PW} in the env", PW),
    (f'I set DB_PASSWORD to "{PW}" in .env', PW),
    (f"updated the staging API token to {K}", K),
    (f"Reset the root password to '{PW}' and restarted mysqld.", PW),
    (f"rotated STRIPE_SECRET_KEY to {K} on both hosts", K),
    (f"Changing the deploy key's passphrase to {PW} now", PW),
    (f"changed the password from `{OLD}` to `{PW}`", OLD),
    (f"changed the password from `{OLD}` to `{PW}`", PW),
    (f"changed the password from {OLD} to {PW}", OLD),
    (f"changed the password from {OLD} to {PW}", PW),
    # the value first: use … as the password
    (f"use `{PW}` as the password", PW),
    (f"Use {PW} as the new admin password.", PW),
    (f"using {K} as the API key for now", K),
    # … is now …
    (f"The API key is now {K}.", K),
    (f"the password is now {PW}", PW),
    # a name, words, an arrow
    (f"Save this secret somewhere safe -> {K}", K),
    (f"staging deploy token (read only) => {K}", K),
    # a label, words, a colon, a strong password with words after it
    (f"The generated admin password is shown once: {PW} - store it now.", PW),
    # right after `with password`
    (f"Created user 'deploy' with password {PW}", PW),
    (f"logged in as admin with password {PW} and ran the migration", PW),
    # the name, words, its verb (or commas), then the value
    (f"The password for the admin user is now {PW}", PW),
    (f"The root password I chose is {PW}", PW),
    (f"the new password, {PW}, works", PW),
    (f"The DB password ({PW}) is now in the vault", PW),
    (f"Set password for user postgres to {PW}", PW),
    (f"set the password for the admin user to '{PW}'", PW),
    (f"You can log in with admin/{PW}", PW),
    # a credential announced, then alone on the next line
    (f"Token created successfully!\n{K}", K),
    (f"Here is your new API key:\n\n{K}\n\nStore it safely.", K),
    # a default administrator and a password, a K3s token, ldappasswd's passwords
    (f"Grafana: admin / {PW}", PW),
    (f"the console login is root / {K}", K),
    (
        "sudo cat /var/lib/rancher/k3s/server/token\nK10" + "ab12" * 16 + "::server:" + K,
        "ab12" * 16 + "::server:" + K,
    ),
    (f"ldappasswd -x -D cn=admin,dc=acme -W -s {PW} uid=bob,dc=acme", PW),
    (f"ldappasswd -x -D cn=admin,dc=acme -W -a {OLD} -s {PW} uid=bob,dc=acme", OLD),
    # a password reset, then its new value on the next line
    (f"Password for the [elastic] user successfully reset.\nNew value: {PW}", PW),
    (f"Password for the [kibana_system] user successfully reset.\\nNew value: {K}", K),
]

KEPT = [
    "set the password to expire after 90 days",
    "I changed the token to use the new format",
    "update the secret to match production",
    "reset the password to the default",
    "use bcrypt as the password hash",
    "use env vars as the secret store",
    "Set the API key to your own key from the dashboard",
    "changed DB_PASSWORD from a hardcoded value to an env var",
    "set token_ttl to 3600",
    "set the key to user_id",
    "set password_min_length to 12",
    "set the session secret to process.env.SESSION_SECRET",
    "Updated the token to v2-beta",
    "Set the password field to type=password",
    "changed the secret to a Kubernetes Secret",
    "The token -> see docs/auth.md",
    "password hashing -> bcrypt",
    "Set SECRET_KEY to a long random string in production.",
    "Set the token to ${GITHUB_TOKEN} in the workflow",
    "We use OAuth2 as the token exchange",
    "using JWT as the token format",
    "update the password to something stronger",
    "changed the token from JWT to opaque",
    "set the secret_key_base to Rails.application.credentials.secret_key_base",
    "the API key -> `OPENAI_API_KEY` env var",
    "set the private key to id_ed25519",
    "set the Stripe key to sk_test_... for local dev",
    "reset the token to None",
    "set the credentials to read-only",
    "rotate the API key to v3",
    "Set the API key to built-in",
    "Incorrect API key provided: sk-proj-************************************Xy7Q. You can "
    "find your API key at https://platform.openai.com/account/api-keys.",
    "New value: 8 (the password reset count)",
    "Password for the [elastic] user successfully reset.\nNew value: see above",
    "the password is now required",
    "Created user 'deploy' with password authentication",
    "the token expiry is 3600s",
    "the password, which you set earlier, works",
    "Token created successfully!\nRun gh auth status to check it.",
    "New token created!\nhttps://example.com/settings/tokens/123456789012345",
    "Token expired!\n4f8a2c6e1b3d5f7a9c0e2b4d6f8a1c3e",
    "log in with GitHub/Google",
    "Set the password for the admin user to expire",
    "the password field I added is required",
    "    def __init__(self, credentials, expires=DEFAULT_EXPIRES):",
    "    def add_password(self, realm, uri, user, passwd, is_authenticated=False):",
    "f(token, Xk9_LongVariableName2)",
    "admin / settings",
    "cd /srv/root / 9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    "ls admin/9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    "ldapsearch -x -s sub -b dc=acme uid=bob",
    "K10 is the first key of the board",
]


@pytest.mark.parametrize(("text", "secret"), LEAKED)
def test_a_credential_of_the_eleventh_attack_is_redacted(text: str, secret: str) -> None:
    assert_hidden(text, secret)


@pytest.mark.parametrize("text", KEPT)
def test_the_same_forms_without_a_secret_are_kept(text: str) -> None:
    assert redacted(text) == text


@pytest.mark.parametrize(
    ("value", "strong"),
    [
        (PW, True),
        ("P@ssw0rd", True),
        ("password1", False),  # no capital, no sign
        ("$HOME/.Config2", False),  # a path
        ("sk-proj-****Xy7Q", False),  # masked
        ("Abc1!", False),  # short
        ("Ab1! cD2@", False),  # spaced
    ],
)
def test_a_strong_password_has_all_four_classes_and_no_path(value: str, strong: bool) -> None:
    assert strong_password(value) is strong
