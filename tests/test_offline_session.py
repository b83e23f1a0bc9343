"""`ox-core session start|stop` with no daemon running: the recording is made in-process and
nothing the agent writes after `start` is lost; the next daemon finishes the job."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from ox_core.cli import main
from ox_core.daemon import Daemon, serve
from ox_core.plugins import load_plugins
from ox_core.settings import load_settings

DATA = Path(__file__).parent / "data"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for key in list(os.environ):
        if key.startswith(("OX_", "XDG_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_AUTHOR_NAME", "ox test")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "t@example.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "ox test")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "t@example.invalid")
    with tempfile.TemporaryDirectory(prefix="oxo") as runtime:
        monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
        yield tmp_path


def test_session_start_and_stop_without_a_daemon(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = (DATA / "claude_session.jsonl").read_bytes().splitlines(keepends=True)
    source = home / ".claude" / "projects" / "-work-demo" / "f04c7045.jsonl"
    source.parent.mkdir(parents=True)
    source.write_bytes(b"".join(lines[:4]))  # written before the recording: not captured

    argv = ["session", "start", "--adapter", "claude-code", "--file", str(source), "--json"]
    assert main([*argv, "--pid", str(os.getpid())]) == 0
    started = json.loads(capsys.readouterr().out)
    assert started["watching"] is False
    session_dir = Path(started["session_dir"])
    ledger = home / ".local" / "share" / "ox" / "ledger"
    assert session_dir.parent == ledger / ".ox" / "cache" / "sessions"
    marker = json.loads((session_dir / ".recording.json").read_text())
    assert marker["start_offset"] == source.stat().st_size
    assert marker["parent_pid"] == os.getpid()

    with open(source, "ab") as f:  # the agent goes on while no daemon runs
        f.write(b"".join(lines[4:]))

    assert main(["session", "stop", started["name"]]) == 0
    out = capsys.readouterr().out
    assert "it finalizes the session when it starts" in out
    assert not (session_dir / ".recording.json").exists()
    raw = [json.loads(line) for line in (session_dir / "raw.jsonl").read_text().splitlines()]
    entries = [r for r in raw if "_meta" not in r and r.get("type") != "footer"]
    texts = " ".join(e.get("content", "") for e in entries)
    assert entries  # what was appended after `start` was captured by `stop`
    assert "Please look at the failing test" not in texts  # written before `start`: not captured
    assert raw[-1]["type"] == "footer"


def test_offline_session_start_still_rejects_bad_input(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = home / "elsewhere.jsonl"
    outside.write_text("")
    assert main(["session", "start", "--adapter", "claude-code", "--file", str(outside)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("ox-core: error:")
    assert not list((home / ".local/share/ox/ledger/.ox/cache/sessions").glob("*"))


async def test_session_against_a_daemon_without_capture_is_one_clear_line(
    home: Path, capsys: pytest.CaptureFixture[str]
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
        # One error line; a note before it (the daemon did not answer at once under load, so
        # the request was tried here too) is no second error.
        lines = err.splitlines()
        errors = [line for line in lines if line.startswith("ox-core: error:")]
        assert len(errors) == 1, err
        assert all(x in errors or x.startswith("ox-core: note:") for x in lines), err
        [line] = errors
        assert line.startswith("ox-core: error: the running daemon serves no IPC method ")
        assert "session_watch_stop" in line
        daemon.stop()
