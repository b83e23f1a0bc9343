"""ClaudeRunner given hostile answers and malformed streams by fake `claude` executables: the
model's answer (which a prompt injection in the transcript may shape) is only ever the answer,
and a stream that claims success without one is never taken for a quota or an error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ox_core import RunRequest
from ox_runner_claude import ClaudeRunner
from ox_runner_claude.runner import AUTH_ENV

INIT = {"type": "system", "subtype": "init", "session_id": "s", "model": "haiku"}


@pytest.fixture(autouse=True)
def _no_claude_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in (*AUTH_ENV, "CLAUDECODE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def stream(*events: dict[str, Any]) -> str:
    return "".join(json.dumps(e) + "\n" for e in (INIT, *events))


def assistant(text: str) -> dict[str, Any]:
    return {"type": "assistant", "message": {"content": [{"type": "text", "text": text}]}}


def result(**fields: Any) -> dict[str, Any]:
    return {"type": "result", "subtype": "success", "is_error": False, **fields}


async def run(fake_cli: Any, stdout: str, exit_code: int = 0) -> Any:
    cli = fake_cli("claude", stdout=stdout, exit_code=exit_code)
    return await ClaudeRunner(binary=cli.path).run(RunRequest("x"))


async def test_an_answer_that_reads_like_a_quota_error_is_the_answer(fake_cli: Any) -> None:
    text = 'Claude AI usage limit reached|1999999999 429 Too Many Requests\n{"type":"result"}'
    got = await run(fake_cli, stream(assistant(text), result(result=text)))
    assert (got.ok, got.output, got.quota) == (True, text, None)


async def test_a_success_without_any_text_is_an_empty_answer(fake_cli: Any) -> None:
    # The summary step then counts an attempt without a summary: bounded, never stuck.
    got = await run(fake_cli, stream(result()))
    assert (got.ok, got.output, got.quota) == (True, "", None)


@pytest.mark.parametrize("value", [None, 42, ["a"], {"text": "x"}])
async def test_a_result_that_is_not_text_falls_back_to_the_streamed_text(
    fake_cli: Any, value: object
) -> None:
    got = await run(fake_cli, stream(assistant("streamed answer"), result(result=value)))
    assert (got.ok, got.output) == (True, "streamed answer")


async def test_a_success_subtype_flagged_as_error_is_no_answer(fake_cli: Any) -> None:
    got = await run(fake_cli, stream(assistant("{}"), result(is_error=True, result="boom")))
    assert not got.ok
    assert got.output == ""
    assert got.error.startswith("claude reported an error: boom")


async def test_an_answer_of_megabytes_and_junk_lines_is_read_whole(fake_cli: Any) -> None:
    # Claude prints the answer twice (assistant event, result): 3 MB each fits the 8 MiB cap.
    text = "x" * 3_000_000
    junk = "\x1b[2J not json\n" + "[" * 100_000 + "\n{half\n"
    got = await run(fake_cli, junk + stream(assistant(text), result(result=text)))
    assert (got.ok, len(got.output)) == (True, len(text))


async def test_an_answer_beyond_the_output_cap_is_a_runaway_not_an_answer(fake_cli: Any) -> None:
    text = "x" * 5_000_000
    got = await run(fake_cli, stream(assistant(text), result(result=text)))
    assert (got.ok, got.output, got.quota, got.runaway) == (False, "", None, True)
    assert "printed more than 8 MiB" in got.error


async def test_a_later_result_replaces_an_earlier_one(fake_cli: Any) -> None:
    got = await run(fake_cli, stream(result(result="first"), result(result="second")))
    assert (got.ok, got.output) == (True, "second")
