"""A daemon that drips its reply (one byte now and then, never a newline) must not hold the
client past its `timeout`: `call`'s timeout bounds each recv, not the whole call."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest

from ox_core.client import call
from ox_core.errors import OxError


@pytest.fixture
def dripping_daemon():
    with tempfile.TemporaryDirectory(prefix="oxdrip") as d:
        os.chmod(d, 0o700)
        path = Path(d) / "ox.sock"
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(str(path))
        srv.listen(8)
        stop = threading.Event()

        def serve() -> None:
            conn, _ = srv.accept()
            conn.recv(65536)
            while not stop.is_set():
                try:
                    conn.sendall(b" ")  # valid JSON whitespace, never a newline
                except OSError:
                    break
                time.sleep(0.2)
            conn.close()

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        yield path
        stop.set()
        srv.close()
        t.join(5)


def test_a_dripping_reply_ends_within_the_timeout(dripping_daemon: Path) -> None:
    result: list[object] = []

    def run() -> None:
        try:
            call(dripping_daemon, "status", timeout=1.0)
        except OxError as exc:
            result.append(exc)

    t = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    t.start()
    t.join(6.0)
    elapsed = time.monotonic() - started
    assert not t.is_alive(), f"call(timeout=1) still waiting after {elapsed:.1f} s"
    assert result, "no error"
    assert "within 1 s" in str(result[0])
