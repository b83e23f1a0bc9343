"""End to end: a secret that a tool printed in a way that only changes how it is written, not
what it is, never reaches the team's remote or the summarizer's prompt.

Terminal color codes: a token printed bold (`ESC[1mghp_…ESC[0m`) follows the letter `m` of
the code, so no rule sees a word start there; `password` colored apart from its value (a
structured logger, `grep --color=always`, `jq -C`) is no assignment.

JSON escapes in output that is no JSON document (a log of JSON lines, `curl -i`): PHP writes
`mysql:\\/\\/app:pw@db`, Go `\\u003cpassword\\u003e`.

A claude-code session's Bash results (failed and successful ones) print each; the test reads
every object of the bare remote and every prompt the fake summarizer received.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from ox_session_capture.testing.bash_sessions import bash_session, published

if TYPE_CHECKING:
    from conftest import OxWorld

ESC = "\x1b"
GH = "ghp_" + "Qm7vT2kX9pL4sW8nB3cR6yH1jF5dZ0gA2eK4"
PW_LOG = "Vq8rTm2LxZp4"
PW_GREP = "Hs3kPw9QnYt7"
PW_JQ = "Jd5mRe8WbXc2"

COLORED = {
    "bold token": f"Logged in. Your token: {ESC}[1m{GH}{ESC}[0m\n",
    "structlog": f"2026-11-24 [info ] connect {ESC}[36mpassword{ESC}[0m={ESC}[35m{PW_LOG}{ESC}[0m",
    "grep --color": f"{ESC}[01;31m{ESC}[KDB_PASSWORD{ESC}[m{ESC}[K={PW_GREP}\n",
    "jq -C": f'{ESC}[1;39m{{\n  {ESC}[0m{ESC}[34;1m"password"{ESC}[0m{ESC}[1;39m:{ESC}[0m'
    f'{ESC}[0;32m"{PW_JQ}"{ESC}[0m\n{ESC}[1;39m}}{ESC}[0m',
}
COLORED_SECRETS = [GH, PW_LOG, PW_GREP, PW_JQ]
PW_PHP = "Ur4nKs7VpQe1"
PW_GO = "Bt6wLy3MzNa8"
ESCAPED = {
    "php log": '{"level":"info","db":"mysql:\\/\\/app:' + PW_PHP + '@db:3306\\/app"}\n'
    '{"level":"info","msg":"ready"}',
    "go xml": 'body: "\\u003cpassword\\u003e' + PW_GO + "\\u003c/password\\u003e",
}
ESCAPED_SECRETS = [PW_PHP, PW_GO]


def session_lines(outputs: list[str]) -> list[dict[str, Any]]:
    return bash_session(
        "check the service configuration please",
        [(f"./show-config {n}", output, n % 2 == 1) for n, output in enumerate(outputs)],
        "The configuration is loaded.",
    )


@pytest.mark.parametrize(
    ("outputs", "secrets"),
    [
        (list(COLORED.values()), COLORED_SECRETS),
        (list(ESCAPED.values()), ESCAPED_SECRETS),
    ],
    ids=["colors", "json-escapes"],
)
def test_a_colored_or_escaped_secret_reaches_neither_the_remote_nor_the_summarizer(
    world: OxWorld, pid_holder: int, outputs: list[str], secrets: list[str]
) -> None:
    daemon = world.serve()
    source = world.home / ".claude/projects/-home-dev-demo/5b0e7a1c-hidden.jsonl"
    blobs, prompts = published(world, daemon, source, pid_holder, session_lines(outputs))
    assert "[REDACTED_" in blobs  # the session is there, redacted
    assert "show-config" in prompts
    assert [s for s in secrets if s in blobs] == []
    assert [s for s in secrets if s in prompts] == []
