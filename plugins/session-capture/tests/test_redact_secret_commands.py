"""Commands whose output is a secret itself, and the hiding of that output in the files and
entries that are published (`redact.secret_commands`, `redact.files`)."""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ox_session_capture.records import RawEntry
from ox_session_capture.redact.files import redact_entries, redact_raw_bytes
from ox_session_capture.redact.secret_commands import (
    HIDDEN,
    MAX_CALLS,
    MAX_COMMAND,
    MAX_VALUES,
    SecretOutputs,
    command_of,
    prints_secret,
)

PRINTS = [
    "echo $DB_PASSWORD",
    'echo "${GITHUB_TOKEN}"',
    "echo -n $SLACK_BOT_TOKEN | pbcopy; echo done",
    'printf "%s\\n" "$API_KEY"',
    "printenv OPENAI_API_KEY",
    "cd app && echo $SECRET_KEY_BASE",
    "gh auth token",
    "gcloud auth print-access-token",
    "gcloud beta secrets versions access latest --secret=db-pass",
    "aws secretsmanager get-secret-value --secret-id prod/db --query SecretString --output text",
    "aws --region eu-west-1 ssm get-parameter --name /prod/db --with-decryption",
    "aws ecr get-login-password --region us-east-1",
    "aws configure get aws_secret_access_key",
    "az keyvault secret show --vault-name v --name db --query value -o tsv",
    "az account get-access-token",
    "vault kv get -field=password secret/db",
    "op read op://vault/db/password",
    "op item get Stripe --fields credential --reveal",
    "pass show email/work",
    "gopass show -o infra/db",
    "bw get password github.com",
    "lpass show --password db",
    "chamber read -q app db_password",
    "chamber export app",
    "secret-tool lookup service db",
    "security find-generic-password -s svc -w",
    "security find-internet-password -s github.com -g",
    "doppler secrets get DB_URL --plain",
    "heroku config:get DATABASE_URL",
    "sops -d secrets.enc.yaml",
    "ansible-vault view group_vars/all/vault.yml",
    "kubectl get secret db -o jsonpath='{.data.password}' | base64 -d",
    "kubectl get secrets db -o go-template='{{.data.token}}'",
    "kubectl get secret db -n prod -o json | jq -c .",
    "openssl rand -hex 32",
    "gpg --decrypt creds.gpg",
    "terraform output -raw db_password",
    "python -c 'import os; print(os.environ[\"DB_PASSWORD\"])'",
    'node -e "console.log(process.env.API_TOKEN)"',
    "ruby -e 'puts ENV[\"AWS_SECRET_ACCESS_KEY\"]'",
    "cat /run/secrets/db_password",
    "cat ~/.config/app/api_token",
    "head -c 100 secrets/db_password.txt",
    "cat ~/.ssh/id_ed25519",
    "cat certs/server.key",
    # Found printing a bare secret unhidden (a fourth attack): flags before `get`, a path
    # before the command, and the commands that make a key or a password and print it.
    'kubectl -n argocd get secret argocd-initial-admin-secret -o jsonpath="{.data.password}"'
    " | base64 -d",
    "docker exec -it es bin/elasticsearch-reset-password -u elastic",
    "./bin/rails secret",
    "argocd admin initial-password -n argocd",
    "vault operator init -key-shares=1 -key-threshold=1",
    "consul acl bootstrap",
    "nomad acl token create -name ci -type management",
    "kubectl -n kube-system create token admin-user",
    "wg genkey | tee privatekey",
    "wg genpsk",
    "age-keygen",
    "mix phx.gen.secret",
    "xkcdpass -n 6",
    "gpg --gen-random --armor 1 32",
    "head -c 32 /dev/urandom | base64",
    "LC_ALL=C tr -dc 'A-Za-z0-9' < /dev/urandom | head -c 24; echo",
    "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'",
    "node -e \"console.log(require('crypto').randomBytes(32).toString('hex'))\"",
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'",
    "python manage.py shell -c 'from django.core.management.utils import get_random_secret_key;"
    " print(get_random_secret_key())'",
    "ruby -rsecurerandom -e 'puts SecureRandom.hex(32)'",
]
KEEPS = [
    "echo hello",
    "ls -la",
    "echo $HOME $PATH",
    "printenv PATH",
    "cat README.md",
    "cat src/secrets.py",
    "cat ~/.ssh/id_ed25519.pub",
    "cat /run/secrets/kubernetes.io/serviceaccount/ca.crt",
    "git status",
    "pytest -q tests/test_password.py",
    "grep -rn password src/",
    "echo $PASSWORD_FILE",
    "terraform output -raw bucket_name",
    "aws s3 ls",
    "aws ssm get-parameter --name /prod/region",
    "gh pr list",
    "kubectl get secrets",
    "passwd --help",
    "bypass show",
    "compass read",
    "tail -f /var/log/auth.log",
    'curl -s -H "Authorization: Bearer $GITHUB_TOKEN" https://api.github.com/user; echo',
    "python -c 'import os; key = os.environ[\"API_KEY\"]; print(len(key) > 0)'",
    "kubectl -n argocd get pods",
    "kubectl -n prod get secrets",
    "wg show wg0",
    "wg pubkey < privatekey",
    "rails server",
    "vault operator unseal",
    "consul members",
    "python -c 'import secrets; print(secrets.__file__)'",
    "docs/argocd admin guide.md",
    "",
]


