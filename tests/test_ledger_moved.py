"""The ledger folder moved or removed while the daemon runs. The daemon must not go on as if
nothing happened: it would make a ghost ledger at the old path (`.ox/cache/`, `.git/info/`)
the next time a session is recorded, record and summarise the session there, fail to commit
it with a wrong diagnosis, and show a healthy `status` meanwhile. It stops instead, with one
line that says why and what to do, and a non-zero exit (so systemd's `Restart=on-failure`
brings it back once the ledger is)."""

from __future__ import annotations

import contextlib
import shutil
from typing import TYPE_CHECKING

from ox_core.testing import wait_until

if TYPE_CHECKING:
    from conftest import OxWorld


def test_a_moved_ledger_stops_the_daemon_with_a_reason(world: OxWorld) -> None:
    daemon = world.serve()
    moved = world.ledger.with_name("moved")
    world.ledger.rename(moved)

    wait_until("the daemon to stop", lambda: daemon.proc.poll() is not None, 60)
    assert daemon.proc.returncode == 1
    last = daemon.log.read_text().strip().splitlines()[-1]
    assert last == (
        f"ox-core: error: the ledger {world.ledger} was moved or removed while the daemon "
        "ran; start `ox-core serve` again once it is back (or set `ledger` to where it is now)"
    )
    assert not world.ledger.exists()  # no ghost ledger made at the old path
    assert not daemon.socket.exists()

    moved.rename(world.ledger)
    again = world.serve()
    assert again.call("ping") == {"pid": again.proc.pid}
    assert again.stop() == 0


def test_a_removed_ledger_stops_the_daemon(world: OxWorld) -> None:
    daemon = world.serve()

    def removed() -> bool:
        # The daemon's own git (a sync, a check) may write into `.git` meanwhile: an `rm -rf`
        # that meets a new file there fails ("Directory not empty") and is run again.
        with contextlib.suppress(OSError):
            shutil.rmtree(world.ledger)
        return not world.ledger.exists()

    wait_until("the ledger to be removed", removed, 60)
    wait_until("the daemon to stop", lambda: daemon.proc.poll() is not None, 60)
    assert daemon.proc.returncode == 1
    assert "was moved or removed while the daemon ran" in daemon.log.read_text()
    assert not world.ledger.exists()
