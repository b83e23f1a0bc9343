"""The shapes of the twenty-third attack on redaction, passwords given where no rule looked
(each leaked before its rule): an INSERT whose row is a query of literals (`INSERT INTO users
(email, password) SELECT '…', '…' WHERE NOT EXISTS (…)`, rows joined by `UNION ALL SELECT`),
WinRAR's console tools (`rar a -hpPW`, `unrar x -pPW`), Neo4j's `cypher-shell -p`, OpenVPN's
credentials from a process substitution (`--auth-user-pass <(printf 'user\\npass\\n')`) and
Junos' `plain-text-password-value`. And the same forms holding no password (kept)."""

from __future__ import annotations

import pytest

from ox_session_capture.testing.redacted import assert_hidden, redacted

PW = "Tr0ub4dor9x"

LEAKED = [
    f"INSERT INTO users (email, password) SELECT 'a@b.io', '{PW}';",
    f"INSERT INTO users (email, password)\nSELECT 'a@b.io', '{PW}'\n"
    "WHERE NOT EXISTS (SELECT 1 FROM users WHERE email = 'a@b.io');",
    f"INSERT INTO users (id, email, password) SELECT 1, 'a@b.io', '{PW}'::text",
    f"INSERT INTO users (email, password) SELECT 'c@d.io', 'Xy9Zq8Wv7u' FROM dual\n"
    f"UNION ALL SELECT 'a@b.io', '{PW}' FROM dual;",
    f"rar a -hp{PW} backup.rar db.sql",
    f'rar a -p"{PW}" backup.rar db.sql',
    f"unrar x -p{PW} backup.rar",
    f'"C:\\Program Files\\WinRAR\\WinRAR.exe" a -hp{PW} s.rar f',
    f"cypher-shell -u neo4j -p {PW}",
    f"cypher-shell -a bolt://db:7687 -u neo4j -p {PW} 'MATCH (n) RETURN n'",
    f"sudo openvpn --config c.ovpn --auth-user-pass <(printf 'bob\\n{PW}\\n')",
    f'openvpn --config c.ovpn --auth-user-pass <(echo -e "bob\\n{PW}")',
    f'set system root-authentication plain-text-password-value "{PW}"',
    f"set system login user admin authentication plain-text-password-value {PW}",
]

KEPT = [
    "INSERT INTO users (email, password) SELECT email, password FROM old_users;",
    "INSERT INTO users (email, password) SELECT 'a@b.io', password FROM old_users;",
    "INSERT INTO audit (action, detail) SELECT 'password_reset', 'user 5';",
    "rar a -p backup.rar db.sql",
    "rar a -p- backup.rar db.sql",
    "unrar x -p$RAR_PASSWORD backup.rar",
    "see the library -pfoo flag",
    "cypher-shell -u neo4j -p $NEO4J_PASSWORD",
    "openvpn --config c.ovpn --auth-user-pass creds.txt",
    'openvpn --auth-user-pass <(printf \'%s\\n%s\\n\' "$VPN_USER" "$VPN_PASS")',
    "set system root-authentication plain-text-password",
]


@pytest.mark.parametrize("text", LEAKED)
def test_a_password_of_the_twenty_third_attack_is_redacted(text: str) -> None:
    assert_hidden(text, PW)


@pytest.mark.parametrize("text", KEPT)
def test_the_same_forms_without_a_password_are_kept(text: str) -> None:
    assert redacted(text) == text
