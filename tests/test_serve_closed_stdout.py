"""`ox-core serve` started with its standard output closed (`ox-core serve >&- &`, a
supervisor that closes what it does not need): Python then has no `sys.stdout`, and the daemon
must still stop cleanly on SIGTERM, exit 0 (not 1 with a traceback of the CLI's last flush, a
failure to a service manager)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

from ox_core.errors import OxError
from ox_core.ipc import call
from ox_core.testing import wait_until

if TYPE_CHECKING:
    from conftest import OxWorld


def _ready(world: OxWorld) -> bool:
    try:
        return bool(call(world.socket(), "status", timeout=5)["daemon"]["ready"])
    except OxError:  # not listening yet
        return False


def test_sigterm_with_stdout_closed_exits_0(world: OxWorld) -> None:
    log = world.home / "serve.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ox_core.cli", "serve"],
            env=world.env,
            stdin=subprocess.DEVNULL,
            stderr=err,
            preexec_fn=lambda: os.close(1),  # what the shell's `>&-` does
        )
    try:
        wait_until("the daemon to be ready", lambda: _ready(world), 60)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text()
    assert "ox-core stopped" in text
    assert "Traceback" not in text
