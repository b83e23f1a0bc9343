"""A terminal's text in one text (`rules_terminal`): a prompt, a command that prints a secret,
then its output, as a user pastes it into a prompt or an answer quotes a session. Each of
these reached the ledger whole before (20 of 20 shapes tried leaked: a tool call's output is
hidden only when the call and its result are two entries); the same sessions with commands
that print no secret, headings, comments and quotes keep every word."""

from __future__ import annotations

import json

import pytest

from ox_session_capture.redact import redact_text
from ox_session_capture.testing.redacted import redacted

PW = "Tq8vLm2xWp4z"
HEX = "4f1c2a9b8e7d6c5b4a392817f6e5d4c3"

PRINTED = [
    f"$ pass show db/prod\n{PW}",
    f"$ pass show db/prod\n{PW}\nurl: db.internal\nuser: app",
    f"bob@web1:~/app$ op read op://Private/db/password\n{PW}",
    f"[root@db1 ~]# cat /run/secrets/db_password\n{PW}",
    f"root@db1:/# printenv POSTGRES_PASSWORD\n{PW}",
    f"PS C:\\repo> op read op://vault/db/password\n{PW}",
    f"(venv) bob@mac ~ % printenv API_TOKEN\n{PW}",
    f"bash-5.2# echo $DB_PASSWORD\n{PW}",
    f"➜  app git:(main) ✗ gh auth token\n{PW}",
    f"❯ bw get password github.com\n{PW}",
    f"```\n$ openssl rand -hex 16\n{HEX}\n```\nthen put it in .env",
    f"$ terraform output -raw db_password\n{PW}",
    f"$ heroku config:get SECRET_KEY_BASE\n{HEX}",
    f"$ security find-generic-password -s db -w\n{PW}",
    f"$ aws ecr get-login-password --region us-east-1\n{PW}",
    f"$ sudo cat /var/lib/jenkins/secrets/initialAdminPassword\n{HEX}",
    f"$ kubectl get secret db -o jsonpath='{{.data.password}}' | base64 -d\n{PW}",
    f"$ chamber read -q app db_password\n{PW}",
    f"$ echo -n $GITHUB_TOKEN | xxd -p\n{PW.encode().hex()}",
    f"I ran $ gcloud secrets versions access latest --secret=db\n{PW}\nbut it fails",
    f"$ aws secretsmanager get-secret-value --secret-id db --query SecretString \\\n"
    f"    --output text\n{PW}",
]


def test_a_prompt_after_text_that_ends_as_one_is_still_read() -> None:
    """`x> $ pass show …` (found by hypothesis): the `>` was read as a prompt and refused for
    the text before it, and its refused match took the line, the real `$` prompt with it."""
    for head in ("x>", "0>", "x#", "a%"):
        out = redact_text(f"{head} $ pass show db/prod\nJWanIr0qft5wgjISAn")
        assert "JWanIr0qft5wgjISAn" not in out, out


@pytest.mark.parametrize("text", PRINTED)
def test_the_output_of_a_secret_printing_command_is_hidden(text: str) -> None:
    for where, variant in {
        "as written": text,
        "in a JSON string": json.dumps({"prompt": text}),
        "in JSON cut short": json.dumps({"prompt": text})[:-2],
    }.items():
        out = redacted(variant)
        assert PW not in out, where
        assert HEX not in out, where
        assert PW.encode().hex() not in out, where
        assert "[REDACTED_SECRET_COMMAND_OUTPUT]" in out, where


def test_the_output_ends_at_a_blank_line_the_next_prompt_or_the_fence() -> None:
    text = (
        "```\n$ ls\nREADME.md\n$ pass show db\n"
        f"{PW}\nuser: app\n$ git status\nclean\n```\nThe second one printed it.\n"
        f"$ printenv DB_PASSWORD\n{PW}\n\nIs that the right one?"
    )
    assert redacted(text) == (
        "```\n$ ls\nREADME.md\n$ pass show db\n"
        "[REDACTED_SECRET_COMMAND_OUTPUT]\n$ git status\nclean\n```\nThe second one printed it.\n"
        "$ printenv DB_PASSWORD\n[REDACTED_SECRET_COMMAND_OUTPUT]\n\nIs that the right one?"
    )


@pytest.mark.parametrize(
    "text",
    [
        "# Title\nsome text\n## Section\nmore text",
        "x = 1  # echo $DB_PASSWORD to check it\ny = 2",
        "$ ls -la\ntotal 0\n$ git status\nnothing to commit",
        "> pass it on\n> they said so",
        "It costs $ 5 to print the password\nyes",
        "$ echo $PATH\n/usr/local/bin:/usr/bin",
        "$ cat README.md\n# ox\nA daemon.",
        "CI: 100% pass show the fix works\nthe rest of the report",
        "result = a > pass_show\nprint(result)",
        "$ pass show db/prod\n\nnothing was printed",
    ],
)
def test_sessions_that_print_no_secret_keep_every_word(text: str) -> None:
    assert redacted(text) == text


def test_a_hidden_output_is_hidden_once() -> None:
    once = redact_text(f"$ pass show db\n{PW}\nlogin: bob\npassword: {PW}")
    assert once == "$ pass show db\n[REDACTED_SECRET_COMMAND_OUTPUT]"
    assert redact_text(once) == once
