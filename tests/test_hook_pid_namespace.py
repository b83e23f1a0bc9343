"""An agent in a pid namespace of its own (a sandbox, a container sharing this home) runs
ox's hooks against the daemon outside it. The pid its hook gives is counted in its namespace
(there the agent is pid 1); the daemon records the agent as it sees it (`SO_PEERCRED`), so
the recording ends when that agent ends. Real daemon, real `unshare`, real processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ox_core.proc import read_stat

if TYPE_CHECKING:
    from conftest import OxWorld

LIMIT = 60.0

# The agent: runs the start hook, says so, waits for its stdin to close (or a kill), then
# runs the end hook.
AGENT = """
import subprocess, sys
event = sys.argv[1].encode()
hook = [sys.executable, "-m", "ox_core.cli", "hook", "claude-code"]
subprocess.run([*hook, "SessionStart"], input=event, check=True, timeout=60)
print("hooked", flush=True)
sys.stdin.read()
subprocess.run([*hook, "SessionEnd"], input=event, check=True, timeout=60)
"""


def outer_pid(token: str) -> int:
    """The pid, as seen from here, of the agent process whose argv holds `token`."""
    deadline = time.monotonic() + LIMIT
    while time.monotonic() < deadline:
        with os.scandir("/proc") as entries:
            for entry in entries:
                if not entry.name.isdigit():
                    continue
                try:
                    argv = Path(entry.path, "cmdline").read_bytes().split(b"\0")
                except OSError:
                    continue
                if token.encode() in b"".join(argv) and argv[0] == sys.executable.encode():
                    return int(entry.name)
        time.sleep(0.05)
    raise AssertionError("the agent process is not to be seen")


def until(what: str, predicate: object) -> None:
    deadline = time.monotonic() + LIMIT
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not within {LIMIT} s: {what}"
        time.sleep(0.05)


@pytest.mark.parametrize("ending", ["killed", "end hook"])
def test_an_agent_in_another_pid_namespace_is_the_recorded_one_and_its_end_ends_it(
    world: OxWorld, ending: str
) -> None:
    unshare = shutil.which("unshare")
    assert unshare is not None, "util-linux's unshare runs this test"
    world.serve()
    token = str(uuid.uuid4())
    transcript = world.home / ".claude" / "projects" / "-p" / f"{token}.jsonl"
    transcript.parent.mkdir(parents=True)
    transcript.touch()
    event = json.dumps({"session_id": token, "transcript_path": str(transcript)})
    agent = subprocess.Popen(
        [unshare, "--user", "--map-root-user", "--pid", "--fork", "--mount-proc",
         sys.executable, "-c", AGENT, event],
        env=world.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    with agent:  # its pipes closed at the end
        try:
            run_agent(agent, world, token, ending)
        finally:
            if agent.poll() is None:
                os.killpg(agent.pid, signal.SIGKILL)
                agent.wait(timeout=LIMIT)


def run_agent(agent: subprocess.Popen[bytes], world: OxWorld, token: str, ending: str) -> None:
    """The agent hooked: recorded as the process it is here, and stopped once it ends."""
    assert agent.stdout is not None
    assert agent.stdout.readline() == b"hooked\n"
    pid = outer_pid(token)
    (folder,) = (world.ledger / ".ox" / "cache" / "sessions").iterdir()
    marker = json.loads((folder / ".recording.json").read_text())
    # In its namespace the agent is pid 1; here it is `pid`, and that is what is recorded.
    stat = read_stat(pid)
    assert stat is not None
    assert (marker["parent_pid"], marker.get("parent_start")) == (pid, stat.start)
    if ending == "killed":  # no end hook: the daemon's liveness check sees it gone
        os.killpg(agent.pid, signal.SIGKILL)
    else:  # its end hook, from its namespace, is the recorded agent's own
        assert agent.stdin is not None
        agent.stdin.close()
    assert agent.wait(timeout=LIMIT) == (-signal.SIGKILL if ending == "killed" else 0)
    until("the recording stopped", lambda: not (folder / ".recording.json").exists())
