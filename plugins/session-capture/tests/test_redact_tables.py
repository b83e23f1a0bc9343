"""Credentials in tables (`redact.tables`): a column named for one under a header, or a row
naming one in its first cell. Each of these reached the ledger whole before (7 of 7 shapes
tried leaked: no `name = value` stands beside such a value); tables of docs, help texts and
prose with wide spaces keep every word."""

from __future__ import annotations

import json

import pytest

from ox_session_capture.redact import redact_text
from ox_session_capture.testing.redacted import redacted

PW = "Tq8vLm2xWp4z"
PW2 = "Qw3rTy9zXc!"
TOKEN = "ghx9Kq2LmZ8vT4wR7yP1aa"

TABLES = {
    "Markdown": f"| user | password |\n|---|---|\n| bob | {PW} |\n| amy | {PW2} |",
    "psql": f" usename | passwd\n---------+--------\n app     | {PW}\n ro      | {PW2}\n(2 rows)",
    "mysql": (
        "+------+----------+\n| user | password |\n+------+----------+\n"
        f"| bob  | {PW} |\n| amy  | {PW2}  |\n+------+----------+"
    ),
    "CSV": f"id,username,password,created\n1,bob,{PW},2024-01-01\n2,amy,{PW2},2024-02-01",
    "TSV": f"user\tpassword\nbob\t{PW}\namy\t{PW2}",
    "aligned columns": f"NAME   API_TOKEN                 SCOPE\nci     {TOKEN}    repo\n",
    "wp config list": (
        f"| name | value | type |\n| DB_NAME | wordpress | constant |\n"
        f"| DB_PASSWORD | {PW} | constant |\n| AUTH_KEY | {PW2}abc | constant |"
    ),
    "vault kv get": f"====== Data ======\nKey         Value\n---         -----\npassword    {PW}\n",
    "pulumi stack output": f"    OUTPUT      VALUE\n    dbPassword  {PW}\n    apiToken    {TOKEN}",
}


@pytest.mark.parametrize("text", TABLES.values(), ids=TABLES.keys())
def test_a_credential_in_a_table_is_redacted(text: str) -> None:
    for where, variant in {
        "as printed": text,
        "in a JSON string": json.dumps({"output": text}),
        "after a prompt": "here is what it printed:\n" + text + "\n\nwhat now?",
    }.items():
        out = redacted(variant)
        for secret in (PW, PW2, TOKEN):
            assert secret not in out, (where, out)
        assert "[REDACTED_" in out, where


def test_only_the_credential_cells_are_replaced() -> None:
    out = redact_text(TABLES["CSV"])
    assert out == (
        "id,username,password,created\n1,bob,[REDACTED_PASSWORD],2024-01-01\n"
        "2,amy,[REDACTED_PASSWORD],2024-02-01"
    )


@pytest.mark.parametrize(
    "text",
    [
        "| name | type | description |\n|---|---|---|\n| password | string | The user's password |",
        "| Option | Default |\n|---|---|\n| token | none |\n| api_key | (unset) |",
        "password  is required",
        "Set the password.  Then run it again.",
        "  -p, --password TEXT   MySQL password\n  -u, --user TEXT       MySQL user",
        "id,email,password_hash\n1,a@x.io,$PLACEHOLDER",
        "user,password\nbob,********\namy,(sensitive)",
        "KEY          VALUE\npassword     hunter\n",
        "Token        Expires\nci-bot       2026-12-31\n",
        "--- PASS: TestPassword (0.00s)\n--- PASS: TestToken (0.01s)",
        "secret,count\nfoo,3\nbar,4",
    ],
)
def test_tables_without_a_credential_keep_every_word(text: str) -> None:
    assert redacted(text) == text


def test_long_and_hostile_tables_are_read_in_linear_time() -> None:
    # Every line names a credential: each is read once (its line's start is found nearby).
    for text in (
        "a password\n" * 50_000,
        "password, " * 100_000,
        f"| password | {PW} |\n" * 30_000,
        "user,password\n" + f"bob,{PW}\n" * 30_000,
    ):
        out = redact_text(text)
        assert PW not in out[:200_000]
