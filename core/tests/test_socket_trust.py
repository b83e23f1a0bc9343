"""Only the user's own daemon answers the CLI: runtime dir, socket file and peer checked.

End to end: real `ox-core serve` and `ox-core status` processes, and fake daemons run as
another user (uid 65534, via the system python: the venv under /root is closed to them) that
record every byte they receive. Each attack must end in a clear one-line error, with nothing
sent to the impostor and nothing of the user's changed.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ox_core.errors import OxError
from ox_core.ipc import UntrustedSocketError, call
from ox_core.settings import runtime_dir
from ox_core.sockets import connect_private_socket

NOBODY = 65534
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin") or "/usr/bin/python3"
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")

# A fake daemon: binds (as whoever starts it), optionally drops to uid 65534 before listening
# (SO_PEERCRED records the listener's credentials at listen()), answers one fake status and
# prints what it received, as repr, on stdout.
FAKE_DAEMON = textwrap.dedent(
    """
    import os, socket, sys
    path, drop = sys.argv[1], sys.argv[2] == "drop"
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    os.chmod(path, 0o777)
    if drop:
        os.setgid(65534); os.setuid(65534)
    s.listen(5)
    print("listening", flush=True)
    s.settimeout(20)
    conn, _ = s.accept()
    conn.settimeout(3)
    got = b""
    try:
        while b"\\n" not in got:
            chunk = conn.recv(65536)
            if not chunk:
                break
            got += chunk
    except OSError:
        pass
    try:
        conn.sendall(b'{"ok": true, "result": {"daemon": {"agent": "attacker"}}, "id": 1}\\n')
    except OSError:
        pass
    print(repr(got), flush=True)
    """
)


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
    env.update(HOME=str(home), PATH="/usr/bin:/bin", PYTHONUNBUFFERED="1", **extra)
    return env


def ox(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ox_core.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd="/",
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    # `serve` may log a line or two first (its log goes to stderr); the error is one line
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("ox-core: error: "), result.stderr
    assert sum(line.startswith("ox-core: error: ") for line in lines) == 1
    return lines[-1]


class FakeDaemon:
    def __init__(self, path: Path, *, user: int | None, drop: bool = False) -> None:
        self.proc = subprocess.Popen(
            [SYSTEM_PYTHON, "-c", FAKE_DAEMON, str(path), "drop" if drop else "stay"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            user=user,
            group=user,
            cwd="/",
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline().strip()
        assert first == "listening", self.proc.stderr.read() if self.proc.stderr else ""

    def received(self) -> bytes:
        out, _ = self.proc.communicate(timeout=30)
        import ast

        return bytes(ast.literal_eval(out.strip() or "b''"))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()


@pytest.fixture
def home() -> Iterator[Path]:
    # Short, readable by others (the fake daemons of uid 65534 live in it).
    with tempfile.TemporaryDirectory(prefix="oxs") as d:
        os.chmod(d, 0o755)
        yield Path(d)


@as_root
def test_a_socket_in_another_users_directory_gets_nothing(home: Path) -> None:
    """The old attack: without XDG_RUNTIME_DIR, another user squats the socket directory."""
    squat = home / "squat"
    squat.mkdir()
    os.chown(squat, NOBODY, NOBODY)
    sock = squat / "ox.sock"
    fake = FakeDaemon(sock, user=NOBODY)
    try:
        result = ox(env_for(home, OX_SOCKET=str(sock)), "status")
        line = one_error_line(result)
        assert "belongs to another user (uid 65534)" in line
        assert "attacker" not in result.stdout + result.stderr
        # the impostor is still waiting in accept(): the CLI never even connected
        assert fake.proc.poll() is None
    finally:
        fake.close()


@as_root
def test_a_listener_of_another_uid_behind_our_own_socket_file_gets_nothing(home: Path) -> None:
    """Directory and socket file are ours, but the listening process runs as another user:
    only SO_PEERCRED tells, and the CLI hangs up before sending a byte."""
    rundir = home / "run"
    rundir.mkdir(mode=0o700)
    sock = rundir / "ox.sock"
    fake = FakeDaemon(sock, user=None, drop=True)
    try:
        st = sock.stat()
        assert st.st_uid == os.getuid()  # the file really is ours
        os.chmod(sock, 0o600)
        result = ox(env_for(home, OX_SOCKET=str(sock)), "status")
        line = one_error_line(result)
        assert f"(pid {fake.proc.pid}) runs as uid 65534, not as you" in line
        assert "attacker" not in result.stdout
        assert fake.received() == b""
    finally:
        fake.close()


def test_without_xdg_runtime_dir_the_socket_is_under_the_users_state_dir(home: Path) -> None:
    env = env_for(home)
    path = subprocess.run(
        [sys.executable, "-c", "from ox_core.settings import runtime_dir; print(runtime_dir())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert path == str(home / ".local" / "state" / "ox" / "run")
    env["XDG_STATE_HOME"] = str(home / "state")
    env["XDG_RUNTIME_DIR"] = "/tmp"  # world-writable: ignored, never trusted
    path = subprocess.run(
        [sys.executable, "-c", "from ox_core.settings import runtime_dir; print(runtime_dir())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert path == str(home / "state" / "ox" / "run")


def test_runtime_dir_ignores_an_xdg_runtime_dir_that_is_not_private(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in list(os.environ):
        if key.startswith("XDG_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(home))
    fallback = home / ".local" / "state" / "ox" / "run"
    mine = home / "xdg"
    mine.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(mine))
    assert runtime_dir() == mine / "ox"
    os.chmod(mine, 0o777)
    assert runtime_dir() == fallback
    os.chmod(mine, 0o700)
    if os.geteuid() == 0:
        os.chown(mine, NOBODY, NOBODY)
        assert runtime_dir() == fallback
    monkeypatch.setenv("XDG_RUNTIME_DIR", "relative/dir")
    assert runtime_dir() == fallback


SOCKET_OF = "from ox_core.settings import load_settings as s; print(s().socket_path())"


def serve_env(home: Path) -> tuple[dict[str, str], Path]:
    xdg = home / "xdg"
    xdg.mkdir(mode=0o700, exist_ok=True)
    return env_for(home, XDG_RUNTIME_DIR=str(xdg)), xdg / "ox"


def test_a_symlinked_runtime_dir_is_refused_and_not_chmodded(home: Path) -> None:
    env, rundir = serve_env(home)
    victim = home / "documents"
    victim.mkdir(mode=0o755)
    os.chmod(victim, 0o755)
    rundir.symlink_to(victim)
    result = ox(env, "serve")
    line = one_error_line(result)
    assert f"the socket directory {rundir} is a symbolic link" in line
    assert stat.S_IMODE(victim.stat().st_mode) == 0o755
    assert list(victim.iterdir()) == []
    # the CLI refuses it the same way, and doctor reports it as a problem
    status = one_error_line(ox(env, "status"))
    assert "is a symbolic link" in status
    doctor = ox(env, "doctor")
    assert doctor.returncode == 1
    assert f"the socket directory {rundir} is a symbolic link" in " ".join(doctor.stdout.split())


def test_a_runtime_dir_writable_by_others_is_refused(home: Path) -> None:
    env, rundir = serve_env(home)
    rundir.mkdir()
    os.chmod(rundir, 0o777)
    line = one_error_line(ox(env, "serve"))
    assert "is writable by other users (mode 0777)" in line
    assert stat.S_IMODE(rundir.stat().st_mode) == 0o777  # reported, not silently reused


def test_a_socket_path_that_is_a_symlink_to_another_socket_is_refused(home: Path) -> None:
    env, rundir = serve_env(home)
    rundir.mkdir(mode=0o700)
    other = home / "other.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(other))
    listener.listen()
    try:
        sock_path = Path(
            subprocess.run(
                [sys.executable, "-c", SOCKET_OF],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
        sock_path.symlink_to(other)
        status = one_error_line(ox(env, "status"))
        assert "is a symbolic link, not the daemon's socket" in status
        serve = one_error_line(ox(env, "serve"))
        assert "exists and is not a socket (a symbolic link)" in serve
        assert sock_path.is_symlink()
    finally:
        listener.close()


def test_a_lock_file_that_is_a_symlink_is_refused_and_its_target_untouched(home: Path) -> None:
    env, _rundir = serve_env(home)
    ledger = home / ".local" / "share" / "ox" / "ledger"
    # first start creates the default ledger; stop it at once
    proc = subprocess.Popen(
        [sys.executable, "-m", "ox_core.cli", "serve"], env=env, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while not (ledger / ".ox" / "cache" / "daemon.lock").exists():
            assert time.monotonic() < deadline
            assert proc.poll() is None
            time.sleep(0.05)
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
    precious = home / "precious.txt"
    precious.write_text("keep me\n")
    lock = ledger / ".ox" / "cache" / "daemon.lock"
    lock.unlink()
    lock.symlink_to(precious)
    line = one_error_line(ox(env, "serve"))
    assert f"cannot open the daemon lock {lock}: it is a symbolic link" in line
    assert precious.read_text() == "keep me\n"


def test_a_long_socket_path_works_through_the_directory_descriptor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A home deep enough that the socket path is over 107 bytes: bound and reached through
    `/proc/self/fd/<dir fd>/`, with the same checks."""
    import trio

    from ox_core.ipc import IpcServer

    async def echo(params: dict[str, object]) -> object:
        return params

    with tempfile.TemporaryDirectory(prefix="oxl") as d:
        deep = Path(d) / ("d" * 60) / ("e" * 60)
        sock = deep / "ox.sock"
        assert len(os.fsencode(sock)) > 107

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await nursery.start(IpcServer({"echo": echo}).serve, sock)
                assert stat.S_ISSOCK(sock.lstat().st_mode)
                result = await trio.to_thread.run_sync(call, sock, "echo", {"a": 1})
                assert result == {"a": 1}
                nursery.cancel_scope.cancel()

        trio.run(main)


