"""Agent hooks: installing them into the agents' settings, and `ox-core hook` itself (as a
real subprocess, with no daemon: the recording is made in that process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ox_core.errors import OxError
from ox_core.testing import make_ledger
from ox_session_capture import hooks_install
from ox_session_capture.hooks_install import HooksError, claude_code, codex, gemini
from ox_session_capture.records import RAW, ledger_cache_sessions, read_marker
from ox_session_capture.testing import append, claude_session_file, claude_text, numbered_user

USER_SETTINGS = (
    b'{\n    "model": "opus",\n    "hooks": {\n        "SessionStart": [\n'
    b'            {"matcher": "startup", "hooks": [{"type": "command", "command": "echo mine"}]}\n'
    b'        ],\n        "Stop": [{"hooks": [{"type": "command", "command": "notify-send x"}]}]\n'
    b'    },\n    "\xc3\xa9t\xc3\xa9": true\n}'
)


@pytest.mark.parametrize("agent", [claude_code, codex, gemini], ids=lambda a: a.adapter)
def test_install_twice_then_uninstall_leaves_the_settings_byte_identical(
    tmp_path: Path, agent: hooks_install.AgentHooks
) -> None:
    path = agent.path(home=tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(USER_SETTINGS)
    os.chmod(path, 0o644)
    first = hooks_install.install(agent, path, ox="/opt/ox/bin/ox-core")
    after_first = path.read_bytes()
    second = hooks_install.install(agent, path, ox="/opt/ox/bin/ox-core")
    assert (first.changed, second.changed) == (True, False)
    assert path.read_bytes() == after_first  # idempotent: not rewritten
    data = json.loads(after_first)
    assert data["hooks"]["Stop"] == json.loads(USER_SETTINGS)["hooks"]["Stop"]  # user's kept
    starts = data["hooks"]["SessionStart"]
    assert starts[0]["hooks"][0]["command"] == "echo mine"
    assert (
        starts[1]["hooks"][0]["command"] == f"/opt/ox/bin/ox-core hook {agent.adapter} SessionStart"
    )
    assert hooks_install.status(agent, path)["installed"] is True
    assert Path(f"{path}.ox-backup").read_bytes() == USER_SETTINGS
    removed = hooks_install.uninstall(agent, path)
    assert removed.changed
    assert path.read_bytes() == USER_SETTINGS
    assert os.stat(path).st_mode & 0o777 == 0o644
    assert not Path(f"{path}.ox-backup").exists()
    assert hooks_install.status(agent, path)["installed"] is False


def test_a_file_ox_created_is_removed_again(tmp_path: Path) -> None:
    path = claude_code.path(home=tmp_path)
    hooks_install.install(claude_code, path, ox="ox-core")
    assert json.loads(path.read_text())["hooks"]["SessionEnd"]
    hooks_install.uninstall(claude_code, path)
    assert not path.exists()


def test_uninstall_after_user_edits_removes_only_oxs_entries(tmp_path: Path) -> None:
    path = gemini.path(home=tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(USER_SETTINGS)
    hooks_install.install(gemini, path, ox="ox-core")
    data = json.loads(path.read_text())
    data["theme"] = "dark"  # the user changed something since
    path.write_text(json.dumps(data))
    hooks_install.uninstall(gemini, path)
    expected = json.loads(USER_SETTINGS)
    expected["theme"] = "dark"
    assert json.loads(path.read_text()) == expected


@pytest.mark.parametrize(
    "content", [b"[1, 2]", b"{not json", b'{"hooks": []}', b'{"hooks": {"SessionStart": {}}}']
)
def test_a_settings_file_ox_cannot_merge_into_is_left_alone(tmp_path: Path, content: bytes) -> None:
    path = claude_code.path(home=tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with pytest.raises(HooksError):
        hooks_install.install(claude_code, path, ox="ox-core")
    assert path.read_bytes() == content
    assert not Path(f"{path}.ox-backup").exists()


def test_a_settings_file_nested_beyond_reason_is_one_clear_error(tmp_path: Path) -> None:
    """JSON nested deeper than Python's recursion limit is refused like any settings file ox
    cannot merge into (`hooks install` and `status` say why), never a traceback."""
    path = claude_code.path(home=tmp_path)
    path.parent.mkdir(parents=True)
    content = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    path.write_bytes(content)
    assert "nested" in hooks_install.status(claude_code, path)["error"]
    for action in (hooks_install.install, hooks_install.uninstall):
        with pytest.raises(HooksError, match="nested"):
            action(claude_code, path)
    assert path.read_bytes() == content
    assert not Path(f"{path}.ox-backup").exists()


def test_a_settings_file_that_is_a_link_or_a_fifo_is_refused(tmp_path: Path) -> None:
    path = claude_code.path(home=tmp_path)
    path.parent.mkdir(parents=True)
    target = tmp_path / "elsewhere.json"
    target.write_text("{}")
    path.symlink_to(target)
    with pytest.raises(HooksError):
        hooks_install.install(claude_code, path, ox="ox-core")
    assert target.read_text() == "{}"
    path.unlink()
    os.mkfifo(path)
    assert hooks_install.status(claude_code, path)["error"]  # by its type, without blocking
    with pytest.raises(HooksError):
        hooks_install.install(claude_code, path)


def test_a_project_whose_agent_folder_is_a_dangling_link_is_one_clear_error(
    tmp_path: Path,
) -> None:
    """A cloned project may hold `.claude` as a link to nowhere: `hooks install --project`
    says it cannot write there (a `HooksError`), never a traceback, and creates nothing."""
    project = tmp_path / "project"
    project.mkdir()
    (project / ".claude").symlink_to(tmp_path / "nowhere" / "deeper")
    path = claude_code.path(project=project)
    with pytest.raises(HooksError, match="cannot write"):
        hooks_install.install(claude_code, path, ox="ox-core")
    assert not (tmp_path / "nowhere").exists()
    assert (project / ".claude").is_symlink()


# ------------------------------------------------------------------ the hook command


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    return make_ledger(tmp_path / "ledger").path


def hook(
    home: Path, ledger: Path, adapter: str, event: str, stdin: bytes, **env: str
) -> subprocess.CompletedProcess[bytes]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
    environ.update(HOME=str(home), OX_LEDGER=str(ledger), XDG_RUNTIME_DIR=str(home / "run"), **env)
    (home / "run").mkdir(mode=0o700, exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "ox_core.cli", "hook", adapter, event],
        input=stdin, env=environ, capture_output=True, timeout=60,
    )  # fmt: skip


def payload(
    src: Path, source: str = "startup", sid: str = "f04c7045-b614-40b5-816d-7256c84b37f6"
) -> bytes:
    return json.dumps(
        {"session_id": sid, "transcript_path": str(src), "cwd": "/", "source": source}
    ).encode()


def hooks_log(home: Path) -> list[str]:
    log = home / ".local" / "state" / "ox" / "hooks.log"
    return log.read_text().splitlines() if log.exists() else []


def test_without_a_daemon_a_new_session_is_recorded_from_its_first_byte(
    ledger: Path, home: Path
) -> None:
    src = claude_session_file(home)
    src.unlink()  # the agent has not written its file yet
    started = hook(home, ledger, "claude-code", "SessionStart", payload(src))
    assert (started.returncode, started.stdout) == (0, b"")
    (folder,) = ledger_cache_sessions(ledger).iterdir()
    marker = read_marker(folder)
    assert (marker.start_offset, marker.agent_session_id) == (
        0,
        "f04c7045-b614-40b5-816d-7256c84b37f6",
    )
    append(src, numbered_user(1) + claude_text("a1", "first answer"))
    ended = hook(home, ledger, "claude-code", "SessionEnd", payload(src))
    assert ended.returncode == 0
    assert not (folder / ".recording.json").exists()
    raw = (folder / RAW).read_text()
    assert "first answer" in raw
    assert hooks_log(home) == []


def test_disabled_recording_does_nothing(ledger: Path, home: Path) -> None:
    result = hook(home, ledger, "claude-code", "SessionStart", payload(claude_session_file(home)),
                  OX_SESSION_RECORDING="disabled")  # fmt: skip
    assert result.returncode == 0
    assert not ledger_cache_sessions(ledger).exists()
    assert hooks_log(home) == []


@pytest.mark.parametrize(
    ("stdin", "why"),
    [
        (b"", "not JSON"),
        (b"\xff\xfe garbage", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"session_id": "x y", "transcript_path": "/a"}', "spaces or control"),
        (
            b'{"session_id": "s", "transcript_path": "relative/file.jsonl"}',
            "absolute transcript_path",
        ),
        (b'{"session_id": "s", "transcript_path": "/etc/passwd"}', "not under the claude-code"),
        (b'{"session_id": 7, "transcript_path": "/a"}', "no usable session_id"),
        (b"{" + b" " * (1024 * 1024 + 10) + b"}", "over 1048576 bytes"),
    ],
)
def test_hostile_hook_input_exits_0_and_logs_one_line(
    ledger: Path, home: Path, stdin: bytes, why: str
) -> None:
    result = hook(home, ledger, "claude-code", "SessionStart", stdin)
    assert result.returncode == 0
    assert result.stderr == b""
    (line,) = hooks_log(home)
    assert why in line
    assert "hook claude-code SessionStart" in line
    assert not ledger_cache_sessions(ledger).exists() or not list(
        ledger_cache_sessions(ledger).iterdir()
    )


def test_an_unknown_adapter_or_event(ledger: Path, home: Path) -> None:
    src = claude_session_file(home)
    assert hook(home, ledger, "claude-code", "PreToolUse", payload(src)).returncode == 0
    assert hooks_log(home) == []  # events ox does not use are ignored quietly
    assert hook(home, ledger, "../etc", "SessionStart", payload(src)).returncode == 0
    assert "invalid adapter name" in hooks_log(home)[-1]
    assert hook(home, ledger, "nope", "SessionStart", payload(src)).returncode == 0
    assert "nope" in hooks_log(home)[-1]


async def test_status_and_doctor_show_the_hooks(ledger: Path, home: Path) -> None:
    from ox_session_capture.handler import SessionCaptureHandler

    handler = SessionCaptureHandler(home=home)
    assert handler.doctor_checks() == []  # no agent installed for this user
    (home / ".claude").mkdir()
    (home / ".gemini").mkdir()
    runnable = str(Path(sys.executable).parent / "ox-core")  # a bare one: not on pytest's PATH
    hooks_install.install(claude_code, claude_code.path(home=home), ox=runnable)
    checks = {c["check"]: (c["ok"], c["detail"]) for c in handler.doctor_checks()}
    assert checks == {
        "claude-code hooks": (True, "in place"),
        "gemini hooks": (False, "not installed: `ox-core hooks install`"),
    }
    assert await handler.detect(ledger) == []
    hook(home, ledger, "claude-code", "SessionStart", b"not json")
    with pytest.raises(OxError, match=r"agent hooks: 1 problem\(s\) in the last hour, the last: "):
        await handler.detect(ledger)


def test_hooks_commands_take_the_agent_names_users_type(home: Path, tmp_path: Path) -> None:
    """`--agent claude` is claude-code (as for `session start --adapter`); an unknown name is
    one line naming the installed ones; the user's own settings survive install + uninstall."""
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True)
    original = b'{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "echo mine"}]}]}}\n'
    settings.write_bytes(original)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
    environ["HOME"] = str(home)

    def ox(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ox_core.cli", "hooks", *argv],
            env=environ, capture_output=True, text=True, timeout=60, cwd=tmp_path,
        )  # fmt: skip

    assert ox("install", "--agent", "claude").returncode == 0
    assert "SessionStart" in settings.read_text()
    status = ox("status", "--agent", "claude")
    assert status.returncode == 0
    assert "claude-code: installed" in status.stdout, status.stdout
    bad = ox("install", "--agent", "cursor")
    assert bad.returncode != 0
    assert bad.stderr.strip().splitlines() == [
        "ox-core: error: no hooks for agent 'cursor' (installed: claude-code, codex, gemini)"
    ]
    assert ox("uninstall", "--agent", "claude").returncode == 0
    assert settings.read_bytes() == original


