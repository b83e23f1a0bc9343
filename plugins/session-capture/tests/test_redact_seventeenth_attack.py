"""The shapes of the seventeenth attack on redaction, from the SQL agents write and read (each
leaked before `redact.sql`): a seed script's `INSERT … (…, password) VALUES (…)`, a table
created then filled without a column list (a `mysqldump`), a password hashed where it is
inserted, a driver's call with its values in the next argument, `pg_dump`'s `COPY … FROM
stdin` rows, a settings table's row named for a credential (`wp_options`). And the same
statements holding no literal credential (kept), and a property: whatever the columns, their
order, the rows and the spacing, exactly the credential columns' values go."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ox_session_capture.redact import redact_text
from ox_session_capture.testing.redacted import assert_hidden, redacted

MIXED = "Tr0ub4dor3xyz"
K = "k9Xq2Lm7Zp4Rt8Vw1Yz3Bc6Df0Gh5Jn8"
_SEED = f"INSERT INTO users (name, password) VALUES ('x', '{MIXED}')"
_ARGS = "INSERT INTO users (name, pwd) VALUES (%s, %s)"

LEAKED = [
    (f"INSERT INTO users (email, password) VALUES ('admin@acme.io', '{MIXED}');", MIXED),
    (
        "INSERT INTO users (email, password, role)\nVALUES\n"
        f"  ('admin@acme.io', 'a{MIXED}', 'admin'), -- the admin\n"
        f"  ('dev@acme.io', '{MIXED}', 'user');",
        MIXED,
    ),
    (f'insert or ignore into "users" ("name", "Password") values (\'x\', \'{MIXED}\')', MIXED),
    (f"REPLACE INTO `users` (`name`, `passwd`) VALUES ('x', \"{MIXED}\");", MIXED),
    (f"INSERT INTO api_clients (name, client_secret) VALUES ('ci', '{K}');", K),
    (f"INSERT INTO users (name, password) VALUES ('x', E'{MIXED}'), ('y', N'{MIXED}')", MIXED),
    (f"INSERT INTO users (name, password) VALUES ('x', '{MIXED}'::text);", MIXED),
    (f"INSERT INTO public.users (id, api_token) VALUES (1, '{K}') ON CONFLICT DO NOTHING", K),
    (
        "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL, password TEXT);\n"
        f"INSERT INTO users VALUES (1, 'admin', '{MIXED}');",
        MIXED,
    ),
    (
        "CREATE TABLE IF NOT EXISTS `api_clients` (\n  `id` int(11) NOT NULL,\n"
        "  `secret` varchar(64) DEFAULT NULL COMMENT 'the secret, (hidden)',\n"
        "  PRIMARY KEY (`id`),\n  KEY `idx` (`secret`)\n) ENGINE=InnoDB;\n"
        f"INSERT INTO `api_clients` VALUES (1,'{K}'),(2,'b{K}');",
        K,
    ),
    (
        "INSERT INTO users (email, password_hash) VALUES "
        f"('a@acme.io', crypt('{MIXED}', gen_salt('bf')));",
        MIXED,
    ),
    (f"INSERT INTO users (email, encrypted_password) VALUES ('a@b.io', md5( '{MIXED}' ));", MIXED),
    (
        f'cur.execute("INSERT INTO users (name, password) VALUES (%s, %s)", ("bob", "{MIXED}"))',
        MIXED,
    ),
    (
        'cur.executemany("INSERT INTO users (name, password) VALUES (?, ?)", '
        f'[("a", "a{MIXED}"), ("b", "{MIXED}")])',
        MIXED,
    ),
    (
        "await db.query('INSERT INTO users (email, password) VALUES ($1, $2)', "
        f"['a@b.io', '{MIXED}'])",
        MIXED,
    ),
    (
        "await db.query('INSERT INTO users (password, email) VALUES ($2, $1)', "
        f"['a@b.io', '{MIXED}'])",
        MIXED,
    ),
    (
        f'_, err := db.Exec("INSERT INTO users (name, password) VALUES (?, ?)", "bob", "{MIXED}")',
        MIXED,
    ),
    (
        'db.execute(\n    """\n    INSERT INTO users (name, password)\n'
        '    VALUES (?, ?)\n    """,\n'
        f'    ("bob", "{MIXED}"),\n)',
        MIXED,
    ),
    (
        "COPY public.users (id, email, password) FROM stdin;\n"
        f"1\tadmin@acme.io\t{MIXED}\n2\tdev@acme.io\t\\N\n\\.\n",
        MIXED,
    ),
    (
        "INSERT INTO wp_options (option_name, option_value, autoload) VALUES "
        f"('smtp_password', '{MIXED}', 'yes');",
        MIXED,
    ),
    (f"INSERT INTO settings (key, value) VALUES ('theme', 'dark'), ('stripe_secret', '{K}')", K),
    (f"INSERT INTO config (config_key, config_value) VALUES ('db.password', '{MIXED}')", MIXED),
    # In a tool's JSON input, whole and cut short (its escapes read: `\\"`, `\\n`).
    (
        json.dumps({"command": f'sqlite3 app.db "{_SEED}"'}),
        MIXED,
    ),
    (
        json.dumps({"code": f'cur.execute("{_ARGS}", ("b", "{MIXED}"))'})[:-3],
        MIXED,
    ),
]

