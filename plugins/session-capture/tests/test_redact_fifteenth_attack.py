"""The shapes of the fifteenth attack on redaction (each leaked before its rule): a password
written into the call that hashes it, as seed scripts and test users do (`bcrypt.hashpw(b"…")`,
`make_password('…')`, `password_hash('…')`, `Hash::make('…')`, `bcrypt.hash('…', 10)`,
`passwordEncoder.encode("…")`, `bcrypt.GenerateFromPassword([]byte("…")`, SQL's
`PASSWORD('…')` and `crypt('…', gen_salt(…))`); Django's `create_superuser('admin', email,
'…')`; `doveadm pw -p …` and `caddy hash-password --plaintext …`. And the same calls holding
no literal password (kept)."""

from __future__ import annotations

import pytest

from ox_session_capture.testing.redacted import assert_hidden, redacted

MIXED = "Tr0ub4dor3xyz"

LEAKED = [
    f'bcrypt.hashpw(b"{MIXED}", bcrypt.gensalt())',
    f'generate_password_hash("{MIXED}")',
    f"make_password('{MIXED}')",
    f'pwd_context.hash("{MIXED}")',
    f"password_hash('{MIXED}', PASSWORD_DEFAULT)",
    f"User::factory()->create(['email' => 'a@b.io', 'password' => Hash::make('{MIXED}')]);",
    f"User::first()->update(['password' => bcrypt('{MIXED}')])",
    f'BCrypt::Password.create("{MIXED}")',
    f"await bcrypt.hash('{MIXED}', 10)",
    f'const h = bcryptjs.hashSync("{MIXED}", 8)',
    f'await argon2.hash("{MIXED}")',
    f'passwordEncoder.encode("{MIXED}")',
    f'new BCryptPasswordEncoder().encode("{MIXED}")',
    f'hash, _ := bcrypt.GenerateFromPassword([]byte("{MIXED}"), bcrypt.DefaultCost)',
    f"SET PASSWORD FOR 'app'@'%' = PASSWORD('{MIXED}');",
    f"SELECT crypt('{MIXED}', gen_salt('bf'));",
    f"User.objects.create_superuser('admin', 'a@b.io', '{MIXED}')",
    f'User.objects.create_user("bob", "bob@acme.io", "{MIXED}")',
    f"doveadm pw -s SHA512-CRYPT -p {MIXED}",
    f"caddy hash-password --plaintext {MIXED}",
]

KEPT = [
    "make_password(password)",
    "bcrypt.hashpw(password.encode(), bcrypt.gensalt())",
    "crypt('abc')",
    'hashlib.sha256(b"hello world")',
    "PASSWORD(some_col)",
    'encoder.encode("hello")',
    "bcrypt('')",
    "Hash::make($request->password)",
    "User.objects.create_user(username, email, password)",
    "caddy hash-password",
]


@pytest.mark.parametrize("text", LEAKED)
def test_a_password_of_the_fifteenth_attack_is_redacted(text: str) -> None:
    assert_hidden(text, MIXED)


@pytest.mark.parametrize("text", KEPT)
def test_the_same_calls_without_a_literal_are_kept(text: str) -> None:
    assert redacted(text) == text
