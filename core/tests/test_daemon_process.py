"""`ox-core serve` as a real process: readiness, signals, one daemon per ledger, JSON logs."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ox_core.ipc import call
from ox_core.settings import load_settings


def daemon_env(home: Path, runtime: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
    env.update(HOME=str(home), XDG_RUNTIME_DIR=runtime, PYTHONUNBUFFERED="1")
    # no agent CLI on PATH: the runners find nothing and the daemon runs with agent `none`
    env["PATH"] = "/usr/bin:/bin"
    return env


def socket_of(home: Path, env: dict[str, str]) -> Path:
    import unittest.mock

    with unittest.mock.patch.dict(os.environ, env, clear=True):
        return load_settings().socket_path()


def wait_ready(sock: Path, proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the daemon exited early"
        try:
            if call(sock, "status", timeout=2)["daemon"]["ready"]:
                return
        except Exception:
            time.sleep(0.02)
    raise AssertionError("the daemon did not answer in time")


def watch_status(env: dict[str, str]) -> str:
    """Run `ox-core status --watch` on a pseudo-terminal for a while, then press Ctrl-C."""
    import pty
    import select

    main, sub = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ox_core.cli", "status", "--watch", "--interval", "0.2"],
        env={**env, "TERM": "xterm", "COLUMNS": "100", "LINES": "40"},
        stdin=sub,
        stdout=sub,
        stderr=sub,
        start_new_session=True,
    )
    os.close(sub)
    out = bytearray()
    deadline = time.monotonic() + 30
    try:
        while out.count(b"Agent") < 3 and time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.5)
            if ready:
                out += os.read(main, 65536)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()
        os.close(main)
    return out.decode(errors="replace")


@pytest.fixture
def home(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    with tempfile.TemporaryDirectory(prefix="oxp") as runtime:
        yield tmp_path, daemon_env(tmp_path, runtime)


def spawn(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "ox_core.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signal_stops_the_daemon_cleanly(home: tuple[Path, dict[str, str]], signum: int) -> None:
    path, env = home
    sock = socket_of(path, env)
    proc = spawn(env, "serve")
    try:
        wait_ready(sock, proc)
        started = time.monotonic()
        proc.send_signal(signum)
        _out, err = proc.communicate(timeout=10)
        took = time.monotonic() - started
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, err.decode()
    assert took < 5
    text = err.decode()
    assert "ox-core ready" in text
    assert f"{signal.Signals(signum).name}: stopping" in text
    assert "ox-core stopped" in text
    assert not sock.exists()


def test_one_daemon_per_ledger_json_logs_and_a_private_socket(
    home: tuple[Path, dict[str, str]],
) -> None:
    path, env = home
    sock = socket_of(path, env)
    first = spawn(env, "serve", "--log-format", "json")
    try:
        wait_ready(sock, first)
        # a second daemon on the same ledger says who holds it and exits non-zero
        second = subprocess.run(
            [sys.executable, "-m", "ox_core.cli", "serve"],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode == 1
        lines = second.stderr.strip().splitlines()
        assert lines[-1] == (
            f"ox-core: error: another ox-core daemon (pid {first.pid}) already serves the "
            f"ledger {path / '.local' / 'share' / 'ox' / 'ledger'}"
        )
        assert "Traceback" not in second.stderr
        assert call(sock, "ping")["pid"] == first.pid  # still the first one's socket

        # the socket: the owner connects, another user is refused by the kernel
        assert oct(sock.stat().st_mode & 0o777) == oct(0o600)
        assert oct(sock.parent.stat().st_mode & 0o777) == oct(0o700)
        if os.geteuid() == 0:
            probe = subprocess.run(
                [
                    "/usr/bin/python3",
                    "-c",
                    "import socket,sys\ns=socket.socket(socket.AF_UNIX)\n"
                    "try:\n s.connect(sys.argv[1]); print('connected')\n"
                    "except PermissionError: print('denied')",
                    str(sock),
                ],
                user=65534,
                group=65534,
                capture_output=True,
                text=True,
                timeout=30,
                cwd="/",
            )
            assert probe.stdout.strip() == "denied"
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(sock))

        # `status --watch` in a terminal redraws until Ctrl-C, then exits 0
        screen = watch_status(env)
        assert screen.count("Agent") >= 2, screen
        assert "Queue" in screen

        call(sock, "shutdown")
        _out, err = first.communicate(timeout=10)
    finally:
        first.kill()
        first.wait()
    assert first.returncode == 0
    records = [json.loads(line) for line in err.decode().splitlines() if line.strip()]
    assert records, "no log lines"
    assert {"ts", "level", "logger", "msg"} <= set(records[0])
    messages = [r["msg"] for r in records]
    assert any(m.startswith("created the default ledger at ") for m in messages)
    assert any(m.startswith("ox-core ready") for m in messages)
    assert "shutdown requested over IPC" in messages
    assert not sock.exists()
