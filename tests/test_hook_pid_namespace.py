"""An agent in a pid namespace of its own (a sandbox, a container sharing this home) runs
ox's hooks against a daemon outside it. The pid its hook gives is counted in its namespace
(there the agent is pid 2, which is the kernel's `kthreadd` here); the daemon records the
agent as it sees it (`SO_PEERCRED`), so the recording ends when that agent ends. A start the
hook recorded itself, with no daemon running, names a pid of its namespace: a daemon that
comes later never takes it for one of its own. Real daemon, real `unshare`, real processes."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ox_core.proc import read_stat
from ox_session_capture.liveness import PIDNS
from ox_session_capture.records import RAW
from ox_session_capture.testing import append, numbered_user
from ox_session_capture.testing.sandbox import (
    AGENT,
    LIMIT,
    end,
    followed_past_liveness_checks,
    hooked,
    reaped,
    unshared,
    until,
)

if TYPE_CHECKING:
    from conftest import OxWorld

# An agent that has its file recorded with `ox-core session start` (its pid: the command's
# parent, counted in the namespace), then waits to be killed.
SESSION_START = """
import json, subprocess, sys
file = json.loads(sys.argv[1])["transcript_path"]
start = [sys.executable, "-m", "ox_core.cli", "session", "start", "--adapter", "claude-code"]
subprocess.run([*start, "--file", file], check=True, timeout=60, stdout=subprocess.DEVNULL)
print("hooked", flush=True)
sys.stdin.read()
"""
# A first process that hides `/proc` (a sandbox without it), then spends pids of its namespace
# until the agent it starts is pid `sys.argv[1]` there.
INIT_NO_PROC = """
import subprocess, sys
subprocess.run(["mount", "-t", "tmpfs", "none", "/proc"], check=True)
agent = int(sys.argv[1])
while (spent := subprocess.Popen(["true"])).wait() == 0 and spent.pid < agent - 1:
    pass