@pytest.mark.parametrize("command", PRINTS)
def test_a_command_that_prints_a_secret_is_known(command: str) -> None:
    assert prints_secret(command)
    # As a tool's input: Claude Code's `{"command": ...}`, Codex's argv list.
    assert prints_secret(command_of(json.dumps({"command": command, "description": "x"})))
    assert prints_secret(command_of(json.dumps({"command": ["bash", "-lc", command]})))


@pytest.mark.parametrize("command", KEEPS)
def test_another_command_is_not(command: str) -> None:
    assert not prints_secret(command)
    assert not prints_secret(command_of(json.dumps({"command": command})))


def test_only_the_command_of_an_input_is_read() -> None:
    # A file written by the agent, a sub-agent's prompt, may mention any command: only a
    # command runs one.
    written = json.dumps({"file_path": "docs/ops.md", "content": "run `pass show db`"})
    assert command_of(written) == ""
    task = json.dumps({"prompt": "check that echo $DB_PASSWORD prints the password"})
    assert command_of(task) == ""
    edit = json.dumps({"command": "ls", "content": "pass show db"})
    assert command_of(edit) == "ls"
    assert not prints_secret(command_of(edit))
    # Codex: `local_shell_call`'s action, and a freeform tool's text.
    shell = json.dumps({"type": "exec", "action": {"command": ["bash", "-lc", "gh auth token"]}})
    assert prints_secret(command_of(shell))
    assert command_of("op read op://v/db/pw") == "op read op://v/db/pw"


def test_a_huge_input_is_read_only_up_to_its_limit() -> None:
    huge = "aws " * 500_000 + "secretsmanager get-secret-value"
    assert len(command_of(json.dumps({"command": huge}))) == MAX_COMMAND
    assert not prints_secret(huge)  # past the limit: a bounded scan, no n^2
    assert prints_secret("echo ${" * 100_000 + "$DB_PASSWORD") is False  # past it too
    assert prints_secret("echo $" + "A" * 200 + " $DB_PASSWORD")


def _call(call_id: str, command: str) -> dict[str, Any]:
    return {"type": "tool", "call_id": call_id, "tool_name": "Bash",
            "tool_input": json.dumps({"command": command})}  # fmt: skip


def _result(call_id: str, output: str) -> dict[str, Any]:
    return {"type": "tool", "call_id": call_id, "tool_name": "Bash", "tool_output": output}


def test_the_result_of_such_a_call_is_hidden_and_no_other() -> None:
    secrets = SecretOutputs()
    assert secrets.hide(_call("a", "pass show db")) is None  # a call has no output
    assert secrets.hide(_call("b", "ls")) is None
    assert secrets.hide(_result("b", "README.md")) is None
    assert secrets.hide(_result("a", "Xq7mR2vLp9KdT4wZ")) == _result("a", HIDDEN)
    assert secrets.hide(_result("a", "again")) is None  # answered once: forgotten
    both = {**_call("c", "op read op://v/db/pw"), "tool_output": "Xq7mR2vLp9KdT4wZ"}
    assert secrets.hide(both) == {**both, "tool_output": HIDDEN}


def test_the_calls_kept_are_bounded() -> None:
    secrets = SecretOutputs()
    for n in range(MAX_CALLS + 10):
        secrets.hide(_call(f"c{n}", "gh auth token"))
    assert secrets.hide(_result("c0", "gho_x")) is None  # the oldest forgotten
    assert secrets.hide(_result(f"c{MAX_CALLS + 9}", "gho_y")) is not None


COMMANDS = st.sampled_from(["pass show db", "echo $API_TOKEN", "ls", "git log", "make"])
EVENTS = st.lists(
    st.tuples(st.booleans(), st.sampled_from(["a", "b", "c", "d"]), COMMANDS), max_size=30
)


@given(EVENTS)
def test_an_output_is_hidden_iff_its_open_call_prints_a_secret(
    events: list[tuple[bool, str, str]],
) -> None:
    """Against a model: a result is hidden exactly when the last call of its id, not answered
    since, printed a secret; nothing but `tool_output` ever changes."""
    secrets = SecretOutputs()
    open_calls: dict[str, bool] = {}
    for is_call, call_id, command in events:
        if is_call:
            entry = _call(call_id, command)
            assert secrets.hide(entry) is None
            if prints_secret(command):
                open_calls[call_id] = True
            continue
        entry = _result(call_id, "output " + call_id)
        hidden = secrets.hide(entry)
        if open_calls.pop(call_id, False):
            assert hidden == {**entry, "tool_output": HIDDEN}
        else:
            assert hidden is None