KEPT = [
    "INSERT INTO users (email, password) VALUES ('a@b.io', NULL), ('c@d.io', DEFAULT);",
    "INSERT INTO users (email, password) VALUES (:email, :password)",
    "INSERT INTO users (email, password) VALUES (?, ?)",
    'cur.execute("INSERT INTO users (name, password) VALUES (%s, %s)", (name, hashed))',
    "INSERT INTO users (email, password_hash) VALUES ('a@b.io', $1)",
    "INSERT INTO tokens (user_id, token_type, expires_at) VALUES (1, 'refresh', now());",
    "INSERT INTO settings (key, value) VALUES ('theme', 'dark');",
    "INSERT INTO api_keys (name, key) VALUES ('ci', 'primary');",
    "INSERT INTO users (name, password_reset_at) VALUES ('bob', '2024-01-01');",
    "INSERT INTO users (name, email) VALUES ('Tr0ub4dor3xyz', 'a@b.io');",
    # No table created here, and none of accounts (a `users` row is the twenty-seventh
    # attack's: a password-like value there is read as one).
    "INSERT INTO orders VALUES (1, 'admin', 'Tr0ub4dor3xyz');",
    "COPY public.users (id, email) FROM stdin;\n1\tadmin@acme.io\n\\.",
    "INSERT INTO settings (key, value) VALUES ('password_min_length', '12');",
    "INSERT INTO settings (name, value) VALUES ('api_token', 'abc'), ('theme', 'Tr0ub4dor3xyz');",
    "Insert the rows into users (the password column stays empty) with values (a, b).",
]


@pytest.mark.parametrize(("text", "secret"), LEAKED)
def test_a_credential_of_the_seventeenth_attack_is_redacted(text: str, secret: str) -> None:
    assert_hidden(text, secret)


@pytest.mark.parametrize("text", KEPT)
def test_the_same_statements_without_a_literal_are_kept(text: str) -> None:
    assert redacted(text) == text


def test_a_stored_hash_keeps_its_scheme() -> None:
    bcrypt = "$2b$12$" + "abcdefghijklmnopqrstuv" + "A" * 31
    out = redacted(f"INSERT INTO users (email, password) VALUES ('a@b.io', '{bcrypt}');")
    assert "'$2b$[REDACTED_PASSWORD_HASH]'" in out


# ---------------------------------------------------------------- any statement

_PLAIN_COLUMNS = ["id", "email", "name", "role", "created_at", "password_reset_at", "token_type"]
_CREDENTIAL_COLUMNS = ["password", "passwd", "api_key", "client_secret", "auth_token", "pwd"]
_QUOTES = ["{}", '"{}"', "`{}`", "[{}]"]
_SPACES = st.sampled_from([" ", "  ", "\n", "\n  ", " -- a note\n ", " /* x */ ", "\t"])
_secrets = st.text(string.ascii_letters + string.digits, min_size=10, max_size=20).map(
    lambda s: "Q7" + s + "!9"
)
_plain_values = st.sampled_from(["NULL", "1", "now()", "'admin@acme.io'", "'user'", "TRUE"])


@st.composite
def _statements(draw: st.DrawFn) -> tuple[str, list[str], list[str]]:
    """An INSERT of random columns and rows: its text, the credential values, the others."""
    names = draw(
        st.lists(
            st.sampled_from(_PLAIN_COLUMNS + _CREDENTIAL_COLUMNS),
            min_size=1,
            max_size=6,
            unique=True,
        )
    )
    quote = draw(st.sampled_from(_QUOTES))
    space = draw(_SPACES)
    secrets: list[str] = []
    kept: list[str] = []
    rows = []
    for _ in range(draw(st.integers(1, 4))):
        cells = []
        for name in names:
            if name in _CREDENTIAL_COLUMNS:
                secret = draw(_secrets)
                secrets.append(secret)
                cells.append(f"'{secret}'")
            else:
                value = draw(_plain_values)
                kept.append(value)
                cells.append(value)
        rows.append("(" + f",{space}".join(cells) + ")")
    columns = f",{space}".join(quote.format(n) for n in names)
    text = f"INSERT INTO users{space}({columns}){space}VALUES{space}" + f",{space}".join(rows) + ";"
    return text, secrets, kept


@settings(max_examples=150, deadline=None)
@given(_statements())
def test_exactly_the_credential_columns_values_go(
    statement: tuple[str, list[str], list[str]],
) -> None:
    text, secrets, kept = statement
    out = redact_text(text)
    for secret in secrets:
        assert secret not in out, out
    for value in kept:
        assert value in out, out
    assert out.count("[REDACTED_") == len(secrets), out
