"""Fixtures of the session-finalize package's tests.

Finalization: `git_env` (an isolated git configuration and identity), `remote` (a bare
repository on disk) and `ledger` (a clone of it, the ledger), `lfs_server` (a real LFS server
process on 127.0.0.1), `handler` (a `SessionFinalizeHandler` with a private user cache).

Capture, for the tests that finalize what the watcher recorded: `home` (a private `$HOME`,
where the adapters' roots are), `src` (a claude-code session file under it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ox_session_capture.testing.fixtures import home as home
from ox_session_capture.testing.fixtures import src as src

from .finalize_support import GIT_IDENTITY, clone, make_remote

HERE = Path(__file__).parent


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    from ox_session_capture.liveness import pid_alive

    proc = subprocess.Popen(["true"])
    proc.wait()
    assert not pid_alive(proc.pid)
    return proc.pid


@pytest.fixture
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Git sees only a private global config (no user's settings, no system config)."""
    config = tmp_path / "gitconfig"
    config.write_text("[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    for key, value in GIT_IDENTITY.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def remote(tmp_path: Path, git_env: None) -> Path:
    return make_remote(tmp_path)


@pytest.fixture
def ledger(tmp_path: Path, remote: Path) -> Path:
    return clone(remote, tmp_path / "ledger")


@pytest.fixture
def handler(tmp_path: Path):  # type: ignore[no-untyped-def]
    from ox_handler_session_finalize.handler import SessionFinalizeHandler

    h = SessionFinalizeHandler(user_cache_dir=tmp_path / "usercache")
    h.push_pause = 0.05
    return h


class LfsServer:
    """A real LFS server process; `stop()` and `start()` keep the same port and storage."""

    def __init__(self, root: Path) -> None:
        self.storage = root / "lfs-objects"
        self.port_file = root / "lfs-port"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ledger.git/info/lfs"

    def start(self) -> None:
        self.port_file.unlink(missing_ok=True)
        args = [sys.executable, str(HERE / "lfs_server.py"), str(self.storage), str(self.port_file)]
        if self.port:
            args.append(str(self.port))
        self.process = subprocess.Popen(args, start_new_session=True)
        deadline = time.monotonic() + 60  # generous: a loaded CI machine
        while not self.port_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the LFS server did not start")
            time.sleep(0.02)
        self.port = int(self.port_file.read_text())

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def objects(self) -> dict[str, bytes]:
        if not self.storage.exists():
            return {}
        return {
            p.name: p.read_bytes() for p in self.storage.iterdir() if not p.name.startswith(".")
        }


@pytest.fixture
def lfs_server(tmp_path: Path) -> Iterator[LfsServer]:
    from ox_handler_session_finalize.git import has_git_lfs

    if not has_git_lfs():
        pytest.skip(
            "git-lfs is not installed (Debian package `git-lfs`; ./scripts/test installs it)"
        )
    server = LfsServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
