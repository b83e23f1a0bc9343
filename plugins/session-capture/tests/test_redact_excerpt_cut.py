"""Finding 1: the 500-character excerpt of a successful tool result is cut before redaction,
so a secret straddling the cut loses its tail, no rule matches the rest, and the prefix
(all but the last character or two) reaches raw.jsonl, the prompt and the pushed files."""

from __future__ import annotations

import base64

import pytest

from ox_session_capture.adapters.base import OUTPUT_EXCERPT
from ox_session_capture.testing.bash_sessions import captured_result

GH = "ghp_" + "pBFNP7Irv1FwTFGf3LGhycC4BOj2NhiYSnuG"  # 36 chars after ghp_
PG = "postgres://app:yLpo3nOpNPuDW5@db:5432/app"
BASIC = base64.b64encode(b"admin:CorrectHorseBatteryStaple").decode()


def _straddling(line: str, secret: str, missing: int) -> str:
    """A `.env`-like output where `secret` ends `missing` characters past the excerpt's cut."""
    start = OUTPUT_EXCERPT - (len(secret) - missing)
    pad = "# settings\n" * 60
    head = pad[: start - line.index(secret) - 1] + "\n"
    return head + line + "\nLOG_LEVEL=info\n" + "DEBUG=false\n" * 40


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f"[ci] pushing with {GH} as bot", GH),
        (f"DATABASE_URL={PG}", "yLpo3nOpNPuDW5"),
        (f"curl -H 'Authorization: Basic {BASIC}' https://ci", BASIC),
    ],
    ids=["github-token", "url-password", "basic-auth"],
)
@pytest.mark.parametrize("missing", [1, 3])
def test_a_secret_cut_by_the_excerpt_leaves_no_usable_prefix(
    line: str, secret: str, missing: int
) -> None:
    output = _straddling(line, secret, missing)
    assert secret in output
    stored, uploaded = captured_result("cat .env", output)
    prefix = secret[: len(secret) - missing]
    assert prefix not in stored, stored[-200:]
    assert prefix.encode() not in uploaded
