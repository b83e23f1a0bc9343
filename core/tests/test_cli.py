"""The `ox-core` command line and the screens it draws, rendered as a person sees them."""

# The daemon runs in this test's trio loop while the CLI (blocking sockets) runs in a thread.
# ruff: noqa: ASYNC110

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trio
from rich.console import Console

from ox_core import MockRunner, RunRequest, RunResult, WorkHandler, WorkItem, hookimpl
from ox_core.cli import main
from ox_core.contracts import AgentUsability
from ox_core.daemon import Daemon, serve
from ox_core.doctor import collect, has_problems, plugins_report
from ox_core.plugins import LoadedPlugins, PluginLoadError, load_plugins
from ox_core.render import doctor_screen, plugins_screen, status_screen
from ox_core.settings import load_settings


def render(renderable: Any, width: int = 110) -> str:
    console = Console(record=True, width=width, color_system=None, force_terminal=False)
    console.print(renderable)
    return console.export_text()


class EchoHandler(WorkHandler):
    type = "echo"

    async def detect(self, ledger: Path) -> list[WorkItem]:
        return []

    async def build_prompt(self, item: WorkItem) -> RunRequest:
        return RunRequest(prompt=str(item.payload.get("text", "")))

    async def process_result(self, item: WorkItem, result: RunResult) -> None:
        if item.payload.get("fail"):
            raise RuntimeError("the handler refused this item")


class Echo(MockRunner):
    name = "echo-agent"
    priority = 5

    def __init__(self) -> None:
        super().__init__(
            lambda r: RunResult(output=r.prompt, duration=0.01),
            usability=AgentUsability(True, True, "logged in as test@example.com"),
        )


class Missing(MockRunner):
    name = "missing-agent"
    priority = 7

    def __init__(self) -> None:
        super().__init__(usability=AgentUsability(False, False, "`missing` not found on PATH"))


def test_plugins() -> LoadedPlugins:
    class Plugin:
        @hookimpl
        def ox_register_runners(self, register: Callable[[type[Any]], None]) -> None:
            register(Echo)
            register(Missing)

        @hookimpl
        def ox_register_handlers(self, register: Callable[[type[Any]], None]) -> None:
            register(EchoHandler)

    return load_plugins(entry_points=False, extra=[("test", Plugin())])


test_plugins.__test__ = False  # type: ignore[attr-defined]


# -- startup cost ---------------------------------------------------------------------------


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from ox_core.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('trio', 'pydantic', 'cattrs', 'rich', 'attrs', 'stevedore')"
        " if m in sys.modules]\n"
        "plugins = ('ox_runner_', 'ox_handler_', 'ox_session_')\n"
        "heavy += [m for m in sys.modules if m.startswith(plugins)]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "record ai coding-agent sessions" in out.stdout.lower()
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in (
        ["serve"],
        ["status"],
        ["doctor"],
        ["plugins"],
        ["detect"],
        ["enqueue"],
        ["session", "start"],
        ["session", "stop"],
    ):
        with pytest.raises(SystemExit) as info:
            main([*command, "--help"])
        assert info.value.code == 0
        assert "usage: ox-core " + " ".join(command) in capsys.readouterr().out


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "serve" in capsys.readouterr().out
    assert main(["session"]) == 2
    assert "start" in capsys.readouterr().out


# -- errors a person sees -------------------------------------------------------------------


