"""A real `ox-core serve` with no ledger and no plugin config, in a private runtime folder,
for tests that talk to its socket byte by byte (fuzzing, hostile request lines)."""

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
from pathlib import Path
from typing import Any

from ox_core.errors import OxError
from ox_core.ipc import call
from ox_core.settings import load_settings
from ox_core.testing import wait_until


@contextlib.contextmanager
def bare_daemon(home: Path) -> Iterator[tuple[Path, subprocess.Popen[bytes]]]:
    """The daemon's socket and process, once `status` says it is ready; stopped afterwards."""
    with tempfile.TemporaryDirectory(prefix="oxd") as runtime:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
        env.update(HOME=str(home), XDG_RUNTIME_DIR=runtime, PATH="/usr/bin:/bin")
        with unittest.mock.patch.dict(os.environ, env, clear=True):
            sock = load_settings().socket_path()
        proc = subprocess.Popen(
            [sys.executable, "-m", "ox_core.cli", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                try:
                    call(sock, "status", timeout=2)
                    break
                except OxError:
                    assert time.monotonic() < deadline, "daemon not ready"
                    time.sleep(0.02)
            # It answers before its plugins are loaded: a test alone on an xdist worker would
            # otherwise meet a daemon with no handlers yet.
            wait_until("the daemon ready", lambda: call(sock, "status")["daemon"]["ready"])
            yield sock, proc
        finally:
            proc.terminate()
            try:
                proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()


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
