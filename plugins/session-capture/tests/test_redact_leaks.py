"""Secrets that built-in rules left in clear, each shown in plain text, inside a JSON string,
in escaped text that no longer parses as JSON, and as an argv list (`redact_value`).

Each case failed before its fix: an unclosed `<key ` before an XML password element, htpasswd
options with a value (`-C 10`) before the file, a Windows domain (`DOM\\user`) in smbclient's
`-U user%pw`, `$'…'` quoting, htpasswd `-n` (no file) and `-b` in a later option, a quoted
password with a space (`-p 'pass phrase'`, also as one argv item).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

import pytest

from ox_session_capture.redact import redact_text
from ox_session_capture.redact.engine import redact_value

SECRET = "Zq8xWv3kLm9"

COMMANDS = [
    f"htpasswd -cbB -C 10 /etc/nginx/.htpasswd alice {SECRET}",
    f"htpasswd -b -C 10 file alice {SECRET}",
    f"htpasswd -bB -r 5000 -C 12 file alice {SECRET}",
    f"htpasswd -bC 10 file alice {SECRET}",
    f"htpasswd -B -b file alice {SECRET}",
    f"htpasswd -nb alice {SECRET}",
    f"htpasswd -nbB -C 10 alice '{SECRET}'",
    f"htpasswd -b file alice $'{SECRET}'",
    f"rpcclient -U 'DOM\\\\user%{SECRET}' srv",
    f"rpcclient -U 'DOM\\user%{SECRET}' srv",
    f"rpcclient -U DOM\\\\user%{SECRET} srv",
    f'smbclient //srv/share -U "CORP\\\\nick%{SECRET}"',
    f"smbclient //srv/share --user=DOM\\\\user%{SECRET}",
    f"smbclient //srv/share -U $'DOM\\\\user%{SECRET}'",
    f"smbclient //srv/share -U alice%'{SECRET}'",
    f'smbclient //srv/share -U "DOM\\alice"%"{SECRET}"',
    f"mysql -u root -p$'{SECRET}'",
    f"sshpass -p $'{SECRET}' ssh deploy@host",
    f"ldapsearch -x -w $'{SECRET}'",
    f"redis-cli -a $'{SECRET}'",
    f"curl -u $'admin:{SECRET}' https://x",
    f"htpasswd -b file alice 'pass {SECRET}'",
    f"sshpass -p 'pass {SECRET}' ssh deploy@host",
    f'sqlcmd -S srv -U sa -P "pass {SECRET}"',
]
# As an argv item, `-ppass phrase` is not told from `-ppass` and a word `phrase` (left).
GLUED = [f'mysql -u root -p"pass {SECRET}" db']
XML = [
    f"<key <key <password>{SECRET}</password>",
    f"<key <password>{SECRET}</password>",
    f"<secretKey a='1' <password>{SECRET}</password>",
    f"<server><key <password>{SECRET}</password></server>",
]


def _variants(text: str) -> list[str]:
    escaped = json.dumps({"cmd": text})
    return [text, escaped, escaped[:-2], json.dumps([text, "x"])]


@pytest.mark.parametrize("text", COMMANDS + GLUED + XML)
def test_the_secret_is_redacted(text: str) -> None:
    for variant in _variants(text):
        assert SECRET not in redact_text(variant), variant


@pytest.mark.parametrize("text", COMMANDS)
def test_the_secret_is_redacted_in_an_argv_list(text: str) -> None:
    argv = shlex.split(text.replace("$'", "'"))  # as bash passes them (shlex lacks `$'…'`)
    out = redact_value(argv)
    assert not any(SECRET in item for item in out), out
    assert len(out) == len(argv)
    assert SECRET not in redact_text(json.dumps(argv))


@pytest.mark.parametrize(
    "text",
    [
        "htpasswd -cbB -C 10 file alice pw",  # what `-C 10` hid
        "htpasswd -b file alice",  # no password: the user stays
        "htpasswd -D file alice",  # no -b
        "htpasswd -c -C 10 file alice",
        "htpasswd -nB alice",
        "mysql -p$PASSWORD",
        "smbclient -U DOM\\user",
        "<key <key <name>alice</name>",
    ],
)
def test_only_the_password_is_redacted(text: str) -> None:
    out = redact_text(text)
    for word in ("alice", "file", "DOM\\user", "10"):
        assert text.count(word) == out.count(word)


def test_an_argv_item_with_a_space_is_one_argument() -> None:
    out = redact_value(["sshpass", "-p", "pass phrase", "ssh", "host"])
    assert out == ["sshpass", "-p", "[REDACTED_CLI_PASSWORD]", "ssh", "host"]
    # Quoting the items never takes the next argument as part of a password.
    out = redact_value(["sshpass -p", "Hunter2pw", "ssh"])
    assert out == ["sshpass -p", "[REDACTED_CLI_PASSWORD]", "ssh"]


def test_htpasswd_redacts_the_password_not_the_user() -> None:
    out = redact_text("htpasswd -cbB -C 10 file alice Hunter2pw")
    assert out == "htpasswd -cbB -C 10 file alice [REDACTED_CLI_PASSWORD]"
    assert redact_text("htpasswd -nb alice Hunter2pw") == (
        "htpasswd -nb alice [REDACTED_CLI_PASSWORD]"
    )


HOSTILE = {
    # Each `htpasswd` inside the options of the one before would read the same options again.
    "htpasswd inside htpasswd options": "htpasswd -b" + " -htpasswd -C 1" * 30_000,
    "a long htpasswd option ending with C": "htpasswd -" + "C" * 50_000 + "!",
    # Each `-U` would scan the same run of backslashes and user characters for its `%`.
    "smbclient-like flags with backslashes": "100% " + "-U.\\\\" * 100_000,
    "a run of backslashes after -U": "-U " + "\\" * 200_000 + "x",
    # Each unclosed `<key ` reads only up to the next `<`.
    "unclosed tags before a closed one": "<key " * 100_000 + "<password>Hunter2pw</password>",
    "unclosed tags with a closing bracket": "<key " * 100_000 + ">Hunter2pw</x>",
    # A quoted password runs to its closing quote, at most 300 characters from each start.
    "unclosed quoted passwords": "sshpass -p '" * 30_000 + "htpasswd -b f u '" * 30_000,
    "quoted mysql passwords": "mysql -p'" + "a" * 200 + " " + "mysql -p' " * 50_000,
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_text_is_redacted_in_linear_time(name: str) -> None:
    code = "import sys\nfrom ox_session_capture.redact import redact_text\n"
    code += "sys.stdout.write(redact_text(sys.stdin.read()))\n"
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=HOSTILE[name],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60.0,
        check=True,
    )
    assert "Hunter2pw</password>" not in done.stdout
