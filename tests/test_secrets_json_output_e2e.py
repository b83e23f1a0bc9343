"""End to end: a secret in JSON that a tool printed, where the JSON document hides it from a
reader that only looks at its decoded strings one by one, never reaches the team's remote or
the summarizer's prompt.

- A document that repeats a key (a hand-edited `settings.json`, a merged config): every JSON
  reader keeps the last value, but the text holds the first one too.
- `terraform output -json`: the name of a sensitive output is the key of an object whose
  `value` is the secret (`{"db_password": {"sensitive": true, "value": "…"}}`).
- `op item get --format json` (1Password): the field's name is its `label`.

A claude-code session's Bash results print each (and the user pastes one, with a token of the
team's own format from `.ox/redact.toml`); the test reads every object of the bare remote and
every prompt the fake summarizer received.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from ox_session_capture.testing.bash_sessions import bash_session, published

if TYPE_CHECKING:
    from conftest import OxWorld

GH = "ghp_" + "Wm3vT8kX2pL7sQ9nB4cR1yH6jF0dZ5gA3eK8"
ACME = "ACME-" + "58203917"
TF_PW = "Tq7#mZ2vLx9Wp4rN"
OP_PW = "Hk4$wQ8nRt2Yv6Lm"
# Written as the tools print them (a repeated key cannot be made with json.dumps).
SETTINGS = (
    '{\n  "github.token": "' + GH + '",\n  "editor.fontSize": 13,\n'
    '  "github.token": "${env:GITHUB_TOKEN}"\n}\n'
)
PASTED = '{"note": "' + ACME + '", "note": "see the wiki"}'
TERRAFORM = json.dumps(
    {
        "db_host": {"sensitive": False, "type": "string", "value": "db.internal"},
        "db_password": {"sensitive": True, "type": "string", "value": TF_PW},
    },
    indent=2,
)
ONEPASSWORD = json.dumps(
    {
        "id": "kq3pz7x2",
        "title": "Staging DB",
        "fields": [
            {"id": "username", "type": "STRING", "label": "username", "value": "app"},
            {"id": "h3k9", "type": "CONCEALED", "label": "password", "value": OP_PW},
        ],
    },
    indent=2,
)
REPEATED = {"cat .vscode/settings.json": SETTINGS}
NAMED = {
    "terraform output -json": TERRAFORM,
    "op item get 'Staging DB' --format json": ONEPASSWORD,
}


def session_lines(outputs: dict[str, str]) -> list[dict[str, Any]]:
    return bash_session(
        f"why does this not load? {PASTED}",
        [(command, output, False) for command, output in outputs.items()],
        "The staging settings are read.",
    )


@pytest.mark.parametrize(
    ("outputs", "secrets"),
    [(REPEATED, [GH, ACME]), (NAMED, [ACME, TF_PW, OP_PW])],
    ids=["repeated-key", "named-by-the-object"],
)
def test_a_secret_that_printed_json_hides_reaches_neither_the_remote_nor_the_summarizer(
    world: OxWorld, pid_holder: int, outputs: dict[str, str], secrets: list[str]
) -> None:
    rules = world.ledger / ".ox/redact.toml"
    rules.parent.mkdir(exist_ok=True)
    rules.write_text('patterns = ["ACME-[0-9]{8}"]\n')
    world.git(world.ledger, "add", ".ox/redact.toml")
    world.git(world.ledger, "commit", "-q", "-m", "the team's token format")
    daemon = world.serve()
    source = world.home / ".claude/projects/-home-dev-infra/7c1d9e2a-json.jsonl"
    blobs, prompts = published(world, daemon, source, pid_holder, session_lines(outputs))
    assert "why does this not load?" in blobs  # the session is there
    assert next(iter(outputs)) in prompts
    assert [s for s in secrets if s in blobs] == []
    assert [s for s in secrets if s in prompts] == []
