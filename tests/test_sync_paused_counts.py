"""`ox-core sync` and `status` when a teammate's change conflicts with a local commit (publishing
paused): the ledger is 1 ahead and 1 behind its remote, but both said `1 ahead, 0 behind`
(a failed pass counted what is ahead and kept `behind` from before the fetch), so the line
above the pause's "the remote's changes conflict" said there were none to integrate."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import OxWorld


def _diverge(world: OxWorld) -> None:
    """A teammate pushes a change to README.md; this clone commits another to it."""
    mate = world.fresh_clone("mate")
    (mate / "README.md").write_text("the teammate's words\n")
    world.git(mate, "add", "README.md")
    world.git(mate, "-c", "user.name=mate", "-c", "user.email=m@example.invalid",
              "commit", "-qm", "mate")  # fmt: skip
    world.git(mate, "push", "-q")
    (world.ledger / "README.md").write_text("mine\n")
    world.git(world.ledger, "add", "README.md")
    world.git(world.ledger, "commit", "-qm", "mine")


def test_sync_without_a_daemon_counts_what_the_paused_ledger_is_behind(world: OxWorld) -> None:
    _diverge(world)

    shown = world.cli("sync", check=False)
    state = json.loads(world.cli("sync", "--json", check=False).stdout)

    assert shown.returncode == 1
    assert shown.stdout.splitlines()[0] == "origin: 1 ahead, 1 behind"
    assert (state["ahead"], state["behind"]) == (1, 1)
    assert state["paused"].startswith("publishing paused: the remote's changes to README.md")


def test_status_counts_what_the_paused_ledger_is_behind(world: OxWorld) -> None:
    world.serve()
    _diverge(world)

    world.cli("sync", check=False)
    sync = json.loads(world.cli("status", "--json").stdout)["agent_work"]["ledger_sync"]

    assert (sync["ahead"], sync["behind"]) == (1, 1)
    assert sync["paused"].startswith("publishing paused: the remote's changes to README.md")
