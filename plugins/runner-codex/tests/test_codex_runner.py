"""CodexRunner against fake `codex` executables: recorded real output, and misbehaviour."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trio

from ox_core import RunRequest
from ox_runner_codex import CodexRunner
from ox_runner_codex.runner import AUTH_ENV, NO_TOOLS_CONFIG

HELP = "Usage: codex exec [OPTIONS]\n  --skip-git-repo-check\n  --ephemeral\n  --color <COLOR>\n"
HELP += "  -s, --sandbox <SANDBOX_MODE>\n  --json\n  -c, --config <key=value>\n"


@pytest.fixture(autouse=True)
def _no_codex_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in (*AUTH_ENV, "CODEX_HOME"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def fake(fake_cli: Any, **kwargs: Any) -> Any:
    replies = {"exec --help": fake_cli.Reply(stdout=HELP), **kwargs.pop("replies", {})}
    return fake_cli("codex", replies=replies, **kwargs)


def runner(fake: Any, **options: object) -> CodexRunner:
    return CodexRunner(binary=fake.path, **options)


async def test_recorded_answer(fake_cli: Any) -> None:
    cli = fake(fake_cli, case="ok-json")
    result = await runner(cli).run(RunRequest(prompt="say hi\n" + "p" * 200_000, model="o9"))
    assert result.ok
    assert result.output == "Hi! I am the fake LLM."
    assert (result.tokens_in, result.tokens_out) == (123, 45)
    assert cli.stdin() == "say hi\n" + "p" * 200_000
    no_tools = [arg for setting in NO_TOOLS_CONFIG for arg in ("-c", setting)]
    assert cli.argv() == [
        "exec", "--json", "--skip-git-repo-check", "--sandbox", "read-only", "--ephemeral",
        "--color", "never", *no_tools, "--model", "o9", "-",
    ]  # fmt: skip
    assert {"features.shell_tool=false", "features.code_mode_host=false"} <= set(NO_TOOLS_CONFIG)
    assert 'web_search="disabled"' in NO_TOOLS_CONFIG


def ran_in(cli: Any) -> tuple[Path, bool]:
    """Where the fake ran (it wrote `pwd` next to itself), and whether that is still there."""
    cwd = Path(Path(f"{cli.path}.cwd").read_text().strip())
    return cwd, cwd.exists()


async def test_the_users_mcp_servers_are_turned_off_and_the_ledger_is_not_the_cwd(
    fake_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "codex-home" / "config.toml"
    config.parent.mkdir()
    config.write_text(
        'model = "m"\n[mcp_servers.docs]\ncommand = "x"\n[mcp_servers.gh-2]\nurl = "u"\n'
        '[mcp_servers."bad.name"]\ncommand = "y"\n'
    )
    monkeypatch.setenv("CODEX_HOME", str(config.parent))
    cli = fake(fake_cli, case="ok-json")
    cli.path.write_text(
        cli.path.read_text().replace("#!/bin/sh\n", '#!/bin/sh\npwd > "$0.cwd"\n', 1)
    )
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    assert (await runner(cli).run(RunRequest("x", work_dir=ledger))).ok
    argv = cli.argv()
    off = [
        argv[i + 1]
        for i, arg in enumerate(argv[:-1])
        if arg == "-c" and argv[i + 1].startswith("mcp_")
    ]
    assert off == ["mcp_servers.docs.enabled=false", "mcp_servers.gh-2.enabled=false"]
    # An empty directory of its own, gone after the run: not the ledger.
    cwd, still_there = ran_in(cli)
    assert cwd != ledger
    assert cwd.name.startswith("ox-codex-")
    assert not still_there


async def test_an_unreadable_codex_config_disables_no_server(
    fake_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "codex-home" / "config.toml"
    config.parent.mkdir()
    config.write_text("[mcp_servers\n")
    monkeypatch.setenv("CODEX_HOME", str(config.parent))
    cli = fake(fake_cli, case="ok-json")
    assert (await runner(cli).run(RunRequest("x"))).ok
    assert not any(arg.startswith("mcp_servers.") for arg in cli.argv())


async def test_a_dotfiles_link_to_the_codex_config_is_followed(
    fake_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = tmp_path / "dotfiles" / "codex.toml"
    kept.parent.mkdir()
    kept.write_text('[mcp_servers.docs]\ncommand = "x"\n')
    (tmp_path / "codex-home").mkdir()
    (tmp_path / "codex-home" / "config.toml").symlink_to(kept)
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex-home"))
    cli = fake(fake_cli, case="ok-json")
    assert (await runner(cli).run(RunRequest("x"))).ok
    assert "mcp_servers.docs.enabled=false" in cli.argv()


async def test_a_codex_config_that_is_a_fifo_neither_blocks_the_event_loop_nor_runs(
    fake_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fifo = tmp_path / "codex-home" / "config.toml"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    monkeypatch.setenv("CODEX_HOME", str(fifo.parent))
    cli = fake(fake_cli, case="ok-json")
    # A read blocked in the event loop cannot be cancelled: only a writer ends it.
    released: list[bool] = []
    rescue = threading.Timer(20, lambda: released.append(_release_a_reader(fifo)))
    rescue.start()
    try:
        result = await runner(cli).run(RunRequest("x"))
    finally:
        rescue.cancel()
    assert released == [], "the run blocked the event loop on the FIFO"
    assert not result.ok
    assert f"{fifo} is a FIFO; refused" in (result.error or "")
    assert not (cli.dir / "argv").exists(), "codex ran, with MCP servers ox could not turn off"


def _release_a_reader(fifo: Path) -> bool:
    """EOF for a reader stuck opening `fifo`; whether there was one."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:  # ENXIO: no reader
        return False
    return True