def test_published_raw_lines_and_entries_hide_the_output() -> None:
    lines = [_call("a", "echo $DB_PASSWORD"), _result("a", "Xq7mR2vLp9KdT4wZ"),
             _call("b", "ls"), _result("b", "README.md")]  # fmt: skip
    raw = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    published = redact_raw_bytes(raw)
    assert b"Xq7mR2vLp9KdT4wZ" not in published
    assert HIDDEN.encode() in published
    assert b"README.md" in published
    assert published.splitlines()[2:] == raw.splitlines()[2:]  # the others byte for byte
    entries = [RawEntry.model_validate({**line, "ts": "2026-12-04T10:00:00+00:00"})
               for line in lines]  # fmt: skip
    outputs = [e.tool_output for e in redact_entries(entries, [])]
    assert outputs == [None, HIDDEN, None, "README.md"]


def test_a_printed_secret_is_hidden_wherever_it_shows_up_after() -> None:
    """The agent pastes what `op read` printed into its next command, and quotes it: no rule
    knows the word, but it was printed by a secret-printing command."""
    secret = "Xq7mR2vLp9KdT4wZ"
    secrets = SecretOutputs()
    assert secrets.hide(_call("a", "op read op://vault/api/key")) is None
    assert secrets.hide(_result("a", secret + "\n")) == _result("a", HIDDEN)
    used = _call("b", f'./smoke-test --key {secret} && echo "key {secret} ok"')
    hidden = secrets.hide(used)
    assert hidden is not None
    assert secret not in json.dumps(hidden)
    assert json.loads(hidden["tool_input"])["command"] == (
        f'./smoke-test --key {HIDDEN} && echo "key {HIDDEN} ok"'
    )
    said = {"type": "assistant", "content": f"The key {secret} works; the old one did not."}
    assert secrets.hide(said) == {**said, "content": said["content"].replace(secret, HIDDEN)}
    assert secrets.hide({"type": "assistant", "content": "unrelated"}) is None


@pytest.mark.parametrize("output", ["true", "database", "12345678", "ok done", "a1", ""])
def test_a_printed_word_of_one_kind_is_not_hidden_everywhere(output: str) -> None:
    # `true`, `database`, a number: hidden where printed, but hiding them in every later text
    # would blank the transcript.
    secrets = SecretOutputs()
    secrets.hide(_call("a", "printenv API_TOKEN"))
    secrets.hide(_result("a", output))
    later = {"type": "assistant", "content": f"the database says {output}: true"}
    assert secrets.hide(later) is None


def test_the_printed_secrets_kept_are_bounded() -> None:
    secrets = SecretOutputs()
    for n in range(MAX_VALUES + 20):
        secrets.hide(_call(f"c{n}", "gh auth token"))
        secrets.hide(_result(f"c{n}", f"gho_{n:06d}Zz"))
    assert len(secrets._printed) == MAX_VALUES
    assert "gho_000000Zz" not in secrets._printed  # the oldest forgotten
    assert len(secrets._values) <= 6 * MAX_VALUES


@pytest.mark.parametrize(
    ("form", "encode"),
    [
        ("URL-encoded", lambda s: urllib.parse.quote(s, safe="")),
        ("hex", lambda s: s.encode().hex()),
        ("hex, upper case", lambda s: s.encode().hex().upper()),
        ("base64", lambda s: base64.b64encode(s.encode()).decode()),
        (
            "base64, URL-safe, unpadded",
            lambda s: base64.urlsafe_b64encode(s.encode()).decode().rstrip("="),
        ),
    ],
)
def test_a_printed_secret_is_hidden_encoded_after(form: str, encode: Callable[[str], str]) -> None:
    """The agent encodes what `op read` printed for a URL, a manifest or a header: no rule
    reads the encoded word as a secret (a random password decodes to nothing a rule knows)."""
    secret = "Xq7m+R2v/Lp9Kd?T4wZ&"
    secrets = SecretOutputs()
    secrets.hide(_call("a", "op read op://vault/api/key"))
    secrets.hide(_result("a", secret))
    encoded = encode(secret)
    said = {"type": "assistant", "content": f"Set it as {encoded} in the manifest ({form})."}
    hidden = secrets.hide(said)
    assert hidden is not None
    assert encoded.rstrip("=") not in hidden["content"]
    assert HIDDEN in hidden["content"]
    assert hidden["content"].endswith(f" in the manifest ({form}).")
