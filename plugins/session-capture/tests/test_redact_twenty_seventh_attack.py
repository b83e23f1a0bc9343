"""The shapes of the twenty-seventh attack on redaction, passwords where no name stands beside
them (each leaked before its reader or rule): a row inserted without a column list into a
table of accounts that no text creates (`INSERT INTO users VALUES (1, 'alice', '…')`, a
`mysqldump` of a `users` table, a driver's placeholders bound to a tuple), and the branch of
an `expect` block answering a password prompt (`expect { "password:" { send "…\\r" } }`),
`yes … | head -2 | passwd`.
And the same forms holding no password (kept)."""

from __future__ import annotations

import pytest

from ox_session_capture.testing.redacted import assert_hidden, redacted

PW = "Tr0ub4dor9x"

LEAKED = [
    f"INSERT INTO users VALUES (1, 'alice', '{PW}');",
    f"INSERT INTO users VALUES (DEFAULT, 'alice@example.com', '{PW}', NOW());",
    f"INSERT INTO `users` VALUES (1,'admin','admin@example.com','{PW}','2024-01-01'),"
    f"(2,'bob','bob@example.com','Hk3n#T8qWz5x','2024-01-02');",
    f"INSERT INTO public.accounts VALUES (1, 'bob', '{PW}');",
    f"insert into wp_users values (1, 'admin', '{PW}', 'admin', 'a@b.c', '', "
    f"'2024-01-01 00:00:00', '', 0, 'admin');",
    f"INSERT INTO [dbo].[Users] VALUES (N'alice', N'{PW}')",
    f'cur.execute("INSERT INTO users VALUES (%s, %s, %s)", (1, "alice", "{PW}"))',
    f"INSERT INTO admins VALUES\n  (1, 'root', '{PW}');",
    f'expect {{\n  "password:" {{ send "{PW}\\r"; exp_continue }}\n}}',
    f'expect {{\n  -re "assword" {{send -- "{PW}\\r"}}\n  "yes/no" {{ send "yes\\r" }}\n}}',
    f'{{"command": "expect -c \\"spawn ssh h; expect {{\\\\\\"password:\\\\\\" '
    f'{{send \\\\\\"{PW}\\\\r\\\\\\"}}}}\\""}}',
    f"yes {PW} | head -2 | passwd alice",  # its two lines taken first
]

KEPT = [
    "INSERT INTO users VALUES (1, 'alice', 'Alice Smith', 'alice@example.com', '2024-01-01');",
    "INSERT INTO users VALUES (1, 'alice', 'a1b2c3d4-e5f6-7890-abcd-ef1234567890');",
    "INSERT INTO users VALUES (1, 'alice', 'admin', 'v1.2.3', '/home/alice');",
    "INSERT INTO users VALUES (1, 'alice', '$2y$10$abcdefghijklmnopqrstuu');",
    "INSERT INTO products VALUES (1, 'SKU12AB', 'Widget');",
    "INSERT INTO orders VALUES (1, 'Tr0ub4dor9x', 3);",
    'cur.execute("INSERT INTO users VALUES (%s, %s)", (1, name))',
    'expect {\n  "yes/no" { send "yes\\r"; exp_continue }\n  "login:" { send "alice\\r" }\n}',
    'expect {\n  "password:" { send "$env(PASSWORD)\\r" }\n}',
    "yes | head -2 | passwd alice",
]


@pytest.mark.parametrize("text", LEAKED)
def test_a_password_of_the_twenty_seventh_attack_is_redacted(text: str) -> None:
    assert_hidden(text, PW)


@pytest.mark.parametrize("text", KEPT)
def test_the_same_forms_without_a_password_are_kept(text: str) -> None:
    assert redacted(text) == text
