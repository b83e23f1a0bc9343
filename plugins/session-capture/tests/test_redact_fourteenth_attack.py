"""The shapes of the fourteenth attack on redaction, as agents' summaries write them (each
leaked before its rule): signing in at a place with a user and a password (`sign in at
https://… with bob / …`), a login label then a user and a password after a comma, a value
after words and an arrow after a password's name (`Password updated → …`), `pw` as a
credential's name in prose (`# pw was …`), a credential's old and new values after its name
(`API key rotated: old=… new=…`), a key emoji as a label (`🔑 …`), a strong password used
`for` a credential. And the same forms holding no secret (kept)."""

from __future__ import annotations

import pytest

from ox_session_capture.testing.redacted import assert_hidden, redacted

PW = "Tm4#kQ8w!zR2"
MIXED = "Tr0ub4dor3xyz"
K = "k9Xq2Lm7Zp4Rt8Vw1Yz3Bc6Df0Gh5Jn8"
K2 = "Zp4Rt8Vw1Yz3Bc6Df0Gh5Jn8k9Xq2Lm7"

LEAKED = [
    (f"Done! You can now sign in at https://admin.acme.io with deploy / {MIXED}.", MIXED),
    (f"log in to Grafana as admin with {PW}", PW),
    (f"Use these to log in: deploy, {MIXED}", MIXED),
    (f"Password updated → {MIXED}", MIXED),
    (f"the admin password once reset -> {PW}", PW),
    (
        f'export DATABASE_URL="postgresql://app:$(cat /run/secrets/pw)@db/app"  # pw was {MIXED}',
        MIXED,
    ),
    (f"new pw: {MIXED}", MIXED),
    (f"API key rotated: old={K} new={K2}", K),
    (f"API key rotated: old={K} new={K2}", K2),
    (f"rotated the token (old: {K}, new: {K2})", K2),
    (f"password changed; new: {PW}", PW),
    (f"🔑 {MIXED}", MIXED),
    (f"🔑 Admin password: `{MIXED}`", MIXED),
    (f"🔑 {K}", K),
    (f"I'll use {PW} for the DB password.", PW),
]

KEPT = [
    "sign in at the top with your account and password",
    "Log in at https://admin.acme.io with your SSO account.",
    "Login: admin, settings",
    '{"AccountId": p.account_id, "SharedDocumentVersion": p.version}',
    "Password updated → see vault",
    "Password updated → v2 hashing",
    "the token -> refresh flow and password — reset2024 page",
    "pw is required",
    "the pw field",
    "cd /tmp; pwd",
    "the token format: old=v1 new=v2",
    "version: old=1.2.3 new=1.2.4",
    f"cache key rotated: old={K} new={K2}",
    "🔑 Key points: the cache is warm",
    "🔑 API keys are read from the environment",
    "use Argon2id for the password hashes",
    "use bcrypt2024 for the password hashes",
]


@pytest.mark.parametrize(("text", "secret"), LEAKED)
def test_a_credential_of_the_fourteenth_attack_is_redacted(text: str, secret: str) -> None:
    assert_hidden(text, secret)


@pytest.mark.parametrize("text", KEPT)
def test_the_same_forms_without_a_secret_are_kept(text: str) -> None:
    assert redacted(text) == text