async def test_flags_the_installed_version_lacks_are_dropped(fake_cli: Any) -> None:
    old_help = "Usage: codex exec\n  --json\n  --skip-git-repo-check\n  -c, --config <k=v>\n"
    cli = fake(fake_cli, case="ok-json", replies={"exec --help": fake_cli.Reply(stdout=old_help)})
    result = await runner(cli, extra_args=["-c", "x=1"]).run(RunRequest("x"))
    assert result.ok
    no_tools = [arg for setting in NO_TOOLS_CONFIG for arg in ("-c", setting)]
    assert cli.argv() == ["exec", "--json", "--skip-git-repo-check", *no_tools, "-c", "x=1", "-"]


async def test_a_version_whose_tools_cannot_be_turned_off_is_not_run(fake_cli: Any) -> None:
    old_help = "Usage: codex exec\n  --json\n  --skip-git-repo-check\n  -s, --sandbox <MODE>\n"
    cli = fake(fake_cli, case="ok-json", replies={"exec --help": fake_cli.Reply(stdout=old_help)})
    result = await runner(cli).run(RunRequest("x"))
    assert not result.ok
    assert "has no --config option" in result.error
    assert not (cli.dir / "argv").exists()  # never run on the prompt


async def test_answer_with_cumulative_usage_takes_the_last_turn(fake_cli: Any) -> None:
    lines = [
        '{"type":"thread.started","thread_id":"t"}',
        '{"type":"item.completed","item":{"id":"0","type":"reasoning","text":"hmm"}}',
        '{"type":"item.completed","item":{"id":"1","type":"agent_message","text":"first"}}',
        '{"type":"turn.completed","usage":{"input_tokens":10,"output_tokens":1}}',
        '{"type":"item.completed","item":{"id":"2","type":"agent_message","text":"final"}}',
        '{"type":"turn.completed","usage":{"input_tokens":30,"cached_input_tokens":20,'
        '"output_tokens":4}}',
    ]
    result = await runner(fake(fake_cli, stdout="\n".join(lines), exit_code=1)).run(RunRequest("x"))
    assert result.ok
    assert (result.output, result.tokens_in, result.tokens_out) == ("final", 30, 4)


async def test_429_is_a_quota(fake_cli: Any) -> None:
    result = await runner(fake(fake_cli, case="fault-429")).run(RunRequest("x"))
    assert not result.ok
    assert result.exit_code == 1
    assert result.error.startswith(
        "codex reported an error: exceeded retry limit, last status: 429 Too Many Requests"
    )
    assert "Reading additional input from stdin" in result.error
    assert result.quota is not None
    assert "429 Too Many Requests" in result.quota.message


async def test_usage_limit_wording_is_a_quota(fake_cli: Any) -> None:
    lines = [
        '{"type":"turn.started"}',
        '{"type":"error","message":"You\'ve hit your usage limit. Try again later."}',
        '{"type":"turn.failed","error":{"message":"You\'ve hit your usage limit. Try again."}}',
    ]
    result = await runner(fake(fake_cli, stdout="\n".join(lines), exit_code=1)).run(RunRequest("x"))
    assert result.quota is not None
    assert result.quota.message.startswith("You've hit your usage limit")


async def test_usage_limit_with_try_again_in(fake_cli: Any) -> None:
    message = "You've hit your usage limit. Upgrade to Pro or try again in 2 hours 30 minutes."
    lines = ['{"type":"turn.failed","error":{"message":"' + message + '"}}']
    result = await runner(fake(fake_cli, stdout="\n".join(lines), exit_code=1)).run(RunRequest("x"))
    assert result.quota is not None
    assert result.quota.reset_at is not None
    wait = result.quota.reset_at - datetime.now(UTC)
    assert timedelta(hours=2, minutes=29) < wait <= timedelta(hours=2, minutes=30)


@pytest.mark.parametrize("case", ["fault-401", "fault-500", "fault-midstream"])
async def test_api_errors_are_errors_not_quotas(fake_cli: Any, case: str) -> None:
    result = await runner(fake(fake_cli, case=case)).run(RunRequest("x"))
    assert not result.ok
    assert result.error.startswith("codex reported an error: ")
    assert "Reconnecting" not in result.error
    assert result.quota is None


