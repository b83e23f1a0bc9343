"""The daemon's socket file removed while it runs (a tmp cleaner, the runtime directory
emptied at logout, an `rm` by hand): the daemon binds it again, so the CLI and the agent hooks
reach it, instead of a daemon that holds the ledger's lock but that nothing can reach
(`status` says "not running, start it", and `serve` says "another daemon already serves")."""

from __future__ import annotations

import json
import os
import shutil
from typing import TYPE_CHECKING

from ox_core.testing import wait_until

if TYPE_CHECKING:
    from conftest import OxWorld


def answers(world: OxWorld) -> dict[str, object] | None:
    result = world.cli("status", "--json", check=False)
    return json.loads(result.stdout)["daemon"] if result.returncode == 0 else None


def test_a_removed_socket_is_bound_again(world: OxWorld) -> None:
    daemon = world.serve()
    daemon.socket.unlink()

    reached = wait_until("the daemon to answer on its socket again", lambda: answers(world), 60)
    assert reached["pid"] == daemon.proc.pid
    assert daemon.call("ping") == {"pid": daemon.proc.pid}
    assert oct(daemon.socket.stat().st_mode & 0o777) == oct(0o600)
    assert "was removed; listening on it again" in daemon.log.read_text()
    assert daemon.stop() == 0
    assert not daemon.socket.exists()


def test_a_removed_socket_directory_is_made_again(world: OxWorld) -> None:
    daemon = world.serve()
    shutil.rmtree(daemon.socket.parent)

    reached = wait_until("the daemon to answer on its socket again", lambda: answers(world), 60)
    assert reached["pid"] == daemon.proc.pid
    assert oct(daemon.socket.parent.stat().st_mode & 0o777) == oct(0o700)
    assert daemon.stop() == 0


def test_what_replaced_the_socket_is_left_alone(world: OxWorld) -> None:
    """A file put in the socket's place is somebody's: never deleted, not even at exit."""
    daemon = world.serve()
    # Replaced in one step (a rename over it): the daemon never sees the path empty, which
    # it would take for a removal and bind again.
    mine = daemon.socket.with_name("mine.tmp")
    mine.write_text("mine")
    os.rename(mine, daemon.socket)

    wait_until(
        "the daemon to say what is in its way",
        lambda: "was replaced by a file this daemon did not make" in daemon.log.read_text(),
        60,
    )
    assert daemon.stop() == 0
    assert daemon.socket.read_text() == "mine"
