"""The CLI against a daemon whose answers it cannot read: a daemon started before an upgrade
runs the other version of ox, and its answer may have another shape (a list, null, a string
where an object was). Each command says so in one error line and exits 1, never with a
traceback. And `status --json` asks a daemon once, never twice: its fast path went the usual
way after any failure, asking again a daemon that had the request (twice the 30 s deadline
for one that never answers, and the error then said 30 s).

The daemon here is a fake on a real Unix socket in a private folder, answering every request
with one fixed line."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ox_core.testing import FixedAnswers


class FakeDaemon(FixedAnswers):
    """Answers each request line with `reply` (nothing, and closes, when it is empty)."""

    def __init__(self, folder: Path, reply: bytes) -> None:
        super().__init__(folder / "ox.sock", reply)

    def cli(self, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
        env.update(HOME=str(home), OX_SOCKET=str(self.path), PATH="/usr/bin:/bin")
        return subprocess.run(
            [sys.executable, "-m", "ox_core.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture
def fake_daemon(tmp_path: Path) -> Iterator[FakeDaemon]:
    with tempfile.TemporaryDirectory(prefix="oxa") as folder:  # short: a socket path's limit
        os.chmod(folder, 0o700)
        daemon = FakeDaemon(Path(folder), b"")
        try:
            yield daemon
        finally:
            daemon.close()


ODD_ANSWERS = [
    ("status", "[1]"),
    ("status", "null"),
    ("status", '{"daemon": "up", "agent_work": {}}'),
    ("status", '{"daemon": {"services": [5]}, "agent_work": {}}'),
    ("detect", "[1]"),
    ("detect", '{"queued": "three"}'),
    ("detect", '{"queued": 1, "waiting": [7]}'),
    ("enqueue", "[1]"),
    ("sync", '"synced"'),
]


@pytest.mark.parametrize(("command", "result"), ODD_ANSWERS)
def test_an_answer_of_another_shape_is_one_error_line(
    fake_daemon: FakeDaemon, tmp_path: Path, command: str, result: str
) -> None:
    fake_daemon.reply = b'{"ok": true, "result": ' + result.encode() + b', "id": 1}\n'
    args = ["enqueue", "note"] if command == "enqueue" else [command]

    done = fake_daemon.cli(tmp_path, *args)

    assert "Traceback" not in done.stderr
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith("ox-core: error: the daemon's answer to ")
    assert "restart it" in line


def test_status_json_asks_a_daemon_that_does_not_answer_once(
    fake_daemon: FakeDaemon, tmp_path: Path
) -> None:
    fake_daemon.reply = b""  # reads the request, closes without a reply

    done = fake_daemon.cli(tmp_path, "status", "--json")

    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "ox-core: error: the daemon closed the connection without answering"
    ]
    assert fake_daemon.requests == 1