sys.exit(subprocess.call([sys.executable, *sys.argv[2:]]))
"""
INIT = "import subprocess, sys; sys.exit(subprocess.call([sys.executable, *sys.argv[1:]]))"


def start_agent(
    world: OxWorld, script: str = AGENT, init: tuple[str, ...] = ("-c", INIT, "--mount-proc")
) -> tuple[subprocess.Popen[bytes], str, Path]:
    """The agent (`script`) started in a user and pid namespace of its own by `init` (the
    namespace's first process: its script, args, and the last, how `unshare` mounts `/proc`),
    its session file made: (the `unshare` process, the token in the agent's argv, the file)."""
    namespaces = ["--pid", "--fork", init[-1]]
    return unshared(world.home, world.env, namespaces, [*init[:-1], "-c", script])


def outer_pid(token: str) -> int:
    """The pid, as seen from here, of the agent process: its argv holds `token`, as those of
    `unshare` and of the namespace's first process do; it is the one that is no parent. Asked
    once its hook or command returned (none of those left holds it)."""
    deadline = time.monotonic() + LIMIT
    while time.monotonic() < deadline:
        holders = {}
        with os.scandir("/proc") as entries:
            for entry in entries:
                if not entry.name.isdigit():
                    continue
                try:
                    argv = Path(entry.path, "cmdline").read_bytes()
                except OSError:
                    continue
                if token.encode() in argv:
                    holders[int(entry.name)] = read_stat(int(entry.name))
        parents = {st.ppid for st in holders.values() if st is not None}
        agents = [p for p, st in holders.items() if st is not None and p not in parents]
        if len(agents) == 1:
            return agents[0]
        time.sleep(0.05)
    raise AssertionError("the agent process is not to be seen")


@pytest.mark.parametrize("how", ["killed", "end hook"])
def test_an_agent_in_another_pid_namespace_is_the_recorded_one_and_its_end_ends_it(
    world: OxWorld, how: str
) -> None:
    world.serve()
    agent, token, _ = start_agent(world)
    with agent:  # its pipes closed at the end
        try:
            hooked(agent)
            pid = outer_pid(token)
            (folder,) = (world.ledger / ".ox" / "cache" / "sessions").iterdir()
            marker = json.loads((folder / ".recording.json").read_text())
            # In its namespace the agent is pid 2; here it is `pid`, and that is recorded.
            stat = read_stat(pid)
            assert stat is not None
            assert (marker["parent_pid"], marker.get("parent_start")) == (pid, stat.start)
            assert marker[PIDNS] == os.readlink("/proc/self/ns/pid")
            end(agent, how)
            until("the recording stopped", lambda: not (folder / ".recording.json").exists())
        finally:
            reaped(agent)


def test_a_start_recorded_by_the_hook_in_another_namespace_is_not_ended_by_a_later_daemon(
    world: OxWorld,
) -> None:
    agent, _, transcript = start_agent(world)
    with agent:
        try:
            hooked(agent)  # no daemon: the hook recorded the start itself
            (folder,) = (world.ledger / ".ox" / "cache" / "sessions").iterdir()
            marker = json.loads((folder / ".recording.json").read_text())
            assert marker["parent_pid"] == 2  # the agent, as its namespace counts
            assert marker[PIDNS] != os.readlink("/proc/self/ns/pid")
            world.serve()
            # Here pid 2 is another process (or none): the liveness checks leave it be.
            followed_past_liveness_checks(folder, transcript)
            append(transcript, numbered_user(1))
            raw = folder / RAW
            until("still followed", lambda: b"message 1" in raw.read_bytes())
            end(agent, "end hook")
            until("the recording stopped", lambda: not (folder / ".recording.json").exists())
        finally:
            reaped(agent)


def test_a_session_start_from_another_pid_namespace_names_its_agent_as_the_daemon_sees_it(
    world: OxWorld,
) -> None:
    """`ox-core session start` gives its parent's pid, counted in its namespace (2 there,
    the kernel's `kthreadd` here, which never ends): the daemon names that process as it
    counts pids, so the recording ends when the agent does."""
    world.serve()
    agent, token, _ = start_agent(world, SESSION_START)
    with agent:
        try:
            hooked(agent)
            pid = outer_pid(token)
            (folder,) = (world.ledger / ".ox" / "cache" / "sessions").iterdir()
            marker = json.loads((folder / ".recording.json").read_text())
            assert (marker["parent_pid"], marker[PIDNS]) == (pid, os.readlink("/proc/self/ns/pid"))
            end(agent, "killed")
            until("the recording stopped", lambda: not (folder / ".recording.json").exists())
        finally:
            reaped(agent)


def test_a_start_recorded_by_the_hook_in_a_sandbox_without_proc_is_not_ended_by_a_later_daemon(
    world: OxWorld,
) -> None:
    """Without `/proc` the hook cannot tell its pid namespace: the pid it records is no pid
    for the daemon, which would otherwise take the agent (pid `agent` of the sandbox, none
    here) for dead and stop its live recording."""
    taken = {int(name) for name in os.listdir("/proc") if name.isdigit()}
    agent_here = min(set(range(10, 1000)) - taken)  # a pid no process here has (nor will soon)
    init = ("-c", INIT_NO_PROC, str(agent_here), "--mount")
    agent, _, transcript = start_agent(world, init=init)
    with agent:
        try:
            hooked(agent)  # no daemon: the hook recorded the start itself
            (folder,) = (world.ledger / ".ox" / "cache" / "sessions").iterdir()
            marker = json.loads((folder / ".recording.json").read_text())
            assert marker["parent_pid"] == agent_here
            assert not os.path.exists(f"/proc/{agent_here}")
            world.serve()
            followed_past_liveness_checks(folder, transcript)
            end(agent, "end hook")
            until("the recording stopped", lambda: not (folder / ".recording.json").exists())
        finally:
            reaped(agent)
