"""Session capture as a plugin of ox-core: its handler, adapters and command come from its
own distribution through the core loader, and its command fails clearly where the daemon
lacks it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from ox_core.cli import main
from ox_core.daemon import Daemon, serve
from ox_core.doctor import plugins_report
from ox_core.plugins import load_plugins
from ox_core.settings import load_settings
from ox_session_capture.adapters import load_adapter
from ox_session_capture.handler import SessionCaptureHandler


def test_plugins_lists_the_handler_the_adapters_and_the_command() -> None:
    loaded = load_plugins()
    rows = {(r["group"], r["name"]): r for r in plugins_report(loaded)}
    for key in (
        ("ox.handlers", "session-capture"),
        ("ox.adapters", "claude-code"),
        ("ox.adapters", "codex"),
        ("ox.adapters", "gemini"),
        ("ox.commands", "session"),
    ):
        assert rows[key]["distribution"] == "ox-session-capture"
        assert rows[key]["error"] is None
    assert loaded.handlers["session-capture"] is SessionCaptureHandler
    assert sorted(loaded.adapters) == ["claude-code", "codex", "gemini"]
    assert type(load_adapter("claude")) is loaded.adapters["claude-code"]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for key in list(os.environ):
        if key.startswith(("OX_", "XDG_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(tmp_path))
    with tempfile.TemporaryDirectory(prefix="oxc") as runtime:
        monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
        yield tmp_path


async def test_session_against_a_daemon_without_capture_is_one_clear_line(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings()
    async with trio.open_nursery() as nursery:
        daemon: Daemon = await nursery.start(
            lambda task_status: serve(
                settings,
                plugins=load_plugins(entry_points=False),
                handle_signals=False,
                task_status=task_status,
            )
        )
        code = await trio.to_thread.run_sync(main, ["session", "stop", "2026-11-24T00-38-dev-a1"])
        _out, err = capsys.readouterr()
        assert code == 1
        [line] = err.splitlines()
        assert line.startswith("ox-core: error: the running daemon serves no IPC method ")
        assert "session_watch_stop" in line
        daemon.stop()
