"""Stored password hashes (`redact.rules_hashes`): an agent prints them (`sudo cat
/etc/shadow`, `htpasswd -nb`, a seed file, a users table) and a weak password falls to a
dictionary run against its hash. Salt and hash are replaced, the scheme's name is kept; text
that only holds `$` and digits (an `awk` program, prices, shell positional parameters) is
untouched."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ox_session_capture.redact import redact_text
from ox_session_capture.testing.redacted import redacted

SALT = "Zx9cVbNm"
HASH86 = "2qWe8rTy7uIo6pAs5dFg4hJkLmNoPqRsTuVwXyZ0123456789abcdefghijklmnopqrstuvwxyzABCDEF.gh/"

HASHES = {
    "shadow SHA-512": (f"root:$6${SALT}${HASH86}:19700:0:99999:7:::", "$6$"),
    "shadow SHA-256 rounds": (f"bob:$5$rounds=5000${SALT}${HASH86[:43]}:19700::::::", "$5$"),
    "shadow MD5": (f"old:$1${SALT}${HASH86[:22]}:19000:0:99999:7:::", "$1$"),
    "shadow yescrypt": (f"dev:$y$j9T${SALT}AbCdEf1234$.{HASH86[:42]}:19700::::::", "$y$"),
    ".htpasswd apr1": (f"bob:$apr1${SALT}${HASH86[:22]}", "$apr1$"),
    "bcrypt in SQL": (f"INSERT INTO users VALUES ('a@x.io', '$2b$12${HASH86[:53]}');", "$2b$"),
    "bcrypt PHP": (f"'hash' => '$2y$10${HASH86[:53]}',", "$2y$"),
    "argon2id": (f'"pw": "$argon2id$v=19$m=65536,t=3,p=4${SALT}AbCd${HASH86[:43]}"', "$argon2id$"),
    "Django": (
        f"pbkdf2_sha256$600000${SALT}Ab12${HASH86[:43].replace('.', 'x')}=",
        "pbkdf2_sha256$",
    ),
}


@pytest.mark.parametrize(("text", "scheme"), HASHES.values(), ids=HASHES.keys())
def test_a_password_hash_is_replaced_and_its_scheme_kept(text: str, scheme: str) -> None:
    out = redacted(text)
    assert SALT not in out
    assert HASH86[:20] not in out
    assert scheme + "[REDACTED_" in out


@pytest.mark.parametrize(
    "text",
    [
        "awk -F: '{print $1$2$3}' /etc/passwd",
        "echo $1$2 and $5$10 in a price list",
        "printf '%s' \"$6\"",
        "the cost went from $2$ to $12",
        "root:x:0:0:root:/root:/bin/bash",
        "bob:!:19700:0:99999:7:::",
        "PASSWORD_HASHERS = ['django.contrib.auth.hashers.PBKDF2PasswordHasher']",
        "hash = bcrypt.hashpw(pw, bcrypt.gensalt(12))",
        "$argon2id$ is the PHC prefix of an Argon2id hash",
    ],
)
def test_text_with_dollars_that_is_no_hash_is_kept(text: str) -> None:
    assert redact_text(text) == text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="$0123456789abcAB./=,ympv", max_size=200))
def test_redacting_dollar_soup_is_idempotent(text: str) -> None:
    once = redact_text(text)
    assert redact_text(once) == once


# An eighth attack: the hashes databases and directories keep (13 of 13 leaked before).
HEX32 = "8846f7eaee8fb117ad06bdd830b7586c"
B64 = "W6ph5Mm5Pz8GgiULbPgzG37mj9g8MDBa"
KEPT = {
    "MySQL native": ("| app | *6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9 |", "*"),
    "MySQL in SQL": (
        "IDENTIFIED WITH mysql_native_password AS '*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9'",
        "*",
    ),
    "PostgreSQL md5": (f" app     | md5{HEX32}", "md5"),
    "PostgreSQL SCRAM": (
        f"SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0$k7VZmYqW0cH3JYv8Gm0uF0uYlB+{B64}:Zm9vYmFy{B64}",
        "SCRAM-SHA-256$4096:",
    ),
    "LDAP SSHA": (f"userPassword: {{SSHA}}{B64}", "{SSHA}"),
    "LDAP CRYPT": (f"userPassword: {{CRYPT}}$6${SALT}${HASH86}", "{CRYPT}"),
    "LDAP lower case": (f"userpassword: {{ssha512}}{B64}{B64}", "{ssha512}"),
    "pwdump": (f"Administrator:500:aad3b435b51404eeaad3b435b51404ee:{HEX32}:::", "500:"),
    "secretsdump domain": (
        f"ACME.LOCAL\\svc_sql:1104:aad3b435b51404eeaad3b435b51404ee:{HEX32}:::",
        ":1104:",
    ),
}


@pytest.mark.parametrize(("text", "scheme"), KEPT.values(), ids=KEPT.keys())
def test_a_database_or_directory_hash_is_replaced(text: str, scheme: str) -> None:
    out = redacted(text)
    assert HEX32 not in out
    assert B64 not in out
    assert "6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9" not in out
    assert scheme + "[REDACTED_" in out


def test_an_ldif_base64_password_is_read_through() -> None:
    value = base64.b64encode(f"{{SSHA}}{B64}".encode()).decode()
    out = redacted(f"dn: uid=bob,ou=people,dc=acme,dc=io\nuserPassword:: {value}\n")
    assert value not in out
    assert "[REDACTED_" in out


@pytest.mark.parametrize(
    "text",
    [
        f"{HEX32}  backup.tar.gz",  # md5sum's output
        f"md5: {HEX32}",
        "**Note** see *README* for details",
        "*" + "6bb4837eb74329105ee4568dda7dc67ed2ca2ad9",  # lower case: a git SHA after a star
        "{SHA} is the scheme's name",
        "fe80:::1 and a:b:c:::",
        f"sha1 {HEX32}:{HEX32}",
    ],
)
def test_text_like_those_hashes_is_kept(text: str) -> None:
    assert redact_text(text) == text
