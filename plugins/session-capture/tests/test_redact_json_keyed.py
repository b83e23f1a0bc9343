"""Finding 2: in decoded JSON, a value under a credential key is judged alone, so what the
same text redacts written as `Key: value` leaks when it is a JSON member: an
`Authorization` header with its scheme (`"Authorization": "Token …"`, HAR / Postman
`{"name": "Authorization", "value": "Bearer …"}`) and a password that is a JSON number."""

from __future__ import annotations

import json

import pytest

from ox_session_capture.adapters.claude_code import ClaudeCodeAdapter
from ox_session_capture.raw_lines import entry_lines, redact_fields
from ox_session_capture.redact import make_redactor, redact_file_bytes, redact_text

TOKEN = "9f8e7d6c5b4a39281706f5e4d3c2b1a0c0ffee42"  # a 40-hex API token (DRF, Gitea…)
SHORT = "Zq8xWv3kLm9T"  # a bearer token that is not 16+ random characters


@pytest.mark.parametrize(
    ("value", "secret"),
    [
        ({"headers": {"Authorization": f"Token {TOKEN}"}}, TOKEN),
        ({"headers": {"Authorization": f"ApiKey {TOKEN}"}}, TOKEN),
        ({"headers": {"Authorization": f"Bearer {SHORT}"}}, SHORT),
        ({"headers": [{"name": "Authorization", "value": f"Token {TOKEN}"}]}, TOKEN),  # HAR
        ({"header": [{"key": "Authorization", "value": f"Bearer {SHORT}"}]}, SHORT),  # Postman
        ({"db": {"user": "app", "password": 84736291}}, "84736291"),
        ({"smtp": {"passcode": 52719384}}, "52719384"),
    ],
    ids=["token", "apikey", "short-bearer", "har", "postman", "int-password", "int-passcode"],
)
def test_a_json_member_loses_what_its_text_form_loses(value: object, secret: str) -> None:
    document = json.dumps(value)
    # The same member as text is redacted:
    if secret not in ("84736291", "52719384"):  # a header value, not a number
        text = f"Authorization: {next(v for v in _strings(value) if secret in v)}"
        assert secret not in redact_text(text)
    else:
        assert secret not in redact_text(document[1:])  # `… "password": 84736291}`
    # As JSON (a tool input, a Write of a config file, a printed HAR) it is not:
    assert secret not in redact_text(document)
    write = json.dumps({"file_path": "req.json", "content": json.dumps(value, indent=2)})
    assert secret not in redact_text(write)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_an_mcp_http_call_reaches_raw_jsonl_and_the_upload_with_its_token() -> None:
    adapter = ClaudeCodeAdapter()
    line = {"type": "assistant", "uuid": "a1", "timestamp": "2026-01-01T00:00:00Z",
            "message": {"role": "assistant", "model": "m", "content": [
                {"type": "tool_use", "id": "t1", "name": "mcp__http__request",
                 "input": {"url": "https://git.acme.io/api/v1/repos",
                           "headers": {"Authorization": f"token {TOKEN}"}}}]}}  # fmt: skip
    entries = adapter.parse_fields(json.dumps(line).encode())
    redact_fields(entries, make_redactor(None))
    raw = entry_lines(entries)
    assert TOKEN.encode() not in raw
    assert TOKEN.encode() not in redact_file_bytes("raw.jsonl", raw)


TF_PW = "Tq7#mZ2vLx9Wp4rN"


@pytest.mark.parametrize(
    "value",
    [
        # `terraform output -json`: the output's name is the key of an object with a value.
        {"db_password": {"sensitive": True, "type": "string", "value": TF_PW}},
        {"outputs": {"admin_pw": {"value": TF_PW, "type": "string", "sensitive": True}}},
        # `op item get --format json` (1Password): a field's name is its `label`.
        {"fields": [{"id": "h3k9", "type": "CONCEALED", "label": "password", "value": TF_PW}]},
        # A pair whose first name is no credential's, under a credential key.
        {"db_password": {"name": "primary", "value": TF_PW}},
        # `aws ssm get-parameter --with-decryption`, an ECS task's environment: `Name`/`Value`.
        {"Parameter": {"Name": "/prod/db/password", "Type": "SecureString", "Value": TF_PW}},
        {"Environment": [{"Name": "API_TOKEN", "Value": TF_PW}]},
        {"Variables": [{"KEY": "DB_PASSWORD", "VALUE": TF_PW}]},
        # `az storage account keys list`: a list printed bare, each key named by `keyName`.
        [
            {
                "creationTime": "2026-01-01T00:00:00+00:00",
                "keyName": "key1",
                "permissions": "FULL",
                "value": TF_PW,
            }
        ],
    ],
    ids=[
        "terraform-output",
        "terraform-state",
        "1password",
        "named-under-key",
        "aws-ssm",
        "ecs-env",
        "capitals",
        "azure-storage-keys",
    ],
)
def test_a_value_named_by_the_object_around_it_is_redacted(value: object) -> None:
    document = json.dumps(value, indent=2)
    assert TF_PW not in redact_text(document)
    assert TF_PW not in redact_file_bytes("meta.json", document.encode()).decode()


def test_an_object_under_a_credential_key_keeps_what_is_no_secret() -> None:
    value = {"db_host": {"sensitive": False, "value": "db.internal"},
             "credentials": {"type": "basic", "value": "enabled"},
             "fields": [{"label": "username", "value": "app-user"}]}  # fmt: skip
    document = json.dumps(value)
    assert redact_text(document) == document


@pytest.mark.parametrize(
    "value",
    [
        # `terraform output -json` of a sensitive list: the output's name is the key above.
        {"db_passwords": {"sensitive": True, "type": ["list", "string"], "value": [TF_PW]}},
        {"replica_passwords": {"sensitive": True, "value": [TF_PW, "Wd8!kR3nQz5Ym2Jp"]}},
        # A list straight under a credential key, and a pair naming a list.
        {"db_password": [TF_PW]},
        {"env": [{"name": "DB_PASSWORDS", "value": [TF_PW]}]},
    ],
    ids=["terraform-list", "terraform-list-argv", "list-under-key", "pair-names-a-list"],
)
def test_a_list_under_a_credential_name_loses_its_secrets(value: object) -> None:
    document = json.dumps(value, indent=2)
    assert TF_PW not in redact_text(document)
    assert TF_PW not in redact_file_bytes("meta.json", document.encode()).decode()
    assert redact_text(redact_text(document)) == redact_text(document)


def test_a_list_under_a_credential_key_keeps_what_is_no_secret() -> None:
    value = {"db_password": {"sensitive": True, "value": []},
             "credentials": ["~/.aws/credentials", "~/.netrc"],
             "fields": [{"label": "username", "value": ["app-user"]}]}  # fmt: skip
    document = json.dumps(value)
    assert redact_text(document) == document
