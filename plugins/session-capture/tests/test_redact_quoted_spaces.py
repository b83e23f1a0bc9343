"""A quoted password with spaces is redacted whole: every word of it, and nothing after its
closing quote.

The rules for smbclient's `-U user%pw`, openssl's `pass:pw`, `echo pw | sudo -S`, `config
set name pw`, `.netrc` and `curl -u user:pw` read a password up to the first space, so
`'pass phrase'` lost only `pass`, or nothing when the quote stood after the `%` or `:`. Each
shape is checked as written, inside a JSON tool input, in escaped text that no longer parses
(quotes become `\\"`), in JSON quoted inside a JSON string (`\\\\\\"`), and as an argv list.
An unquoted password with spaces cannot be told from the next arguments, and is left so.
"""

from __future__ import annotations

import json
import shlex

import pytest

from ox_session_capture.redact import redact_text
from ox_session_capture.redact.engine import redact_value

PHRASE = "Zq8xWv tulip Lm9 river"
WORDS = PHRASE.split()

# (text, words around the password that must survive)
CASES = [
    (f"smbclient //srv/share -U 'alice%{PHRASE}' -c 'get notes.txt'", "alice", "notes.txt"),
    (f'smbclient //srv/share -U "CORP\\\\alice%{PHRASE}" -c ls', "CORP", "alice", "-c ls"),
    (f'smbclient //srv/share --user="alice%{PHRASE}" -c ls', "alice", "-c ls"),
    (f"smbclient //srv/share -U alice%'{PHRASE}' -c 'get notes.txt'", "alice", "notes.txt"),
    (f"openssl pkcs12 -in a.p12 -passin 'pass:{PHRASE}' -out 'k e y.pem'", "k e y.pem"),
    (f'openssl rsa -in k.pem -passout "pass:{PHRASE}" -out o.pem', "-out o.pem"),
    (f"openssl rsa -in k.pem -passin pass:'{PHRASE}' -out o.pem", "-out o.pem"),
    (f'mysql -u root -p"{PHRASE}" shop', "root", "shop"),
    (f"mysql -u root -p'{PHRASE}' shop", "root", "shop"),
    (f'mysql -u root --password="{PHRASE}" shop', "root", "shop"),
    (f"echo '{PHRASE}' | sudo -S apt-get update", "sudo -S apt-get update"),
    (f'echo -n "{PHRASE}" | docker login -u bob --password-stdin', "bob", "--password-stdin"),
    (f'git config --global credential.password "{PHRASE}"', "credential.password"),
    (f"npm config set password '{PHRASE}' --location user", "password", "--location user"),
    (f'machine git.example.com login bob password "{PHRASE}"', "git.example.com", "bob"),
    (f"machine git.example.com\n  login bob\n  password '{PHRASE}'\n", "bob"),
    (f"curl -u 'alice:{PHRASE}' -H 'X-A: b c' https://api.example.com", "alice", "X-A: b c"),
    (f'curl --user "alice:{PHRASE}" https://api.example.com', "alice", "api.example.com"),
    (f"curl -u alice:'{PHRASE}' https://api.example.com", "alice", "api.example.com"),
    (f"htpasswd -b users alice '{PHRASE}'", "users", "alice"),
]
# Not argv: a glued `-p"…"` is one item (`-ppass phrase`, see test_redact_leaks.py); .netrc
# is a file.
NOT_ARGV = ('mysql -u root -p"', "mysql -u root -p'", "machine ")


def _variants(text: str) -> list[str]:
    tool_input = json.dumps({"command": text})
    nested = json.dumps({"content": tool_input})
    variants = [text, tool_input, tool_input[:-2], nested]
    # Escaped twice and unparseable, a newline is `\\n`: no rule reads it as a separator.
    return variants if "\n" in text else [*variants, nested[:-2]]


def _leaked(out: str) -> list[str]:
    return [word for word in WORDS if word in out]


@pytest.mark.parametrize(("text", "keep"), [(c[0], c[1:]) for c in CASES])
def test_every_word_of_a_quoted_password_is_redacted(text: str, keep: tuple[str, ...]) -> None:
    for variant in _variants(text):
        out = redact_text(variant)
        assert _leaked(out) == [], (variant, out)
        assert "[REDACTED_" in out
        for word in keep:
            assert word in out, (word, out)


@pytest.mark.parametrize(
    ("text", "keep"), [(c[0], c[1:]) for c in CASES if not c[0].startswith(NOT_ARGV)]
)
def test_every_word_of_a_password_argument_is_redacted(text: str, keep: tuple[str, ...]) -> None:
    argv = shlex.split(text)
    out = redact_value(argv)
    assert _leaked(" ".join(out)) == [], out
    assert len(out) == len(argv)
    assert all(word in " ".join(out) for word in keep), out
    assert _leaked(redact_text(json.dumps(argv))) == []


@pytest.mark.parametrize(
    "text",
    [
        "smbclient -L //srv -U 'guest%' -c 'ls docs'",  # an empty password: not the `-c`
        "smbclient -U 'alice' -c 'ls docs'",
        'echo "$SUDO_PASSWORD" | sudo -S apt-get update',  # a variable is kept
        "curl -u 'alice' -H 'X-A: b c' https://x",
    ],
)
def test_no_quoted_text_is_taken_for_a_missing_password(text: str) -> None:
    assert redact_text(text) == text


def test_an_unquoted_space_ends_the_password() -> None:
    # `-U alice%pass phrase` is `-U alice%pass` and an argument `phrase`: only quotes show
    # that a space belongs to the password.
    out = redact_text("smbclient //srv/share -U alice%Zq8xWv -c ls")
    assert out == "smbclient //srv/share -U alice%[REDACTED_CLI_PASSWORD] -c ls"
