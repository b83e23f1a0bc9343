"""`nohup ox-core serve &`: the daemon must keep running when the terminal closes. SIGHUP
stops a daemon in the foreground of a terminal cleanly, but one started with SIGHUP ignored
(nohup, `trap '' HUP`, a supervisor) was asked to survive the hang-up: installing a handler
anyway undid that, so the daemon stopped at logout and nothing recorded the sessions after."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ox_core.errors import OxError
from ox_core.ipc import call
from ox_core.testing import wait_until

if TYPE_CHECKING:
    from conftest import OxWorld


def _ready(socket: Path) -> bool:
    try:
        return bool(call(socket, "status", timeout=5)["daemon"]["ready"])
    except OxError:  # not listening yet
        return False


def _ignored(pid: int) -> int:
    """The mask of the signals process `pid` ignores (`SigIgn` of /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            return int(line.split()[1], 16)
    raise AssertionError("no SigIgn line")


def test_a_daemon_started_under_nohup_survives_the_hangup(world: OxWorld) -> None:
    log = world.home / "nohup.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["nohup", sys.executable, "-m", "ox_core.cli", "serve"],
            env=world.env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    socket = world.socket()
    try:
        wait_until("the daemon to be ready", lambda: _ready(socket), 60)
        assert _ignored(proc.pid) & (1 << (signal.SIGHUP - 1))  # still ignored, as nohup set

        proc.send_signal(signal.SIGHUP)  # the terminal closed
        assert call(socket, "ping", timeout=30) == {"pid": proc.pid}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text()
    assert "SIGTERM: stopping" in text
    assert "SIGHUP" not in text
