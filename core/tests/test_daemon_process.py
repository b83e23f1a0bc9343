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
from collections.abc import Callable, Iterator
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


# Deadlines are generous: CI is a loaded 2-core machine, and waiting is on a condition, so a
# long deadline costs nothing when things are fast.
READY_TIMEOUT = 60.0
EXIT_TIMEOUT = 60.0


def wait_ready(sock: Path, proc: subprocess.Popen[bytes], timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the daemon exited early"
        try:
            if call(sock, "status", timeout=2)["daemon"]["ready"]:
                return
        except Exception:
            time.sleep(0.02)
    raise AssertionError("the daemon did not answer in time")


def watch_status(env: dict[str, str], frames: int = 3) -> str:
    """Run `ox-core status --watch` on a pseudo-terminal until it has drawn `frames` screens,
    then press Ctrl-C and read on until it exits (its last frame must not block on a full
    terminal: under load the reader, not the clock, decides when it is done)."""
    import pty
    import select

    main, sub = pty.openpty()

    def drain(until: float, done: Callable[[], bool]) -> None:
        while not done() and time.monotonic() < until:
            ready, _, _ = select.select([main], [], [], 0.2)
            if ready:
                try:
                    out.extend(os.read(main, 65536))
                except OSError:  # EIO: the terminal's other side is closed (the CLI exited)
                    return

    out = bytearray()
    with subprocess.Popen(
        [sys.executable, "-m", "ox_core.cli", "status", "--watch", "--interval", "0.2"],
        env={**env, "TERM": "xterm", "COLUMNS": "100", "LINES": "40"},
        stdin=sub,
        stdout=sub,
        stderr=sub,
        start_new_session=True,
    ) as proc:
        os.close(sub)
        try:
            drain(time.monotonic() + READY_TIMEOUT, lambda: out.count(b"Queue") >= frames)
            assert out.count(b"Queue") >= frames, out.decode(errors="replace")
            proc.send_signal(signal.SIGINT)
            drain(time.monotonic() + EXIT_TIMEOUT, lambda: proc.poll() is not None)
            assert proc.wait(timeout=EXIT_TIMEOUT) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
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
    with spawn(env, "serve") as proc:
        try:
            wait_ready(sock, proc)
            started = time.monotonic()
            proc.send_signal(signum)
            _out, err = proc.communicate(timeout=EXIT_TIMEOUT)
            took = time.monotonic() - started
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err.decode()
    # Stopping is prompt (the grace period is 0.2 s); the bound leaves room for a loaded box.
    assert took < 15
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
    with spawn(env, "serve", "--log-format", "json") as first:
        try:
            wait_ready(sock, first)
            # a second daemon on the same ledger says who holds it and exits non-zero
            second = subprocess.run(
                [sys.executable, "-m", "ox_core.cli", "serve"],
                env=env,
                capture_output=True,
                text=True,
                timeout=READY_TIMEOUT,
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
                    timeout=READY_TIMEOUT,
                    cwd="/",
                )
                assert probe.stdout.strip() == "denied"
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(str(sock))

            # `status --watch` in a terminal redraws until Ctrl-C, then exits 0
            screen = watch_status(env)
            assert screen.count("Queue") >= 3, screen
            assert "Agent" in screen

            call(sock, "shutdown")
            _out, err = first.communicate(timeout=EXIT_TIMEOUT)
        finally:
            if first.poll() is None:
                first.kill()
    assert first.returncode == 0
    records = [json.loads(line) for line in err.decode().splitlines() if line.strip()]
    assert records, "no log lines"
    assert {"ts", "level", "logger", "msg"} <= set(records[0])
    messages = [r["msg"] for r in records]
    assert any(m.startswith("created the default ledger at ") for m in messages)
    assert any(m.startswith("ox-core ready") for m in messages)
    assert "shutdown requested over IPC" in messages
    assert not sock.exists()
