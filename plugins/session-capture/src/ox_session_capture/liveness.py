"""Whether a recording's agent still runs: the rule both the watcher and finalization use.

A recording marker names the agent's PID (`parent_pid`). While that process exists the
recording is live; without a PID a recording counts as live for `NO_PID_STALE` after it
started, then as abandoned.
"""

from __future__ import annotations

from datetime import timedelta

from ox_core.proc import pid_alive as pid_alive  # the one rule; re-exported for plugins

NO_PID_STALE = timedelta(hours=24)
