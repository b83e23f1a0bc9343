"""End to end: secrets written in hex or URL-encoded (`xxd -p` of a token, a server log whose
redirect carries a token in an encoded query, a form body, a database URL typed into a web
console, a `.env` dumped by `xxd` and `hexdump -C`) reach neither the team's remote nor the
summarizer's prompt; text around them does.

A claude-code session's Bash calls print each, and the agent quotes one encoded in its answer;
the test reads every object of the bare remote and every prompt the fake summarizer received.
"""

from __future__ import annotations

import textwrap
import urllib.parse
from typing import TYPE_CHECKING

from ox_session_capture.testing.bash_sessions import bash_session, published
from ox_session_capture.testing.dumps import hexdump_c, xxd

if TYPE_CHECKING:
    from conftest import OxWorld

TOKEN = "ghp_" + "Rk4mW9xQ2vL7pT3nB8cY5hJ1sF6dZ0gA2eK7"
PASSWORD = "Vq8rTm2LxZp4Ws"
CLIENT_SECRET = "Kc2vNp7RxTb5Hs3kPw9Q"
DB_PASSWORD = "Wm4hQz8LsDf3Pz9t"
SIGNING_KEY = "Zr8pQm3VtX6nLw2K"
ENV = f"\ufeffAPP_ENV=production\r\nDB_PASSWORD={DB_PASSWORD}\r\nLOG_LEVEL=info\r\n".encode()


def _quote(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def _xxd_p(text: str) -> str:
    return "\n".join(textwrap.wrap(text.encode().hex(), 60))


def _escapes(text: str) -> str:
    return "".join(f"\\x{b:02x}" for b in text.encode())


CALLS = [
    ("xxd -p build/payload.bin", _xxd_p(TOKEN)),
    (
        "tail -n 1 /var/log/nginx/access.log",
        '10.0.0.7 - - "GET /login?next=' + _quote(f"https://app.example.com/cb?token={TOKEN}")
        + ' HTTP/1.1" 302',
    ),
    ("cat request-body.txt", "grant_type=client_credentials&"
     + _quote(f"client_secret={CLIENT_SECRET}") + "&scope=all"),
    ("grep DATABASE_URL audit.log", "set DATABASE_URL="
     + _quote(f"postgres://app:{PASSWORD}@db.internal:5432/app")),
    # Why does the app not read its .env? A dump shows the BOM and the CRLFs, and the file.
    ("xxd .env", xxd(ENV)),
    ("hexdump -C .env", hexdump_c(ENV)),
    ("ls", "README.md  pyproject.toml  src  tests"),
    # A Python one-liner prints a file's bytes as a bytes literal: `\x` escapes.
    ("python3 -c 'print(open(\"conf.bin\", \"rb\").read())'",
     "b'" + _escapes(f"SIGNING_KEY={SIGNING_KEY}\n") + "'"),
]  # fmt: skip
SECRETS = [TOKEN, PASSWORD, CLIENT_SECRET, DB_PASSWORD, SIGNING_KEY]


def _forms(secret: str) -> list[str]:
    """The secret, URL-encoded, its hex in pieces, the halves of it a dump's text column
    shows on two lines, and its `\\x` escapes in two pieces. Each hex piece is 24 digits:
    a piece of 4 (the tail of a 14-byte password's 28) turned up in a commit's hash or a
    timestamp of the remote one run in two."""
    digits = secret.encode().hex()
    escaped = _escapes(secret)
    halves = [escaped[:32], escaped[32:]]
    return [secret, _quote(secret), digits[:24], digits[-24:], secret[:7], secret[-7:], *halves]


def test_hex_and_url_encoded_secrets_are_never_published(world: OxWorld, pid_holder: int) -> None:
    closing = "The callback was " + _quote(f"https://ci.example.com/?password={PASSWORD}") + "."
    lines = bash_session(
        "why does the login redirect fail?", [(c, out, False) for c, out in CALLS], closing
    )
    daemon = world.serve()
    source = world.home / ".claude/projects/-home-dev-demo/5e1f0a2b-encoded.jsonl"
    blobs, prompts = published(world, daemon, source, pid_holder, lines)
    for where in (blobs, prompts):
        assert [f for s in SECRETS for f in _forms(s) if f in where] == []
        assert "[REDACTED_HEX_GITHUB_TOKEN]" in where
        assert "README.md  pyproject.toml  src  tests" in where  # another call's output is kept
        assert "grant_type=client_credentials&" in where  # the text around a secret is kept
        assert "xxd -p" in where
