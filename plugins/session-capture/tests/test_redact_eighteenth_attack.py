"""The shapes of the eighteenth attack on redaction: passwords set in a database's or a tool's
own words (each leaked before its rule): MongoDB's `db.changeUserPassword`, MySQL's `SET
PASSWORD FOR … = '…'`, Redis' `ACL SETUSER … >password`, a digest of a literal given to a
password's name (`SET password_digest = md5('…')`), a password typed twice into a command
that sets one (`printf 'pw\\npw' | vncpasswd`, `(echo pw; echo pw) | smbpasswd -s`, `yes pw |
passwd`, `passwd bob <<< $'pw\\npw'`: both copies go), and readers of a password on their
input not read before (`sudo --stdin`, `| sudo chpasswd`, `printf '%s' pw | oras login
--password-stdin`, `gh auth login --with-token`, `openssl … -pass stdin`). And the same
forms holding no literal password (kept)."""

from __future__ import annotations

import pytest

from ox_session_capture.testing.redacted import assert_hidden, redacted

PW = "Tr0ub4dor3xyz"

LEAKED = [
    (f'db.changeUserPassword("app", "{PW}")', PW),
    (f"SET PASSWORD FOR 'app'@'%' = '{PW}';", PW),
    (f"set password = '{PW}'", PW),
    (f"ACL SETUSER alice on >{PW} ~* +@all", PW),
    (f"redis-cli ACL SETUSER bob on '>{PW}' '~cache:*' '+get'", PW),
    (f"UPDATE users SET password_digest = md5('{PW}') WHERE id = 1;", PW),
    (f"UPDATE users SET password_hash = encode(digest('{PW}', 'sha256'), 'hex');", PW),
    (f"$password = sha1('{PW}');", PW),
    (f"printf '{PW}\\n{PW}\\n\\n' | vncpasswd", PW),
    (f'echo -e "{PW}\\n{PW}" | passwd bob', PW),
    (f"(echo '{PW}'; echo '{PW}') | smbpasswd -a -s bob", PW),
    (f"yes '{PW}' | sudo passwd bob", PW),
    (f"passwd bob <<< $'{PW}\\n{PW}'", PW),
    (f'echo "{PW}" | sudo --stdin systemctl restart nginx', PW),
    (f'echo "deploy:{PW}" | sudo chpasswd', PW),
    (f"printf '%s' '{PW}' | oras login reg.io -u bob --password-stdin", PW),
    (f"echo '{PW}' | openssl enc -aes-256-cbc -pass stdin -in a -out b", PW),
    (f'echo "{PW}" | gh auth login --with-token', PW),
]

KEPT = [
    'db.changeUserPassword("app", passwordPrompt())',
    "SET PASSWORD FOR 'app'@'%' = PASSWORD(@pw);",
    "ACL SETUSER default on nopass ~* &* +@all",
    "ACL SETUSER alice on #a8cb4a7a0ac4b4b17b3fdf6d1fc0f31bb0a9a7fd4a1b88e3d02e2c18b0bd6a4f ~*",
    "$hash = md5($password);",
    "checksum = md5('hello world')",
    "etag = md5('static/app.css')",
    "password_reset_key = sha1('user@example.com')",
    "password_hash = hashlib.sha256(password.encode()).hexdigest()",
    "printf 'line\\nline\\n' | uniq -c",
    "printf 'y\\ny\\n' | passwd bob",
    'echo -e "a\\nb" | passwd --stdin bob',
    '(echo "$PW"; echo "$PW") | smbpasswd -s -a bob',
    "yes | passwd bob",
    "echo $PW | sudo -S ls",
    "passwd bob <<< $'$PW\\n$PW'",
]


@pytest.mark.parametrize(("text", "secret"), LEAKED)
def test_a_password_of_the_eighteenth_attack_is_redacted(text: str, secret: str) -> None:
    assert_hidden(text, secret)


@pytest.mark.parametrize("text", KEPT)
def test_the_same_forms_without_a_literal_are_kept(text: str) -> None:
    assert redacted(text) == text
