"""GeminiRunner against fake `gemini` executables: recorded real output, and misbehaviour."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import trio

from ox_core import RunRequest
from ox_core.agents import usability as checked_usability
from ox_runner_gemini import GeminiRunner
from ox_runner_gemini.runner import (
    AUTH_ENV,
    AUTH_FLAGS,
    NO_MCP_SERVER,
    NO_TOOLS_POLICY,
    WORKSPACE_SETTINGS,
)

HELP = "Usage: gemini [options]\n  -p, --prompt  Run headless\n"
HELP += '  -o, --output-format  [choices: "text", "json", "stream-json"]\n'
NO_TOOLS = [
    *("--admin-policy", str(NO_TOOLS_POLICY), "--policy", str(NO_TOOLS_POLICY)),
    *("--allowed-mcp-server-names", NO_MCP_SERVER),
]


@pytest.fixture(autouse=True)
def _no_gemini_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in (*AUTH_ENV, *AUTH_FLAGS, "GEMINI_CLI_SYSTEM_SETTINGS_PATH"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)


def fake(fake_cli: Any, *, help_text: str = HELP, **kwargs: Any) -> Any:
    return fake_cli("gemini", replies={"--help": fake_cli.Reply(stdout=help_text)}, **kwargs)


def runner(fake: Any, **options: object) -> GeminiRunner:
    return GeminiRunner(binary=fake.path, **options)


async def test_recorded_answer(fake_cli: Any) -> None:
    cli = fake(fake_cli, case="ok-stream-json")
    result = await runner(cli).run(RunRequest(prompt="say hi\n" + "p" * 200_000, model="g9"))
    assert result.ok
    assert result.output == "Hi! I am the fake LLM."
    # Gemini sums its routing call and its main call: 2 x (123, 45).
    assert (result.tokens_in, result.tokens_out) == (246, 90)
    assert cli.stdin() == "say hi\n" + "p" * 200_000
    assert cli.argv() == ["-p", " ", *NO_TOOLS, "--output-format", "stream-json", "--model", "g9"]


def test_the_policy_denies_every_tool() -> None:
    assert NO_TOOLS_POLICY.is_file()
    text = NO_TOOLS_POLICY.read_text()
    assert 'toolName = "*"' in text
    assert 'decision = "deny"' in text


async def test_no_run_without_the_policy(
    fake_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ox_runner_gemini.runner.NO_TOOLS_POLICY", tmp_path / "gone.toml")
    cli = fake(fake_cli, case="ok-stream-json")
    result = await runner(cli).run(RunRequest("x"))
    assert not result.ok
    assert (
        result.error == f"gemini: {tmp_path / 'gone.toml'} is missing (reinstall ox-runner-gemini)"
    )
    assert not (cli.dir / "argv").exists()  # gemini never ran


def record_cwd_and_env(cli: Any) -> None:
    """Makes the fake write its working directory and environment next to itself."""
    cli.path.write_text(
        cli.path.read_text().replace(
            "#!/bin/sh\n", '#!/bin/sh\npwd > "$0.cwd"; env > "$0.env"\n', 1
        )
    )


def ran_in(cli: Any) -> tuple[Path, bool, list[str]]:
    """Where the fake ran, whether that is still there, and its environment."""
    cwd = Path(Path(f"{cli.path}.cwd").read_text().strip())
    return cwd, cwd.exists(), Path(f"{cli.path}.env").read_text().splitlines()


async def test_runs_in_a_dir_of_its_own_holding_only_its_settings_not_the_ledger(
    fake_cli: Any, tmp_path: Path
) -> None:
    cli = fake(fake_cli, case="ok-stream-json")
    record_cwd_and_env(cli)
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    runner_ = runner(cli)
    for _ in range(2):  # the same folder each time: gemini keeps a record per folder
        assert (await runner_.run(RunRequest("x", work_dir=ledger))).ok
        cwd, _, env = ran_in(cli)
        assert cwd == tmp_path / "home/.local/state/ox/gemini-work"
        assert sorted(p.relative_to(cwd) for p in cwd.rglob("*")) == [
            Path(".gemini"),
            Path(".gemini/settings.json"),
        ]
        assert (cwd / ".gemini/settings.json").read_text() == WORKSPACE_SETTINGS
        assert json.loads(WORKSPACE_SETTINGS) == {
            "hooksConfig": {"enabled": False},
            "general": {"sessionRetention": {"enabled": True, "maxCount": 1}},
        }
    # Trusted: an empty folder of ox's (headless gemini will not run in an untrusted one).
    assert "GEMINI_CLI_TRUST_WORKSPACE=true" in env


async def test_a_work_dir_that_is_not_empty_is_not_used(fake_cli: Any, tmp_path: Path) -> None:
    planted = tmp_path / "home/.local/state/ox/gemini-work/.gemini/commands"
    planted.mkdir(parents=True)
    cli = fake(fake_cli, case="ok-stream-json")
    record_cwd_and_env(cli)
    assert (await runner(cli).run(RunRequest("x"))).ok
    cwd, still_there, _ = ran_in(cli)
    assert cwd.name.startswith("ox-gemini-")
    assert not still_there  # a temporary one, gone after the run


async def test_recorded_json_format(fake_cli: Any) -> None:
    result = await runner(fake(fake_cli, case="ok-json")).run(RunRequest("x"))
    assert result.ok
    assert (result.output, result.tokens_in, result.tokens_out) == (
        "Hi! I am the fake LLM.",
        246,
        90,
    )


async def test_old_version_without_stream_json_prints_plain_text(fake_cli: Any) -> None:
    old_help = "Usage: gemini [options]\n  -p, --prompt  Prompt\n"
    cli = fake(fake_cli, case="ok-text", help_text=old_help)
    result = await runner(cli).run(RunRequest("x"))
    assert result.ok
    assert result.output == "Hi! I am the fake LLM."
    assert cli.argv() == ["-p", " ", *NO_TOOLS, "--output-format", "stream-json"]
    # Learnt once: the next run asks for plain text straight away.
    result = await runner(cli).run(RunRequest("x"))
    assert result.output == "Hi! I am the fake LLM."
    assert cli.argv() == ["-p", " ", *NO_TOOLS]


async def test_text_after_tool_use_is_the_answer(fake_cli: Any) -> None:
    events = [
        {"type": "init", "session_id": "s", "model": "auto"},
        {"type": "message", "role": "assistant", "content": "Let me look", "delta": True},
        {"type": "tool_use", "tool_name": "read_file", "tool_id": "t1", "parameters": {}},
        {"type": "tool_result", "tool_id": "t1", "status": "success", "output": "..."},
        {"type": "message", "role": "assistant", "content": "The ", "delta": True},
        {"type": "message", "role": "assistant", "content": "answer.", "delta": True},
        {"type": "result", "status": "success", "stats": {"input_tokens": 9, "output_tokens": 3}},
    ]
    stdout = "\n".join(json.dumps(e) for e in events)
    result = await runner(fake(fake_cli, stdout=stdout)).run(RunRequest("x"))
    assert (result.output, result.tokens_in, result.tokens_out) == ("The answer.", 9, 3)


async def test_api_error_result(fake_cli: Any) -> None:
    result = await runner(fake(fake_cli, case="fault-401")).run(RunRequest("x"))
    assert not result.ok
    assert result.error.startswith("gemini reported an error: [API Error: ")
    assert "API key not valid" in result.error
    assert "gemini exited with status 145" in result.error
    assert result.quota is None


async def test_midstream_failure_keeps_no_partial_answer(fake_cli: Any) -> None:
    result = await runner(fake(fake_cli, case="fault-midstream")).run(RunRequest("x"))
    assert result.error.startswith("gemini reported an error: [API Error: terminated]")
    assert result.output == ""


async def test_429_retrying_until_timeout_is_a_quota(
    fake_cli: Any, wait_dead: Any, group_gone: Any
) -> None:
    cli = fake(fake_cli, case="fault-429", fork_child=True)
    start = time.monotonic()
    result = await runner(cli, grace=0.2).run(RunRequest("x", timeout_override=0.5))
    assert time.monotonic() - start < 60  # the timeout ends it, not the fake's 300 s hang
    assert result.error.startswith("gemini did not finish within 0.5 s and was killed")
    assert result.quota is not None
    assert "429" in result.quota.message or "RESOURCE_EXHAUSTED" in result.quota.message
    assert await wait_dead(cli.child_pid())
    assert await group_gone(cli.pid())


async def test_quota_in_result_error(fake_cli: Any) -> None:
    event = {
        "type": "result",
        "status": "error",
        "error": {"type": "quota", "message": "You have exhausted your daily quota on this model."},
        "stats": {},
    }
    result = await runner(fake(fake_cli, stdout=json.dumps(event), exit_code=1)).run(
        RunRequest("x")
    )
    assert result.quota is not None
    assert result.quota.message.startswith("You have exhausted your daily quota")


async def test_not_logged_in_exit_41(fake_cli: Any) -> None:
    result = await runner(fake(fake_cli, case="loggedout-print")).run(RunRequest("x"))
    assert result.exit_code == 41
    assert result.error.startswith(
        "gemini exited with status 41 (authentication failed); stderr: When using Gemini API"
    )


async def test_stall_times_out(fake_cli: Any) -> None:
    result = await runner(fake(fake_cli, case="fault-stall"), grace=0.2).run(
        RunRequest("x", timeout_override=0.3)
    )
    assert result.error.startswith("gemini did not finish within 0.3 s")
    assert result.output == ""


async def test_output_nested_beyond_reason_is_an_error_not_a_crash(fake_cli: Any) -> None:
    deep = b'{"response": ' + b"[" * 5000 + b"]" * 5000 + b"}\n"
    result = await runner(fake(fake_cli, stdout=deep, exit_code=0)).run(RunRequest("x"))
    assert not result.ok
    assert result.error.startswith("gemini exited without a result")


async def test_garbage_output_is_an_error(fake_cli: Any) -> None:
    # --help lists stream-json: text instead of events is garbage, not an old version's answer.
    cli = fake(fake_cli, stdout=b"\xff\xfe??? not json\n{half\n", exit_code=0)
    result = await runner(cli).run(RunRequest("x"))
    assert not result.ok
    assert result.error.startswith("gemini exited without a result")
    assert "unexpected output: '{half'" in result.error


async def test_nonzero_exit_with_stderr(fake_cli: Any) -> None:
    result = await runner(fake(fake_cli, stderr="boom\n", exit_code=52)).run(RunRequest("x"))
    assert result.error == "gemini exited with status 52 (configuration error); stderr: boom"


async def test_ten_megabyte_line_is_stopped(fake_cli: Any) -> None:
    result = await runner(fake(fake_cli, stdout=b"{" * 10_000_000)).run(RunRequest("x"))
    assert "printed more than 8 MiB" in result.error


async def test_exit_before_result(fake_cli: Any) -> None:
    init = '{"type":"init","session_id":"s","model":"auto"}\n'
    result = await runner(fake(fake_cli, stdout=init)).run(RunRequest("x"))
    assert result.error == "gemini exited without a result"


async def test_cancellation_kills_the_group(fake_cli: Any, wait_dead: Any, group_gone: Any) -> None:
    cli = fake(fake_cli, case="fault-stall", fork_child=True)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner(cli, grace=0.2).run, RunRequest("x"))
        await cli.forked()  # cancelled once the run is under way, however slow the machine
        nursery.cancel_scope.cancel()
    assert await wait_dead(cli.child_pid())
    assert await group_gone(cli.pid())


async def test_missing_binary_is_a_result(tmp_path: Path) -> None:
    result = await GeminiRunner(binary=tmp_path / "gemini").run(RunRequest("x"))
    assert result.exit_code == 127
    assert "gemini not found" in result.error


# Usability: installed + authenticated, installed + not, not installed, a binary that hangs.


def settings(tmp_path: Path, auth_type: str) -> Path:
    path = tmp_path / "home" / ".gemini" / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"security": {"auth": {"selectedType": auth_type}}}))
    return path


def test_usability_api_key(fake_cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "k")
    usability = runner(fake(fake_cli)).usability()
    assert usability.usable
    assert usability.auth_detail == "GEMINI_API_KEY is set"


def test_usability_oauth(fake_cli: Any, tmp_path: Path) -> None:
    settings(tmp_path, "oauth-personal")
    cli = fake(fake_cli)
    usability = runner(cli).usability()
    assert usability.installed
    assert not usability.authenticated
    assert "no " in usability.auth_detail
    (tmp_path / "home" / ".gemini" / "oauth_creds.json").write_text("{}")
    usability = runner(cli).usability()
    assert usability.usable
    assert usability.auth_detail.startswith("signed in with Google")


def test_usability_not_authenticated(fake_cli: Any, tmp_path: Path) -> None:
    cli = fake(fake_cli)
    usability = runner(cli).usability()
    assert usability.installed
    assert not usability.authenticated
    assert usability.auth_detail == "no GEMINI_API_KEY and no ~/.gemini/settings.json"
    settings(tmp_path, "gemini-api-key")
    assert runner(cli).usability().auth_detail == (
        "auth type gemini-api-key but GEMINI_API_KEY is not set"
    )
    settings(tmp_path, "vertex-ai")
    assert runner(cli).usability().usable
    (tmp_path / "home" / ".gemini" / "settings.json").write_text("{not json")
    assert "cannot read" in runner(cli).usability().auth_detail
    (tmp_path / "home" / ".gemini" / "settings.json").write_text("[" * 5000 + "]" * 5000)
    assert "nested too deeply" in runner(cli).usability().auth_detail


def test_usability_reads_settings_through_a_dotfiles_link(fake_cli: Any, tmp_path: Path) -> None:
    kept = settings(tmp_path, "vertex-ai").rename(tmp_path / "dotfiles-settings.json")
    (tmp_path / "home" / ".gemini" / "settings.json").symlink_to(kept)
    assert runner(fake(fake_cli)).usability().usable


def test_usability_with_settings_that_are_a_fifo_answers_at_once(
    fake_cli: Any, tmp_path: Path
) -> None:
    fifo = tmp_path / "home" / ".gemini" / "settings.json"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    try:
        # Through the daemon's wrapper: a check that never returns counts as "not installed"
        # after its timeout, and its thread stays blocked for good.
        usability = checked_usability(runner(fake(fake_cli)), quiet=True)
    finally:
        _release_a_reader(fifo)
    assert usability.installed
    assert not usability.authenticated
    assert usability.auth_detail == f"cannot read {fifo}: {fifo} is a FIFO; refused"


def _release_a_reader(fifo: Path) -> None:
    """EOF for a reader stuck opening `fifo` (none: nothing to do)."""
    with contextlib.suppress(OSError):
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


CHECK_IN_A_SMALL_PROCESS = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from ox_runner_gemini import GeminiRunner
print(GeminiRunner(binary=sys.argv[1]).usability().auth_detail)
"""


