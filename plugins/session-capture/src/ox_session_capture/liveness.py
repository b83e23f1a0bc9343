"""Whether a recording's agent still runs: the rule both the watcher and finalization use.

A recording marker names the agent's PID (`parent_pid`). While that process exists the
recording is live; without a PID a recording counts as live for `NO_PID_STALE` after it
started, then as abandoned.
"""

from __future__ import annotations

import os
from datetime import timedelta

NO_PID_STALE = timedelta(hours=24)


def pid_alive(pid: int) -> bool:
    """Whether process `pid` exists (a process we may not signal counts as alive). A number
    no process can have (over the kernel's range) is not alive: markers are data."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True
    return True
