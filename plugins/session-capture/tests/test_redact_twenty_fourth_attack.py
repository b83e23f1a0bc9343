"""The shapes of the twenty-fourth attack on redaction, a password handed to what encodes,
hashes or copies it (each leaked before its rule): a literal printed into `base64` for a
Kubernetes Secret's `data` that is no strong password (`echo -n 'Tr0ub4dor9x' | base64`),
into a digest or the clipboard (`| sha256sum`, `| pbcopy`, `| xclip`), or given as a
here-string (`base64 <<< '…'`); the calls of hashing libraries that no rule named (Python's
`crypt.crypt`, argon2-cffi's `PasswordHasher().hash`, passlib's handlers, jBCrypt's
`BCrypt.hashpw`, `hashlib.pbkdf2_hmac`, Symfony's `hashPassword`, ASP.NET Identity's
`HashPassword` and `CreateAsync`, Devise's `Encryptor.digest`); OpenLDAP's `slappasswd -s`;
Dovecot's `{PLAIN}` scheme. And the same forms holding no password (kept)."""

from __future__ import annotations

import pytest

from ox_session_capture.testing.redacted import assert_hidden, redacted

PW = "Tr0ub4dor9x"

LEAKED = [
    f"echo -n '{PW}' | base64",
    f"printf '%s' '{PW}' | base64 -w0",
    f"base64 <<< '{PW}'",
    f"echo -n {PW} | pbcopy",
    f'echo "{PW}" | xclip -selection clipboard',
    f'echo -n "{PW}" | sha256sum',
    f"echo -n 'bob:realm:{PW}' | md5sum",
    f"crypt.crypt('{PW}', crypt.mksalt(crypt.METHOD_SHA512))",
    f'ph = PasswordHasher(); h = ph.hash("{PW}")',
    f'String h = BCrypt.hashpw("{PW}", BCrypt.gensalt());',
    f'pbkdf2_sha256.hash("{PW}")',
    f"hashlib.pbkdf2_hmac('sha256', b'{PW}', salt, 100000)",
    f"scrypt.hash('{PW}', salt)",
    f"$hasher->hashPassword($user, '{PW}')",
    f'_passwordHasher.HashPassword(user, "{PW}")',
    f'await userManager.CreateAsync(new IdentityUser {{ UserName = "bob" }}, "{PW}");',
    f"Devise::Encryptor.digest(User, '{PW}')",
    f"slappasswd -h {{SSHA}} -s {PW}",
    f"bob:{{PLAIN}}{PW}:1000:1000::/home/bob",
]

KEPT = [
    'echo -n "hello world" | base64',
    "echo -n 'user@example.com' | base64",
    "echo -n admin | base64",
    'echo "$DB_PASSWORD" | base64',
    'echo -n "my-app-name" | base64',
    'echo -n "v1.2.3" | base64',
    "echo -n https://example.com/callback | base64",
    "sha256sum <<< hello",
    "h = ph.hash(password)",
    "crypt.crypt(password, salt)",
    "_passwordHasher.HashPassword(user, model.Password)",
    "slappasswd -s $LDAP_PW",
    "default_pass_scheme = PLAIN",
    'password_scheme: "SHA512-CRYPT"',
]


@pytest.mark.parametrize("text", LEAKED)
def test_a_password_of_the_twenty_fourth_attack_is_redacted(text: str) -> None:
    assert_hidden(text, PW)


def test_a_strong_password_hashed_by_a_digest_is_redacted() -> None:
    # Kept by the twelfth attack's tests (a digest is no encoder): the literal hashed is in
    # the command all the same.
    assert_hidden("echo -n Hk3n#T8qWz5x | sha256sum", "Hk3n#T8qWz5x")


@pytest.mark.parametrize("text", KEPT)
def test_the_same_forms_without_a_password_are_kept(text: str) -> None:
    assert redacted(text) == text