async def test_stall_times_out_and_kills_the_group(
    fake_cli: Any, wait_dead: Any, group_gone: Any
) -> None:
    cli = fake(fake_cli, case="fault-stall", fork_child=True)
    start = time.monotonic()
    result = await runner(cli, grace=0.2).run(RunRequest("x", timeout_override=0.5))
    assert time.monotonic() - start < 60  # the timeout ends it, not the fake's 300 s stall
    assert result.error.startswith("codex did not finish within 0.5 s and was killed")
    assert await wait_dead(cli.child_pid())
    assert await group_gone(cli.pid())


async def test_nonzero_exit_with_stderr(fake_cli: Any) -> None:
    cli = fake(fake_cli, stderr="error: unexpected argument '--ephemeral'\n", exit_code=2)
    result = await runner(cli).run(RunRequest("x"))
    assert result.exit_code == 2
    assert result.error == (
        "codex exited with status 2; stderr: error: unexpected argument '--ephemeral'"
    )


async def test_garbage_output(fake_cli: Any) -> None:
    cli = fake(fake_cli, stdout=b'{"type":"turn.started"}\n\xff\xfe garbage\n', exit_code=0)
    result = await runner(cli).run(RunRequest("x"))
    assert not result.ok
    assert result.error.startswith("codex exited without an answer")
    assert "garbage" in result.error


async def test_plain_text_of_an_old_version(fake_cli: Any) -> None:
    result = await runner(fake(fake_cli, stdout="Hello in plain text\n")).run(RunRequest("x"))
    assert result.ok
    assert result.output == "Hello in plain text"


async def test_ten_megabyte_line_is_stopped(fake_cli: Any) -> None:
    result = await runner(fake(fake_cli, stdout=b"z" * 10_000_000 + b"\n")).run(RunRequest("x"))
    assert not result.ok
    assert "printed more than 8 MiB" in result.error


async def test_exit_before_result(fake_cli: Any) -> None:
    lines = '{"type":"thread.started","thread_id":"t"}\n{"type":"turn.started"}\n'
    result = await runner(fake(fake_cli, stdout=lines)).run(RunRequest("x"))
    assert result.error == "codex exited without an answer"


async def test_cancellation_kills_the_group(fake_cli: Any, wait_dead: Any, group_gone: Any) -> None:
    cli = fake(fake_cli, case="fault-stall", fork_child=True)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner(cli, grace=0.2).run, RunRequest("x"))
        await cli.forked()  # cancelled once the run is under way, however slow the machine
        nursery.cancel_scope.cancel()
    assert await wait_dead(cli.child_pid())
    assert await group_gone(cli.pid())


async def test_missing_binary_is_a_result(tmp_path: Path) -> None:
    result = await CodexRunner(binary=tmp_path / "codex").run(RunRequest("x"))
    assert result.exit_code == 127
    assert "codex not found" in result.error


# Usability: installed + authenticated, installed + not, not installed, a probe that hangs.


def test_usability_logged_in(fake_cli: Any) -> None:
    reply = fake_cli.Reply(stderr="Logged in using an API key - sk-proj-***\n")
    cli = fake(fake_cli, replies={"login status": reply})
    usability = runner(cli).usability()
    assert usability.usable
    assert usability.auth_detail == "Logged in using an API key - sk-proj-***"


def test_usability_api_key_in_env(fake_cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    cli = fake(fake_cli, replies={"login status": fake_cli.Reply(hang=True)})
    monkeypatch.setenv("CODEX_API_KEY", "k")
    usability = runner(cli).usability()
    assert usability.usable
    assert usability.auth_detail == "CODEX_API_KEY is set"


def test_usability_logged_out(fake_cli: Any) -> None:
    stderr = (fake_cli.data / "login-status-loggedout" / "stderr").read_text()
    cli = fake(fake_cli, replies={"login status": fake_cli.Reply(stderr=stderr, exit_code=1)})
    usability = runner(cli).usability()
    assert usability.installed
    assert not usability.authenticated
    assert usability.auth_detail == "Not logged in"


def test_usability_not_installed(tmp_path: Path) -> None:
    usability = CodexRunner(binary=tmp_path / "codex").usability()
    assert not usability.installed
    assert not usability.authenticated


def test_usability_probe_that_hangs(fake_cli: Any, tmp_path: Path) -> None:
    cli = fake(fake_cli, replies={"login status": fake_cli.Reply(hang=True)})
    start = time.monotonic()
    usability = runner(cli).usability()
    # The probe's own timeout ends it, not the fake's 300 s hang (generous: a loaded machine).
    assert time.monotonic() - start < 60
    assert usability.installed
    assert not usability.authenticated
    assert "did not answer" in usability.auth_detail
    auth = tmp_path / "home" / ".codex" / "auth.json"
    auth.parent.mkdir(parents=True)
    auth.write_text("{}")
    assert runner(cli).usability().usable
