"""A real `ox-core serve` with no ledger and no plugin config, in a private runtime folder,
for tests that talk to its socket byte by byte (fuzzing, hostile request lines, floods)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest.mock
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ox_core.errors import OxError
from ox_core.ipc import call
from ox_core.settings import load_settings


@dataclass(frozen=True)
class BareDaemon:
    sock: Path
    proc: subprocess.Popen[bytes]
    env: dict[str, str]  # the daemon's environment: a CLI run with it talks to this daemon


@contextlib.contextmanager
def bare_daemon(home: Path) -> Iterator[BareDaemon]:
    """The daemon, once `status` says it is ready (it answers before its plugins are loaded);
    stopped afterwards. Its stderr goes to a file, never a pipe nobody reads while a test
    floods it (a full pipe would stall the daemon's logging, and the daemon with it)."""
    with tempfile.TemporaryDirectory(prefix="oxd") as runtime:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
        env.update(HOME=str(home), XDG_RUNTIME_DIR=runtime, PATH="/usr/bin:/bin")
        with unittest.mock.patch.dict(os.environ, env, clear=True):
            sock = load_settings().socket_path()
        log = Path(runtime) / "stderr"
        with open(log, "wb") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "ox_core.cli", "serve"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        try:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, log.read_text(errors="replace")
                try:
                    if call(sock, "status", timeout=2)["daemon"]["ready"]:
                        break
                except OxError:
                    pass
                assert time.monotonic() < deadline, "daemon not ready"
                time.sleep(0.02)
            yield BareDaemon(sock, proc, env)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def exchange(sock: Path, data: bytes) -> list[dict[str, Any]]:
    """Send `data` on one connection, close our side, and read every reply line."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(str(sock))
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        out = bytearray()
        while chunk := s.recv(65536):
            out += chunk
    return [json.loads(line) for line in out.splitlines()]
