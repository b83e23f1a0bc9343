"""End to end: a command whose output *is* a secret (`echo $DB_PASSWORD`, `pass show`, `op
read`, `kubectl get secret … | base64 -d`) prints a bare random password that no rule can
tell from any other word. The output of such a call never reaches the team's remote or the
summarizer's prompt, nor does the same word where the agent uses or quotes it after (encoded
too); what other calls printed does.

A claude-code session's Bash calls print each; the test reads every object of the bare remote
and every prompt the fake summarizer received.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from ox_session_capture.redact.secret_commands import HIDDEN
from ox_session_capture.testing.bash_sessions import bash_session, published

if TYPE_CHECKING:
    from conftest import OxWorld

PRINTED = {
    'echo "$DB_PASSWORD"': "Vq8rTm2LxZp4-a",
    "printenv STRIPE_WEBHOOK_SECRET": "Hs3kPw9QnYt7-b",
    "pass show infra/postgres": "Jd5mRe8WbXc2-c",
    "op read op://Private/db/password": "Ur4nKs7VpQe1-d",
    "gcloud secrets versions access latest --secret=db-pass": "Bt6wLy3MzNa8-e",
    "kubectl get secret db -o jsonpath='{.data.password}' | base64 -d": "Kc2vNp7RxTb5-f",
    "security find-generic-password -s deploy -w": "Wm4hQz8LsDf3-g",
    "cat /run/secrets/db_password": "Pz9tGx3VnKr6-h",
    "python3 -c 'import os; print(os.environ[\"API_TOKEN\"])'": "Ly7cBm2XqWs4-i",
}
KEPT = "README.md  pyproject.toml  src  tests"


def test_the_output_of_a_command_that_prints_a_secret_is_never_published(
    world: OxWorld, pid_holder: int
) -> None:
    calls = [(command, output, False) for command, output in PRINTED.items()]
    calls.append(("ls", KEPT, False))
    # What was printed, used and quoted after: no rule knows these words.
    token = PRINTED["op read op://Private/db/password"]
    calls.append((f"./smoke-test --with {token}", "smoke test passed", False))
    # Encoded by the agent for a manifest: base64 of a random word, which no rule reads.
    webhook = base64.b64encode(PRINTED["printenv STRIPE_WEBHOOK_SECRET"].encode()).decode()
    closing = (
        f"The credentials work: {PRINTED['pass show infra/postgres']} opens the database. "
        f"The value {webhook} goes in the manifest."
    )
    lines = bash_session("check the database credentials", calls, closing)
    daemon = world.serve()
    source = world.home / ".claude/projects/-home-dev-demo/0c5d1f2e-printed.jsonl"
    blobs, prompts = published(world, daemon, source, pid_holder, lines)
    for where in (blobs, prompts):
        assert [s for s in [*PRINTED.values(), webhook.rstrip("=")] if s in where] == []
        assert HIDDEN in where
        assert KEPT in where  # another call's output is kept
        assert "pass show infra/postgres" in where  # the command itself is kept
        assert "smoke test passed" in where
