"""Agents run in namespaces of their own (`unshare`) against a test's daemon, for the tests
of hooks from sandboxes: starting one, waiting on what it and the daemon do, ending it."""

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

from ox_session_capture.records import RAW
from ox_session_capture.service import LIVENESS_INTERVAL
from ox_session_capture.testing import append, numbered_user

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


def unshared(
    home: Path, env: dict[str, str], namespaces: list[str], argv: list[str]
) -> tuple[subprocess.Popen[bytes], str, Path]:
    """`python argv… <event>` started by `unshare --user --map-root-user <namespaces>` with
    `env`, in a session of its own, its claude-code session file made under `home`: (the
    `unshare` process, the token in the agent's argv, the file). The event is the hook input
    naming that file."""
    unshare = shutil.which("unshare")
    assert unshare is not None, "util-linux's unshare runs this test"
    token = str(uuid.uuid4())
    transcript = home / ".claude" / "projects" / "-p" / f"{token}.jsonl"
    transcript.parent.mkdir(parents=True)
    transcript.touch()
    event = json.dumps({"session_id": token, "transcript_path": str(transcript)})
    agent = subprocess.Popen(
        [unshare, "--user", "--map-root-user", *namespaces, sys.executable, *argv, event],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    return agent, token, transcript


def until(what: str, predicate: object) -> None:
    deadline = time.monotonic() + LIMIT
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not within {LIMIT} s: {what}"
        time.sleep(0.05)


def hooked(agent: subprocess.Popen[bytes]) -> None:
    assert agent.stdout is not None
    assert agent.stdout.readline() == b"hooked\n"


def end(agent: subprocess.Popen[bytes], how: str) -> None:
    if how == "killed":  # no end hook: the daemon's liveness check sees it gone
        os.killpg(agent.pid, signal.SIGKILL)
    else:  # its end hook, from its namespace, is the recorded agent's own
        assert agent.stdin is not None
        agent.stdin.close()
    assert agent.wait(timeout=LIMIT) == (-signal.SIGKILL if how == "killed" else 0)


def reaped(agent: subprocess.Popen[bytes]) -> None:
    if agent.poll() is None:
        os.killpg(agent.pid, signal.SIGKILL)
        agent.wait(timeout=LIMIT)


def followed_past_liveness_checks(folder: Path, transcript: Path) -> None:
    """The daemon captures a line of `transcript` into the recording in `folder`, and the
    recording stays live for two liveness checks (it would be stopped if the daemon took its
    agent for gone)."""
    append(transcript, numbered_user(0))
    raw = folder / RAW
    until("the daemon follows it", lambda: b"message 0" in raw.read_bytes())
    deadline = time.monotonic() + 2 * LIVENESS_INTERVAL + 1
    while time.monotonic() < deadline:
        assert (folder / ".recording.json").exists(), "stopped as if its agent died"
        time.sleep(0.1)
