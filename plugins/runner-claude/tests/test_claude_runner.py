"""ClaudeRunner against fake `claude` executables: recorded real output, and misbehaviour."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trio

from ox_core import RunRequest
from ox_core.errors import ConfigError
from ox_runner_claude import ClaudeRunner
from ox_runner_claude.runner import AUTH_ENV, LOCKDOWN_ARGS


@pytest.fixture(autouse=True)
def _no_claude_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in (*AUTH_ENV, "CLAUDECODE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def runner(fake: Any, **options: object) -> ClaudeRunner:
    return ClaudeRunner(binary=fake.path, **options)


async def test_recorded_answer(fake_cli: Any) -> None:
    fake = fake_cli("claude", case="ok-stream-json")
    result = await runner(fake).run(RunRequest(prompt="say hi\n" + "p" * 200_000, model="opus"))
    assert result.ok
    assert result.output == "Hi! I am the fake LLM."
    assert (result.tokens_in, result.tokens_out) == (123, 45)
    assert result.duration > 0
    assert fake.stdin() == "say hi\n" + "p" * 200_000
    argv = fake.argv()
    assert argv[:5] == [
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--no-session-persistence",
    ]
    assert argv[5:] == ["--tools", "", *LOCKDOWN_ARGS, "--model", "opus"]
    assert LOCKDOWN_ARGS == ("--safe-mode", "--setting-sources", "user", "--strict-mcp-config")
    assert "--dangerously-skip-permissions" not in argv


@pytest.mark.parametrize(
    ("options", "request_model", "argv_model"),
    [
        ({}, None, ["--model", "haiku"]),  # the runner's own summary model
        ({"summary_model": "claude-haiku-9"}, None, ["--model", "claude-haiku-9"]),
        ({"summary_model": ""}, None, []),  # off: the CLI's default
        ({"model": "opus"}, None, ["--model", "opus"]),  # the user's model wins
        ({}, "sonnet", ["--model", "sonnet"]),  # and the request's
    ],
)
async def test_a_summary_uses_the_fast_model_unless_one_is_named(
    fake_cli: Any, options: dict[str, str], request_model: str | None, argv_model: list[str]
) -> None:
    fake = fake_cli("claude", case="ok-stream-json")
    request = RunRequest(prompt="summarise", model=request_model, prefer_fast=True)
    result = await runner(fake, **options).run(request)
    assert result.ok
    assert fake.argv()[5:] == ["--tools", "", *LOCKDOWN_ARGS, *argv_model]


async def test_other_work_keeps_the_default_model(fake_cli: Any) -> None:
    fake = fake_cli("claude", case="ok-stream-json")
    assert (await runner(fake).run(RunRequest(prompt="hi"))).ok
    assert "--model" not in fake.argv()


async def test_partial_messages_do_not_change_the_answer(fake_cli: Any) -> None:
    result = await runner(fake_cli("claude", case="ok-stream-json-partial")).run(RunRequest("x"))
    assert result.ok
    assert result.output == "Hi! I am the fake LLM."


async def test_child_env_is_cleaned(fake_cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUDECODE", "1")
    line = '{"type":"result","subtype":"success","is_error":false,"result":"R","usage":{}}'
    fake = fake_cli("claude", stdout=line + "\n")
    env_dump = fake.dir / "env"
    fake.path.write_text(
        fake.path.read_text().replace("#!/bin/sh\n", f"#!/bin/sh\nenv > {env_dump}\n", 1)
    )
    result = await runner(fake, env={"EXTRA_VAR": "x"}).run(RunRequest("x"))
    assert result.output == "R"
    env = env_dump.read_text().splitlines()
    assert "OX_SESSION_RECORDING=disabled" in env
    assert "EXTRA_VAR=x" in env
    assert not any(v.startswith("CLAUDECODE=") for v in env)


async def test_result_after_nonzero_exit_is_a_success(fake_cli: Any) -> None:
    line = (
        '{"type":"result","subtype":"success","is_error":false,"result":"fine",'
        '"usage":{"input_tokens":10,"cache_creation_input_tokens":5,'
        '"cache_read_input_tokens":2,"output_tokens":7}}'
    )
    result = await runner(fake_cli("claude", stdout=line + "\n", exit_code=1)).run(RunRequest("x"))
    assert result.ok
    assert (result.output, result.tokens_in, result.tokens_out) == ("fine", 17, 7)


async def test_overloaded_api_is_an_error_not_a_quota(fake_cli: Any) -> None:
    result = await runner(fake_cli("claude", case="fault-529")).run(RunRequest("x"))
    assert not result.ok
    assert result.quota is None
    assert result.error.startswith("claude reported an error: API Error: Repeated 529")
    assert "(API status 529)" in result.error


async def test_not_logged_in(fake_cli: Any) -> None:
    result = await runner(fake_cli("claude", case="loggedout-print")).run(RunRequest("x"))
    assert result.exit_code == 1
    assert "Not logged in" in result.error
    assert result.quota is None


async def test_missing_verbose_flag_error_shows_stderr(fake_cli: Any) -> None:
    result = await runner(fake_cli("claude", case="ok-stream-json-noverbose")).run(RunRequest("x"))
    assert result.exit_code == 1
    assert result.error == (
        "claude exited with status 1; stderr: Error: When using --print, "
        "--output-format=stream-json requires --verbose"
    )


async def test_api_retrying_on_429_until_timeout_is_a_quota(
    fake_cli: Any, wait_dead: Any, group_gone: Any
) -> None:
    fake = fake_cli("claude", case="fault-429", fork_child=True)
    start = time.monotonic()
    result = await runner(fake, grace=0.2).run(RunRequest("x", timeout_override=0.5))
    assert time.monotonic() - start < 30  # the timeout and grace end it, not the 60 s recording
    assert not result.ok
    assert "did not finish within 0.5 s" in result.error
    assert "failed 7 times (last status: 429)" in result.error
    assert result.quota is not None
    assert "429" in result.quota.message
    assert result.quota.reset_at is not None
    # claude's last api_retry said 35431 ms: that delay, raised to the one-minute minimum,
    # not the 1 h fallback (which is only for when nothing was said).
    now = datetime.now(UTC)
    assert now + timedelta(seconds=55) < result.quota.reset_at <= now + timedelta(minutes=1)
    assert result.quota.basis == "the retry delay claude reported (35431 ms)"
    assert await wait_dead(fake.child_pid())
    assert await group_gone(fake.pid())


async def test_401_retries_until_timeout_is_an_error_not_a_quota(fake_cli: Any) -> None:
    result = await runner(fake_cli("claude", case="fault-401"), grace=0.2).run(
        RunRequest("x", timeout_override=0.3)
    )
    assert "last status: 401" in result.error
    assert result.quota is None


async def test_stall_after_init_times_out(fake_cli: Any) -> None:
    result = await runner(fake_cli("claude", case="fault-stall"), grace=0.2).run(
        RunRequest("x", timeout_override=0.3)
    )
    assert result.error.startswith("claude did not finish within 0.3 s and was killed")
    assert result.output == ""


async def test_structured_rate_limit_event(fake_cli: Any) -> None:
    resets = int((datetime.now(UTC) + timedelta(hours=3)).timestamp())
    lines = [
        '{"type":"rate_limit_event","rate_limit_info":{"status":"allowed_warning",'
        f'"resetsAt":{resets},"rateLimitType":"five_hour"}}}}',
        '{"type":"rate_limit_event","rate_limit_info":{"status":"rejected",'
        f'"resetsAt":{resets},"rateLimitType":"five_hour"}}}}',
        '{"type":"result","subtype":"success","is_error":true,'
        '"result":"You\'ve hit your limit · resets 3pm (Europe/Paris)"}',
    ]
    result = await runner(fake_cli("claude", stdout="\n".join(lines), exit_code=1)).run(
        RunRequest("x")
    )
    assert result.quota is not None
    assert result.quota.reset_at == datetime.fromtimestamp(resets, UTC)
    assert result.quota.message == "claude five_hour limit reached"
    assert "hit your limit" in result.error


async def test_quota_wording_in_an_error_result(fake_cli: Any) -> None:
    line = (
        '{"type":"result","subtype":"success","is_error":true,'
        '"result":"You\'ve hit your limit · resets 3pm (America/New_York)"}'
    )
    result = await runner(fake_cli("claude", stdout=line, exit_code=1)).run(RunRequest("x"))
    assert result.quota is not None
    assert result.quota.message.startswith("claude reported an error: You've hit your limit")
    assert result.quota.reset_at is not None
    assert result.quota.reset_at.astimezone(UTC).minute == 0


async def test_an_answer_about_rate_limits_is_not_a_quota(fake_cli: Any) -> None:
    line = (
        '{"type":"result","subtype":"success","is_error":false,'
        '"result":"We discussed the API rate limit and the usage limit."}'
    )
    result = await runner(fake_cli("claude", stdout=line)).run(RunRequest("x"))
    assert result.ok
    assert result.quota is None


async def test_nonzero_exit_with_stderr(fake_cli: Any) -> None:
    fake = fake_cli("claude", stdout="", stderr="fatal: something broke\n", exit_code=2)
    result = await runner(fake).run(RunRequest("x"))
    assert result.exit_code == 2
    assert result.error == "claude exited with status 2; stderr: fatal: something broke"


async def test_garbage_output(fake_cli: Any) -> None:
    fake = fake_cli("claude", stdout=b"\x00\xffnot json at all\n{broken json\n[1, 2]\n")
    result = await runner(fake).run(RunRequest("x"))
    assert not result.ok
    assert result.error.startswith("claude exited without a result")
    assert "unexpected output: '[1, 2]'" in result.error


async def test_ten_megabyte_line_is_stopped(fake_cli: Any) -> None:
    fake = fake_cli("claude", stdout=b'{"type":"assistant","x":"' + b"a" * 10_000_000 + b'"}\n')
    result = await runner(fake).run(RunRequest("x"))
    assert not result.ok
    assert "printed more than 8 MiB" in result.error


async def test_exit_before_result(fake_cli: Any) -> None:
    init = '{"type":"system","subtype":"init","session_id":"s"}\n'
    result = await runner(fake_cli("claude", stdout=init, exit_code=0)).run(RunRequest("x"))
    assert result.error == "claude exited without a result"
    assert not result.ok


async def test_killed_by_a_signal(fake_cli: Any) -> None:
    fake = fake_cli("claude")
    fake.path.write_text("#!/bin/sh\nkill -9 $$\n")
    result = await runner(fake).run(RunRequest("x"))
    assert result.error.startswith("claude was killed by signal 9")


async def test_missing_binary_is_a_result(tmp_path: Path) -> None:
    result = await ClaudeRunner(binary=tmp_path / "nope").run(RunRequest("x"))
    assert result.exit_code == 127
    assert "claude not found" in result.error
    assert not ClaudeRunner(binary=tmp_path / "nope").available()


async def test_cancellation_kills_the_group(fake_cli: Any, wait_dead: Any, group_gone: Any) -> None:
    fake = fake_cli("claude", case="fault-stall", fork_child=True)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner(fake, grace=0.2).run, RunRequest("x"))
        await fake.forked()  # cancelled once the run is under way, however slow the machine
        nursery.cancel_scope.cancel()
    assert await wait_dead(fake.child_pid())
    assert await group_gone(fake.pid())


def test_invalid_options_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="runner claude: invalid options: colour: Extra inputs"):
        ClaudeRunner(colour="blue")
    with pytest.raises(ConfigError, match="timeout"):
        ClaudeRunner(timeout=-1)


def test_found_in_claude_local_when_not_on_path(
    fake_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    local = home / ".claude" / "local"
    local.mkdir(parents=True)
    fake = fake_cli("claude")
    (local / "claude").symlink_to(fake.path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert ClaudeRunner().binary() == str(local / "claude")
    assert ClaudeRunner().available()


# Usability: installed + authenticated, installed + not, not installed, a probe that hangs.


def test_usability_logged_in(fake_cli: Any) -> None:
    stdout = (fake_cli.data / "auth-status-apikey/stdout").read_text()
    fake = fake_cli("claude", replies={"auth status": fake_cli.Reply(stdout=stdout)})
    usability = runner(fake).usability()
    assert usability.installed
    assert usability.authenticated
    assert usability.auth_detail == "logged in (api_key)"


def test_usability_env_key_needs_no_probe(fake_cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = fake_cli("claude", replies={"auth status": fake_cli.Reply(hang=True)})
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    usability = runner(fake).usability()
    assert usability.usable
    assert usability.auth_detail == "ANTHROPIC_API_KEY is set"


def test_usability_logged_out_trusts_the_boolean(fake_cli: Any) -> None:
    stdout = (fake_cli.data / "auth-status-loggedout/stdout").read_text()
    fake = fake_cli("claude", replies={"auth status": fake_cli.Reply(stdout=stdout, exit_code=0)})
    usability = runner(fake).usability()
    assert usability.installed
    assert not usability.authenticated
    assert "not logged in" in usability.auth_detail


def test_usability_not_installed(tmp_path: Path) -> None:
    usability = ClaudeRunner(binary=tmp_path / "claude").usability()
    assert not usability.installed
    assert not usability.authenticated
    assert "claude not found" in usability.auth_detail


def test_usability_probe_that_hangs_answers_at_the_probe_timeout(
    fake_cli: Any, tmp_path: Path
) -> None:
    fake = fake_cli("claude", replies={"auth status": fake_cli.Reply(hang=True)})
    start = time.monotonic()
    usability = runner(fake).usability()
    # The probe's own timeout ends it, not the fake's 300 s hang (generous: a loaded machine).
    assert time.monotonic() - start < 60
    assert usability.installed
    assert not usability.authenticated
    assert "did not answer" in usability.auth_detail
    # With stored credentials, a silent probe still counts as authenticated.
    creds = tmp_path / "home" / ".claude" / ".credentials.json"
    creds.parent.mkdir(parents=True)
    creds.write_text("{}")
    start = time.monotonic()
    usability = runner(fake).usability()
    assert time.monotonic() - start < 60
    assert usability.usable
    assert "credentials file" in usability.auth_detail


def test_usability_probe_printing_garbage(fake_cli: Any) -> None:
    fake = fake_cli("claude", replies={"auth status": fake_cli.Reply(stdout="???", exit_code=3)})
    usability = runner(fake).usability()
    assert not usability.authenticated
    assert usability.auth_detail == "`claude auth status` said: ???"


async def test_concurrent_runs_are_independent(fake_cli: Any) -> None:
    # Each fake waits until all six runs have started (a barrier of marker files: run one
    # after another, the first would time out), then answers with the prompt it was given.
    fake = fake_cli("claude")
    fake.path.write_text(
        f'#!/bin/sh\nD={fake.dir}\nprompt=$(cat)\ntouch "$D/started-$prompt"\n'
        'while [ "$(ls "$D" | grep -c started-)" -lt 6 ]; do sleep 0.02; done\n'
        'printf \'{"type":"result","subtype":"success","is_error":false,"result":"%s",'
        '"usage":{"input_tokens":1,"output_tokens":2}}\\n\' "$prompt"\n'
    )
    claude = runner(fake)
    results: dict[int, str] = {}

    async def one(i: int) -> None:
        result = await claude.run(RunRequest(prompt=f"answer-{i}", timeout_override=10))
        assert result.ok, result.error
        results[i] = result.output

    async with trio.open_nursery() as nursery:
        for i in range(6):
            nursery.start_soon(one, i)
    assert results == {i: f"answer-{i}" for i in range(6)}


async def test_older_usage_limit_message_with_reset_epoch(fake_cli: Any) -> None:
    resets = int((datetime.now(UTC) + timedelta(hours=2)).timestamp())
    line = (
        '{"type":"result","subtype":"success","is_error":true,'
        f'"result":"Claude AI usage limit reached|{resets}"}}'
    )
    result = await runner(fake_cli("claude", stdout=line, exit_code=1)).run(RunRequest("x"))
    assert result.quota is not None
    assert result.quota.reset_at == datetime.fromtimestamp(resets, UTC)


async def test_absurd_reset_epoch_falls_back_to_the_default_wait(fake_cli: Any) -> None:
    line = (
        '{"type":"rate_limit_event","rate_limit_info":{"status":"rejected",'
        '"resetsAt":1e300,"rateLimitType":"seven_day"}}'
    )
    result = await runner(fake_cli("claude", stdout=line, exit_code=1)).run(RunRequest("x"))
    assert result.quota is not None
    assert result.quota.message == "claude seven_day limit reached"
    assert result.quota.reset_at is not None
    now = datetime.now(UTC)
    assert now + timedelta(minutes=59) < result.quota.reset_at <= now + timedelta(hours=1)