def test_session_start_says_where_it_records_from(ledger: Path, home: Path) -> None:
    src = claude_session_file(home)
    append(src, numbered_user(1))
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
    environ.update(HOME=str(home), OX_LEDGER=str(ledger), XDG_RUNTIME_DIR=str(home / "run"))
    (home / "run").mkdir(mode=0o700, exist_ok=True)

    def start(*more: str, **env: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "ox_core.cli", "session", "start", "--adapter",
             "claude-code", "--file", str(src), *more],
            env={**environ, **env}, capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        return out.stdout

    size = src.stat().st_size
    assert f"recording from byte {size}" in start()
    assert "it was already recording this file" in start()
    for folder in ledger_cache_sessions(ledger).iterdir():
        (folder / ".recording.json").unlink()
    assert "recording from the file's first byte" in start("--from-start")
    assert "not recording: OX_SESSION_RECORDING=disabled" in start(OX_SESSION_RECORDING="disabled")


def test_the_problem_log_is_never_written_through_a_fifo_or_a_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`hooks.log` sits in the user's state folder; a FIFO (with a reader waiting) or a link
    put there is refused, and the hook still returns at once."""
    from ox_session_capture.hook import log_path, note_problem

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path = log_path()
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        note_problem(["claude-code", "SessionStart"], "something went wrong")
        assert os.read(reader, 100) == b""  # no writer ever: nothing went into the FIFO
    finally:
        os.close(reader)
    path.unlink()
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    path.symlink_to(victim)
    note_problem(["claude-code", "SessionStart"], "something went wrong")
    assert victim.read_text() == "precious\n"
    path.unlink()
    note_problem(["claude-code", "SessionStart"], "something went wrong")
    assert "something went wrong" in path.read_text()


def test_hook_input_nested_beyond_reason_is_a_problem_noted_not_a_crash() -> None:
    from ox_session_capture.hook import HookProblem, hook_params

    deep = b'{"session_id": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    with pytest.raises(HookProblem, match="not JSON"):
        hook_params("claude-code", "SessionStart", deep, 1)


def test_uninstall_beside_a_backup_nested_beyond_reason_keeps_the_users_settings(
    tmp_path: Path,
) -> None:
    """The backup is compared with what uninstalling leaves: one ox did not write as it is
    (nested beyond Python's recursion limit) is not the same, and the user's file stays."""
    path = claude_code.path(home=tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text('{"model": "mine"}')
    hooks_install.install(claude_code, path, ox="ox-core")
    Path(f"{path}.ox-backup").write_bytes(b"[" * 5000 + b"]" * 5000)
    change = hooks_install.uninstall(claude_code, path)
    assert (change.changed, change.detail) == (True, "removed")
    assert json.loads(path.read_text()) == {"model": "mine"}


class FakeDaemon:
    """A listener on a private socket (the user's own, as the client checks) that takes the
    request line of each connection and answers as `mode` says: `starting` (the daemon is not
    up yet), `refused` (an error that stands), `silent` (closes without answering: stopping)."""

    def __init__(self, path: Path, mode: str) -> None:
        import socket
        import threading

        from ox_core.sockets import bind_private_socket

        self.mode = mode
        self.requests = 0
        self.sock = bind_private_socket(path)
        self.sock.setblocking(True)
        self.sock.settimeout(None)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        self._socket = socket

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed: the test is over
            with conn:
                data = b""
                while not data.endswith(b"\n"):
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                self.requests += 1
                if self.mode == "starting":
                    conn.sendall(b'{"ok": false, "error": "starting", "code": "starting"}\n')
                elif self.mode == "refused":
                    conn.sendall(b'{"ok": false, "error": "not now", "code": "refused"}\n')

    def close(self) -> None:
        self.sock.shutdown(self._socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(timeout=60)


def start_against(
    daemon_class: type[FakeDaemon], home: Path, ledger: Path, mode: str
) -> tuple[subprocess.CompletedProcess[bytes], FakeDaemon]:
    """A SessionStart hook run while a `FakeDaemon` in `mode` holds the socket."""
    path = home / "sock" / "daemon.sock"
    daemon = daemon_class(path, mode)
    try:
        src = claude_session_file(home)
        started = hook(home, ledger, "claude-code", "SessionStart", payload(src),
                       OX_SOCKET=str(path))  # fmt: skip
    finally:
        daemon.close()
    return started, daemon


@pytest.mark.parametrize("mode", ["starting", "silent"])
def test_a_start_the_daemon_cannot_take_now_is_recorded_all_the_same(
    ledger: Path, home: Path, mode: str
) -> None:
    """The hook runs while the daemon starts (it answers `starting`) or stops (it closes the
    connection without an answer). The agent never runs the hook again: the session is
    recorded in the hook's own process, and the daemon follows it once it is up."""
    started, daemon = start_against(FakeDaemon, home, ledger, mode)
    assert started.returncode == 0
    assert daemon.requests == 2  # the start, then once more for the daemon to follow it
    (folder,) = ledger_cache_sessions(ledger).iterdir()
    assert read_marker(folder).agent_session_id == "f04c7045-b614-40b5-816d-7256c84b37f6"
    noted = hooks_log(home)
    if mode == "starting":
        assert noted == []  # nothing went wrong: the daemon said to go on without it
    else:
        assert any("recorded without it" in line for line in noted)


def test_a_refusal_by_the_daemon_stands(ledger: Path, home: Path) -> None:
    started, daemon = start_against(FakeDaemon, home, ledger, "refused")
    assert started.returncode == 0  # a hook never fails the agent
    assert daemon.requests == 1  # not done here, so not offered again
    assert not ledger_cache_sessions(ledger).exists()
    assert any("not now" in line for line in hooks_log(home))


@pytest.mark.parametrize("code", ["starting", "busy"])
async def test_a_start_recorded_without_the_daemon_is_followed_by_it_at_once(
    ledger: Path, home: Path, nursery: Any, code: str
) -> None:
    """The daemon cannot take the start hook (`starting`: its plugins are not attached yet;
    `busy`) and is up by the time the hook recorded in its own process: its start-up scan of
    the live recordings ran before that recording existed. The daemon follows it when the hook
    ends, not only at its next doctor tick (60 s), which would leave the lines in between
    uncaptured and the daemon unaware of the part meanwhile."""
    import trio

    from ox_core.ipc import IpcServer
    from ox_session_capture.service import SessionWatchService

    service = SessionWatchService(ledger, home=home, poll_interval=0.02)
    await nursery.start(service.serve)
    refused = 0

    async def session_hook(params: dict[str, Any]) -> Any:
        nonlocal refused
        if not refused:  # the first call only: as the daemon answered while it started
            refused += 1
            raise OxError("not now", code=code)
        return await service.session_hook(params)

    path = home / "sock" / "daemon.sock"
    await nursery.start(IpcServer({"session_hook": session_hook}).serve, path)
    src = claude_session_file(home)
    started = await trio.to_thread.run_sync(
        lambda: hook(home, ledger, "claude-code", "SessionStart", payload(src), OX_SOCKET=str(path))
    )
    assert started.returncode == 0
    assert refused == 1
    (folder,) = ledger_cache_sessions(ledger).iterdir()
    assert service.manager.active_sessions() == [folder.name]
    await service.manager.stop_all()


async def test_a_start_refused_by_a_stopping_daemon_is_recorded_by_the_hook(
    ledger: Path, home: Path, nursery: Any
) -> None:
    """A daemon that is shutting down (SIGTERM, its work draining) refuses the hook with
    `shutting_down`: what it would start there would not survive its exit. The hook records
    the session in its own process, as when the daemon is starting or gone, and notes no
    problem. The IPC server is the daemon's, in the state the daemon's is in once stopping."""
    import trio

    from ox_core.daemon import READ_ONLY_METHODS
    from ox_core.ipc import IpcServer
    from ox_session_capture.service import SessionWatchService

    service = SessionWatchService(ledger, home=home, poll_interval=0.02)
    await nursery.start(service.serve)
    served = 0

    async def session_hook(params: dict[str, Any]) -> Any:
        nonlocal served
        served += 1
        return await service.session_hook(params)

    path = home / "sock" / "daemon.sock"
    server = IpcServer(
        {"session_hook": session_hook}, stopping=lambda: True, read_only=READ_ONLY_METHODS
    )
    await nursery.start(server.serve, path)
    src = claude_session_file(home)
    started = await trio.to_thread.run_sync(
        lambda: hook(home, ledger, "claude-code", "SessionStart", payload(src), OX_SOCKET=str(path))
    )
    assert started.returncode == 0
    assert served == 0  # refused before the daemon did anything
    (folder,) = ledger_cache_sessions(ledger).iterdir()
    assert read_marker(folder).agent_session_id == "f04c7045-b614-40b5-816d-7256c84b37f6"
    assert hooks_log(home) == []
    assert service.manager.active_sessions() == []  # the stopping daemon follows nothing


def test_a_problem_logged_is_one_line_with_no_terminal_escape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What an agent sent ends up in the problem's message; `ox-core status` prints these
    lines on a terminal, so one problem is one line and an escape is shown, not obeyed."""
    from ox_session_capture.hook import log_path, note_problem, recent_problems

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    forged = "2026-12-03T10:00:00Z hook claude-code SessionEnd: recorded"
    argv = ["claude-code\n" + forged, "SessionStart"]
    note_problem(argv, f"bad id\r\n{forged}\x1b]52;c;eA==\x07")
    (line,) = log_path().read_text().splitlines()
    assert line.endswith("bad id 2026-12-03T10:00:00Z hook claude-code SessionEnd: "
                         "recorded\\x1b]52;c;eA==\\x07")  # fmt: skip
    assert "\x1b" not in line
    assert "\x07" not in line
    assert recent_problems() == [line]
