"""Whether a recording's agent still runs: the rule the watcher, the daemon's liveness check
and finalization use.

A recording marker names the agent's PID (`parent_pid`) and, when the recording was started
by a hook, the process's start time (`parent_start`, clock ticks since boot: with the pid it
names one process, as pids are reused) and the pid namespace the PID is counted in
(`parent_pidns`). While that process exists the recording is live; without a PID, or with
one counted in another pid namespace (a hook that recorded in an agent's sandbox) or in one
its writer could not tell (a sandbox without `/proc`), a recording counts as live for
`NO_PID_STALE` after it started, then as abandoned.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ox_core.proc import command_name, pid_namespace, read_stat
from ox_core.proc import pid_alive as pid_alive  # the one rule; re-exported for plugins

NO_PID_STALE = timedelta(hours=24)

PIDNS = "parent_pidns"
"""The marker's key for the pid namespace its `parent_pid` is counted in."""


def agent_pid(marker: Any) -> int:
    """The PID of a recording marker's agent as this process counts PIDs; 0 when it has none
    or it was counted in another pid namespace (it names another process here, or none). A
    marker without `parent_pidns` (older versions) is taken at its word; one whose writer
    could not tell its namespace ("": no `/proc`, as in a sandbox without it) names a pid of
    this one only where `/proc` cannot tell either."""
    pid: int = marker.parent_pid
    theirs = (marker.model_extra or {}).get(PIDNS)
    if pid > 0 and isinstance(theirs, str) and theirs != pid_namespace():
        return 0
    return pid


def name_agent(marker: Any, pid: int) -> None:
    """Set `marker`'s agent PID to `pid`, counted in this process's pid namespace ("" when
    `/proc` does not say which: a reader that can tell its own does not take the pid)."""
    marker.parent_pid = pid
    setattr(marker, PIDNS, pid_namespace())  # an extra key of the marker


SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "fish", "busybox"})
"""Command names of the shells an agent may run its hooks through (`sh -c "..."`): the
agent is the first ancestor of a hook that is not one of them."""


def agent_process(pid: int, *, hops: int = 4) -> tuple[int, int | None]:
    """(pid, start time) of the agent that ran a hook whose parent is `pid`: `pid` itself, or
    the first ancestor that is not a shell. Read while the hook still runs, so the shell
    between it and the agent is still there. (pid, None) when `/proc` says nothing."""
    for _ in range(hops):
        stat = read_stat(pid)
        if stat is None:
            return pid, None
        if command_name(pid) not in SHELLS or stat.ppid <= 1:
            return pid, stat.start
        pid = stat.ppid
    stat = read_stat(pid)
    return pid, stat.start if stat else None


def agent_alive(pid: int, start: Any = None) -> bool:
    """Whether the agent process `pid` (started at `start` clock ticks, when known) runs."""
    if not pid_alive(pid):
        return False
    if isinstance(start, int):
        stat = read_stat(pid)
        return stat is not None and stat.start == start
    return True