def test_connect_refuses_before_sending_and_says_why(tmp_path: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="oxc") as d:
        path = Path(d) / "run" / "ox.sock"
        path.parent.mkdir(mode=0o700)
        path.write_text("not a socket")
        with pytest.raises(UntrustedSocketError, match="not a socket"):
            connect_private_socket(path, timeout=1)
        path.unlink()
        os.chmod(path.parent, 0o770)
        with pytest.raises(UntrustedSocketError, match="writable by other users"):
            call(path, "status")
        os.chmod(path.parent, 0o700)
        with pytest.raises(OxError, match="not running"):
            call(path, "status")


def test_a_configured_sockets_folder_keeps_its_mode(home: Path) -> None:
    """`socket` set into a folder of the user's (their home, a folder shared with their
    group) is served there, and the folder is not made private behind their back: only
    ox's own runtime folder is chmodded."""
    shared = home / "team"
    shared.mkdir()
    os.chmod(shared, 0o750)
    env = env_for(home, XDG_RUNTIME_DIR=str(home / "xdg"), OX_SOCKET=str(shared / "ox.sock"))
    daemon = subprocess.Popen(
        [sys.executable, "-m", "ox_core.cli", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd="/",
    )
    try:
        deadline = time.monotonic() + 60
        while ox(env, "status", "--json").returncode != 0:
            assert daemon.poll() is None, daemon.communicate()[1]
            assert time.monotonic() < deadline, "the daemon did not answer within 60 s"
            time.sleep(0.2)
        assert stat.S_IMODE(shared.stat().st_mode) == 0o750
        assert stat.S_IMODE(home.stat().st_mode) == 0o755
    finally:
        daemon.terminate()
        daemon.communicate(timeout=60)