def test_usability_with_settings_linked_to_dev_zero_reads_nothing(
    fake_cli: Any, tmp_path: Path
) -> None:
    link = tmp_path / "home" / ".gemini" / "settings.json"
    link.parent.mkdir(parents=True)
    link.symlink_to("/dev/zero")
    # In a process of its own with 1 GiB of address space: a check that reads until the
    # end of /dev/zero fails there with a MemoryError instead of taking the machine's memory.
    check = [sys.executable, "-c", CHECK_IN_A_SMALL_PROCESS, str(fake(fake_cli).path)]
    answer = subprocess.run(check, capture_output=True, text=True, timeout=120, check=True)
    assert answer.stdout.strip() == f"cannot read {link}: {link} is a device; refused"


def test_usability_not_installed(tmp_path: Path) -> None:
    usability = GeminiRunner(binary=tmp_path / "gemini").usability()
    assert (usability.installed, usability.authenticated) == (False, False)


def test_usability_does_not_run_a_binary_that_hangs(fake_cli: Any) -> None:
    cli = fake_cli("gemini", hang=True)
    start = time.monotonic()
    usability = runner(cli).usability()
    assert time.monotonic() - start < 60  # the fake would hang 300 s (generous: a loaded box)
    assert usability.installed
    assert not (cli.dir / "argv").exists()
