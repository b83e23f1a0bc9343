"""An agent in a time namespace of its own (its clocks since boot shifted), sharing the pid
namespace: the process start time its hook records, with no daemon running, names the same
process for a daemon outside, which keeps following the recording while the agent runs.
Real daemon, real `unshare --time`, real processes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from typing import TYPE_CHECKING

from ox_core.proc import read_stat
from ox_session_capture.records import RAW
from ox_session_capture.service import LIVENESS_INTERVAL
from ox_session_capture.testing import append, numbered_user

if TYPE_CHECKING:
    from conftest import OxWorld

LIMIT = 60.0

AGENT = """
import subprocess, sys
event = sys.argv[1].encode()
hook = [sys.executable, "-m", "ox_core.cli", "hook", "claude-code"]
subprocess.run([*hook, "SessionStart"], input=event, check=True, timeout=60)
print("hooked", flush=True)
sys.stdin.read()
subprocess.run([*hook, "SessionEnd"], input=event, check=True, timeout=60)
"""


def until(what: str, predicate: object) -> None:
    deadline = time.monotonic() + LIMIT
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not within {LIMIT} s: {what}"
        time.sleep(0.05)


def test_a_start_recorded_by_the_hook_in_another_time_namespace_is_followed_while_it_runs(
    world: OxWorld,
) -> None:
    """Its clock since boot is 100000 s ahead: the start time it read of its agent is counted
    as the daemon counts it, or the daemon would take the agent for gone (its pid holds a
    process started at another time) and stop the live recording at its first check."""
    unshare = shutil.which("unshare")
    assert unshare is not None, "util-linux's unshare runs this test"
    token = str(uuid.uuid4())
    transcript = world.home / ".claude" / "projects" / "-p" / f"{token}.jsonl"
    transcript.parent.mkdir(parents=True)
    transcript.touch()
    event = json.dumps({"session_id": token, "transcript_path": str(transcript)})
    agent = subprocess.Popen(
        [unshare, "--user", "--map-root-user", "--time", "--boottime", "100000", "--fork",
         sys.executable, "-c", AGENT, event],
        env=world.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    with agent:
        try:
            assert agent.stdout is not None
            assert agent.stdin is not None
            assert agent.stdout.readline() == b"hooked\n"  # no daemon: recorded by the hook
            (folder,) = (world.ledger / ".ox" / "cache" / "sessions").iterdir()
            marker = json.loads((folder / ".recording.json").read_text())
            stat = read_stat(marker["parent_pid"])
            assert stat is not None
            assert marker["parent_start"] == stat.start  # the agent, as counted here
            world.serve()
            append(transcript, numbered_user(0))
            raw = folder / RAW
            until("the daemon follows it", lambda: b"message 0" in raw.read_bytes())
            deadline = time.monotonic() + 2 * LIVENESS_INTERVAL + 1
            while time.monotonic() < deadline:
                assert (folder / ".recording.json").exists(), "stopped as if its agent died"
                time.sleep(0.1)
            agent.stdin.close()
            assert agent.wait(timeout=LIMIT) == 0
            until("the recording stopped", lambda: not (folder / ".recording.json").exists())
        finally:
            if agent.poll() is None:
                agent.kill()
                agent.wait(timeout=LIMIT)