def test_commands_without_daemon_say_so_in_one_line(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (
        ["status"],
        ["status", "--json"],
        ["detect"],
        ["enqueue", "x"],
    ):
        assert main(command) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1
        assert lines[0].startswith("ox-core: error: the ox-core daemon is not running")
        assert "ox-core serve" in lines[0]


def test_bad_config_is_one_line_naming_the_key(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = env / ".config" / "ox" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[agent_work]\nmax_concurrent = 0\n")
    assert main(["status"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "agent_work.max_concurrent" in err[0]
    assert str(config) in err[0]


def test_enqueue_with_bad_payload(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["enqueue", "echo", "--payload", "{oops"]) == 1
    assert "--payload is not JSON" in capsys.readouterr().err


def test_enqueue_with_a_payload_nested_beyond_reason(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """JSON nested deeper than Python's recursion limit is one clear line, no traceback."""
    deep = "[" * 50_000 + "]" * 50_000
    assert main(["enqueue", "echo", "--payload", deep]) == 1
    assert "--payload is not JSON: nested too deeply" in capsys.readouterr().err


# -- screens ----------------------------------------------------------------------------------


def test_status_screen_with_work() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    started = (now - timedelta(seconds=42)).isoformat()
    status = {
        "daemon": {"pid": 4242, "ledger": "/home/me/ledger", "started_at": started},
        "agent_work": {
            "enabled": True,
            "agent_type": "claude",
            "agent_available": True,
            "queue_depth": 3,
            "active": [
                {
                    "work_type": "session-finalize",
                    "target": "session-finalize:2026-11-25T11-58-me-abc",
                    "pid": 999,
                    "started_at": started,
                    "status": "running",
                }
            ],
            "recent": [
                {
                    "work_type": "session-finalize",
                    "target": "session-finalize:old",
                    "status": "completed",
                    "duration": 12.34,
                    "started_at": (now - timedelta(minutes=5)).isoformat(),
                },
                {
                    "work_type": "session-finalize",
                    "target": "session-finalize:bad",
                    "status": "failed",
                    "duration": 1.0,
                    "error": "claude exited 1: not logged in",
                    "started_at": (now - timedelta(hours=2)).isoformat(),
                },
            ],
            "stats": {
                "total_invocations": 7,
                "runs_ok": 5,
                "runs_failed": 2,
                "successes": 5,
                "failures": 2,
                "outcomes": {"completed": 5, "failed": 2},
            },
            "errors": [
                {
                    "work_type": "session-finalize",
                    "target": "session-finalize:bad",
                    "error": "claude exited 1: not logged in",
                    "first": (now - timedelta(hours=2)).isoformat(),
                    "last": (now - timedelta(hours=2)).isoformat(),
                    "count": 1,
                }
            ],
        },
    }
    text = render(status_screen(status, now=now))
    assert "claude  ✓ available" in text
    assert "pid 4242, started 42s ago" in text
    assert "3 waiting, 1 running" in text
    assert "7 finished: 5 completed, 2 failed" in text  # items ...
    assert "7 runs: 5 ok, 2 failed" in text  # ... and agent runs, counted apart
    assert "Running" in text
    assert "│ 2026-11-25T11-58-me-abc" in text  # the work type is not repeated
    assert "Recent" in text
    assert "completed" in text
    assert "12.3s" in text
    assert "✗ bad: claude exited 1: not logged in (since 2h ago)" in text
    assert "2h ago" in text


def test_status_screen_without_agent_or_work() -> None:
    status = {
        "daemon": {"pid": 1, "ledger": "/l", "started_at": datetime.now(UTC).isoformat()},
        "agent_work": {
            "enabled": True,
            "agent_type": "none",
            "agent_available": False,
            "queue_depth": 0,
            "active": [],
            "recent": [],
            "stats": {"total_invocations": 0, "successes": 0, "failures": 0},
        },
    }
    text = render(status_screen(status))
    assert "summaries wait until an agent is installed" in text
    assert "No work yet." in text
    disabled = {**status, "agent_work": {**status["agent_work"], "enabled": False}}
    assert "(agent work disabled)" in render(status_screen(disabled))
    not_ready = {**status, "daemon": {**status["daemon"], "ready": False}}
    assert "starting…" in render(status_screen(not_ready))
    starting = {"daemon": status["daemon"], "agent_work": None}
    assert "Agent       starting… (plugins and agents are being checked)" in render(
        status_screen(starting)
    )


def test_plugins_screen_shows_load_errors() -> None:
    loaded = LoadedPlugins(
        runners={},
        handlers={},
        errors=(
            PluginLoadError(
                "broken", "ox.runners", "ox-runner-broken", "0.3", "ImportError: no module x"
            ),
        ),
        plugins=(),
    )
    rows = plugins_report(loaded)
    assert rows == [
        {
            "name": "broken",
            "group": "ox.runners",
            "distribution": "ox-runner-broken",
            "version": "0.3",
            "error": "ImportError: no module x",
        }
    ]
    text = render(plugins_screen(rows))
    for word in (
        "broken",
        "runner",
        "ox-runner-broken",
        "0.3",
        "✗ broken (ox.runners): ImportError: no module x",
    ):
        assert word in text
    assert "No ox plugins installed" in render(plugins_screen([]))


def test_plugins_command_lists_our_distributions(capsys: pytest.CaptureFixture[str]) -> None:
    main(["plugins", "--json"])
    rows = json.loads(capsys.readouterr().out)
    ours = {(r["group"], r["name"]): r for r in rows if r["distribution"].startswith("ox-")}
    assert ours[("ox.runners", "claude")]["distribution"] == "ox-runner-claude"
    assert ours[("ox.runners", "claude")]["error"] is None
    assert ours[("ox.handlers", "session-finalize")]["version"] == "0.1.0"
    main(["plugins"])
    text = capsys.readouterr().out
    assert "ox-runner-claude" in text
    assert "✓ ok" in text
    assert "ox-handler-session-finalize" in text  # never cut (the terminal is 80 wide here)


def test_doctor_report_and_screen(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OX_AGENT_WORK__MAX_CONCURRENT", "2")
    config = env / ".config" / "ox" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('log_format = "json"\n')
    report = collect(load_settings(), test_plugins())
    assert report["agent"] == "echo-agent"
    assert [r["name"] for r in report["runners"]] == ["echo-agent", "missing-agent"]
    assert report["runners"][1]["installed"] is False
    assert report["handlers"] == [
        {"type": "echo", "class": f"{__name__}.EchoHandler", "error": None}
    ]
    assert report["ledger"]["state"].startswith("missing")
    assert report["daemon"]["running"] is False
    assert not has_problems(report)
    settings = {row["key"]: row for row in report["settings"]}
    assert settings["agent_work.max_concurrent"]["value"] == "2"
    assert settings["agent_work.max_concurrent"]["source"] == "env OX_AGENT_WORK__MAX_CONCURRENT"
    assert settings["log_format"]["source"] == f"file {config}"
    assert settings["ledger"]["source"] == "default"

    text = render(doctor_screen(report), width=140)
    assert "echo-agent" in text
    assert "logged in as test@example.com" in text
    assert "`missing` not found on PATH" in text
    assert "agent: echo-agent" in text
    assert "Handlers" in text
    assert "not running — start it with `ox-core serve`" in text
    assert "env OX_AGENT_WORK__MAX_CONCURRENT" in text
    row = next(line for line in text.splitlines() if " log_format " in line)
    assert [c.strip() for c in row.strip("│ ").split("│")] == ["log_format", "json", "config file"]
    assert f"config file: {config}" in text


def test_doctor_screen_without_agent_and_with_broken_plugin() -> None:
    report = {
        "runners": [{"name": "claude", "installed": False, "authenticated": False, "detail": ""}],
        "agent": "none",
        "handlers": [{"type": "session-finalize", "class": "x.Y", "error": None}],
        "plugin_errors": [
            {
                "name": "gemini",
                "group": "ox.runners",
                "distribution": "ox-runner-gemini",
                "version": "0.1.0",
                "error": "ImportError: boom",
            }
        ],
        "ledger": {"path": "/l", "state": "not a git repository"},
        "daemon": {"socket": "/s", "running": True, "pid": 12, "socket_mode": "0600"},
        "settings": [],
    }
    assert has_problems(report)
    text = render(doctor_screen(report))
    assert "no usable agent" in text
    assert "gemini (ox-runner-gemini 0.1.0, ox.runners): ImportError: boom" in text
    assert "! not a git repository" in text
    assert "running (pid 12)" in text
    assert "socket mode 0600" in text


# -- against a running daemon ---------------------------------------------------------------


async def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await trio.to_thread.run_sync(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_commands_against_a_running_daemon(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal: no wrapped lines to match
    settings = load_settings()
    async with trio.open_nursery() as nursery:
        daemon: Daemon = await nursery.start(
            lambda task_status: serve(
                settings, plugins=test_plugins(), handle_signals=False, task_status=task_status
            )
        )
        code, out, _ = await run_cli(capsys, "status", "--json")
        assert code == 0
        before = json.loads(out)
        assert before["agent_work"]["stats"]["successes"] == 0
        assert before["daemon"]["agent"] == "echo-agent"

        code, out, _ = await run_cli(
            capsys, "enqueue", "echo", "--payload", '{"text": "hi"}', "--key", "k1"
        )
        assert code == 0
        assert out.startswith("queued echo item ")
        code, out, _ = await run_cli(
            capsys, "enqueue", "echo", "--payload", '{"fail": true}', "--key", "k2"
        )
        assert code == 0

        assert daemon.manager is not None
        with trio.fail_after(60):  # generous: a loaded CI machine
            while daemon.manager.status().stats.finished < 2:
                await trio.sleep(0.02)
        code, out, _ = await run_cli(capsys, "status", "--json")
        after = json.loads(out)
        assert after["agent_work"]["stats"]["successes"] == 1
        assert after["agent_work"]["stats"]["failures"] == 1

        code, out, _ = await run_cli(capsys, "status")
        assert code == 0
        assert "echo-agent  ✓ available" in out
        # Both agent runs answered; one item then failed in the handler: counted apart.
        assert "2 finished: 1 completed, 1 failed" in out
        assert "2 runs: 2 ok, 0 failed" in out
        assert "the handler refused this item" in out

        code, out, err = await run_cli(capsys, "enqueue", "nope")
        assert code == 1
        assert err.strip() == ("ox-core: error: no handler for work type 'nope' (installed: echo)")

        code, out, _ = await run_cli(capsys, "detect")
        assert (code, out) == (0, "detection queued 0 items\n")

        # a shell with another runtime dir finds the daemon through the ledger's lock file
        runtime = os.environ["XDG_RUNTIME_DIR"]
        with tempfile.TemporaryDirectory(prefix="oxo") as other:
            monkeypatch.setenv("XDG_RUNTIME_DIR", other)
            code, out, _ = await run_cli(capsys, "status", "--json")
            assert code == 0
            assert json.loads(out)["daemon"]["pid"] == os.getpid()
            monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)

        code, out, _ = await run_cli(capsys, "doctor", "--json")
        report = json.loads(out)
        assert report["daemon"]["running"] is True
        assert report["daemon"]["pid"] == os.getpid()
        assert report["daemon"]["socket_mode"] == "0600"
        daemon.stop()


async def test_doctor_tells_what_the_running_daemon_holds_back(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("OX_AGENT_WORK__DISABLED_TYPES", '["echo"]')
    settings = load_settings()
    async with trio.open_nursery() as nursery:
        await nursery.start(
            lambda task_status: serve(
                settings, plugins=test_plugins(), handle_signals=False, task_status=task_status
            )
        )
        monkeypatch.setattr("ox_core.doctor.load_plugins", test_plugins)
        _, out, _ = await run_cli(capsys, "doctor", "--json")
        daemon = json.loads(out)["daemon"]
        assert daemon["running"] is True
        assert [(h["kind"], h["name"]) for h in daemon["holds"]] == [("disabled_type", "echo")]
        _, out, _ = await run_cli(capsys, "doctor")
        assert "type off echo  until the config changes" in out
        assert "turned off in the config (disabled_types)" in out
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize("args", [["plugins", "--json"], ["config", "--show"]])
def test_a_reader_that_went_away_ends_the_command_quietly(args: list[str]) -> None:
    """`ox-core ... | head -1`: the pipe's reader is gone before ox writes; the command ends
    with 141 (128 + SIGPIPE) and no traceback, like a shell tool."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before a byte is written
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "ox_core.cli", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 141
    assert proc.stderr == ""
