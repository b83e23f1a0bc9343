"""An agent in a time namespace of its own (its clocks since boot shifted), sharing the pid
namespace: the process start time its hook records, with no daemon running, names the same
process for a daemon outside, which keeps following the recording while the agent runs.
Real daemon, real `unshare --time`, real processes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ox_core.proc import read_stat
from ox_session_capture.testing.sandbox import (
    AGENT,
    end,
    followed_past_liveness_checks,
    hooked,
    reaped,
    unshared,
    until,
)

if TYPE_CHECKING:
    from conftest import OxWorld


def test_a_start_recorded_by_the_hook_in_another_time_namespace_is_followed_while_it_runs(
    world: OxWorld,
) -> None:
    """Its clock since boot is 100000 s ahead: the start time it read of its agent is counted
    as the daemon counts it, or the daemon would take the agent for gone (its pid holds a
    process started at another time) and stop the live recording at its first check."""
    time_ns = ["--time", "--boottime", "100000", "--fork"]
    agent, _, transcript = unshared(world.home, world.env, time_ns, ["-c", AGENT])
    with agent:
        try:
            hooked(agent)  # no daemon: recorded by the hook
            (folder,) = (world.ledger / ".ox" / "cache" / "sessions").iterdir()
            marker = json.loads((folder / ".recording.json").read_text())
            stat = read_stat(marker["parent_pid"])
            assert stat is not None
            assert marker["parent_start"] == stat.start  # the agent, as counted here
            world.serve()
            followed_past_liveness_checks(folder, transcript)
            end(agent, "end hook")
            until("the recording stopped", lambda: not (folder / ".recording.json").exists())
        finally:
            reaped(agent)
