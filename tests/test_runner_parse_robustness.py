"""`parse` raising on odd-but-valid JSON from the CLI (its contract: never raise;
CliRunner.run turns the exception into "could not read the output", losing the quota or the
answer the output held)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ox_core import RunRequest
from ox_core.testing_runners import fake_cli as fake_cli
from ox_runner_claude import ClaudeRunner
from ox_runner_claude.runner import AUTH_ENV as CLAUDE_AUTH
from ox_runner_gemini import GeminiRunner
from ox_runner_gemini.runner import AUTH_ENV as GEMINI_AUTH


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in (*CLAUDE_AUTH, *GEMINI_AUTH, "CLAUDECODE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.mark.parametrize("delay", ["1e300", "Infinity", "1e15"])
async def test_claude_429_retries_with_an_absurd_delay_are_still_a_quota(
    fake_cli: Any, delay: str
) -> None:
    # Python's json reads `Infinity`; 1e15 ms is 31,000 years, past datetime.max.
    retry = (
        '{"type":"system","subtype":"api_retry","attempt":1,"max_retries":10,'
        f'"retry_delay_ms":{delay},"error_status":429,"error":"rate_limit"}}\n'
    )
    fake = fake_cli("claude", stdout=retry * 3, exit_code=1)
    result = await ClaudeRunner(binary=fake.path).run(RunRequest("x"))
    assert not result.ok
    assert "could not read the output" not in result.error, result.error
    assert result.quota is not None  # the manager pauses instead of retrying into the limit


@pytest.mark.parametrize("models", [["gemini-2.5-pro"], "gemini-2.5-pro", 7])
async def test_gemini_json_format_with_odd_stats_keeps_the_answer(
    fake_cli: Any, models: object
) -> None:
    answer = {"session_id": "s", "response": "the answer", "stats": {"models": models}}
    help_ = fake_cli.Reply(stdout="--prompt --output-format stream-json")
    cli = fake_cli("gemini", stdout=json.dumps(answer, indent=2) + "\n", replies={"--help": help_})
    result = await GeminiRunner(binary=cli.path).run(RunRequest("x"))
    assert result.ok, result.error
    assert result.output == "the answer"


@pytest.mark.parametrize(
    "message",
    [
        "You've hit your usage limit. Try again in 99999999999 days.",
        "429 Too Many Requests: retry in 99999999999999999999 hours",
        "429 Too Many Requests: retry in 1" + "0" * 400 + " s",
        "429 Too Many Requests: try again in " + "9" * 5000 + " minutes",
    ],
)
async def test_codex_quota_with_an_absurd_delay_is_still_a_quota(
    fake_cli: Any, message: str
) -> None:
    # The API's error text, passed on by codex: ox_core.quota.parse_reset overflows on it.
    from ox_runner_codex import CodexRunner

    help_ = "Usage: codex exec\n  --json\n  --skip-git-repo-check\n  -c, --config <key=value>\n"

    events = [
        {"type": "turn.started"},
        {"type": "error", "message": message},
        {"type": "turn.failed", "error": {"message": message}},
    ]
    stdout = "".join(json.dumps(e) + "\n" for e in events)
    cli = fake_cli(
        "codex", stdout=stdout, exit_code=1, replies={"exec --help": fake_cli.Reply(stdout=help_)}
    )
    result = await CodexRunner(binary=cli.path).run(RunRequest("x"))
    assert not result.ok
    assert "could not read the output" not in result.error, result.error
    assert result.quota is not None
