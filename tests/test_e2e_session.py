"""End to end: a recorded claude session goes from the agent's file to the team's remote.

`ox-core serve` runs as a real process with the installed plugins (the claude runner, the
session-finalize handler and its watcher); a fake agent appends real claude-code session lines
to `~/.claude/projects/<slug>/<id>.jsonl`; the CLI starts and stops a tail recording; the
daemon summarises the session with a fake `claude` executable and pushes it to a bare remote.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ox_core.testing import wait_until

if TYPE_CHECKING:
    from conftest import OxWorld

SESSION_ID = "f04c7045-b614-40b5-816d-7256c84b37f6"
ARTIFACTS = ("raw.jsonl", "summary.md", "summary.json", "session.md", "meta.json")

AGENT = """
import sys, time, pathlib
target, lines, go = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
while not go.exists():
    time.sleep(0.01)
with target.open("a") as out:
    for line in lines.read_text().splitlines():
        out.write(line + "\\n")
        out.flush()
        time.sleep(0.02)
time.sleep(600)
"""


def entries(raw: Path) -> list[dict[str, Any]]:
    if not raw.exists():
        return []
    found = []
    for line in raw.read_text().splitlines():
        record = json.loads(line)
        if "_meta" not in record and record.get("type") != "footer":
            found.append(record)
    return found


@pytest.fixture
def agent(world: OxWorld) -> Iterator[tuple[subprocess.Popen[bytes], Path, Path]]:
    """A fake claude-code process that appends the session's lines once `go` exists."""
    session_file = world.home / ".claude" / "projects" / "-home-dev-demo-project"
    session_file.mkdir(parents=True)
    session_file = session_file / f"{SESSION_ID}.jsonl"
    session_file.touch()
    go = world.home / "go"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            AGENT,
            str(session_file),
            str(world.data / "claude_session.jsonl"),
            str(go),
        ]
    )
    try:
        yield proc, session_file, go
    finally:
        proc.kill()
        proc.wait()


def record_session(world: OxWorld, agent: tuple[subprocess.Popen[bytes], Path, Path]) -> str:
    """`session start`, let the agent write, wait for the raw file, `session stop`."""
    proc, session_file, go = agent
    started = world.cli(
        "session", "start", "--adapter", "claude-code", "--file", str(session_file),
        "--pid", str(proc.pid), "--json",
    )  # fmt: skip
    reply = json.loads(started.stdout)
    name = reply["name"]
    raw = Path(reply["session_dir"]) / "raw.jsonl"
    assert raw.parent == world.ledger / ".ox" / "cache" / "sessions" / name
    go.touch()
    captured = wait_until(
        "the four entries in raw.jsonl", lambda: len(entries(raw)) >= 4 and entries(raw)
    )
    assert [e["type"] for e in captured] == ["user", "assistant", "user", "assistant"]
    assert captured[0]["content"].startswith("Please look at the failing test")
    assert "calendar.monthrange" in captured[3]["content"]
    stopped = world.cli("session", "stop", name)
    assert stopped.stdout.startswith(f"recording {name} stopped")
    return name


def remote_sessions(world: OxWorld) -> list[str]:
    out = world.git(world.remote, "ls-tree", "--name-only", "main", "sessions/")
    return [line.removeprefix("sessions/") for line in out.splitlines()]


def finalize_commits(world: OxWorld, name: str) -> list[str]:
    log = world.git(world.remote, "log", "--format=%s", "main", "--", f"sessions/{name}")
    return log.splitlines()


def test_a_recorded_session_reaches_the_remote(world: OxWorld, agent: Any) -> None:
    daemon = world.serve()
    before = json.loads(world.cli("status", "--json").stdout)
    assert before["daemon"]["agent"] == "claude"
    assert before["agent_work"]["agent_type"] == "claude"
    assert before["agent_work"]["agent_available"] is True
    assert before["agent_work"]["queue_depth"] == 0
    assert before["agent_work"]["stats"]["successes"] == 0
    assert before["agent_work"]["stats"]["total_invocations"] == 0

    name = record_session(world, agent)
    wait_until(
        "the finalization",
        lambda: daemon.call("status")["agent_work"]["stats"]["successes"] >= 1,
    )
    after = json.loads(world.cli("status", "--json").stdout)
    work = after["agent_work"]
    assert work["stats"]["successes"] == 1
    assert work["stats"]["failures"] == 0
    assert work["stats"]["total_invocations"] == 1
    assert work["queue_depth"] == 0
    assert work["active"] == []
    assert work["recent"][-1]["status"] == "completed"
    assert name in work["recent"][-1]["target"]

    # the agent was asked once, with the transcript in the prompt
    assert len(world.claude.prompts) == 1
    assert "February 29" in world.claude.prompts[0]

    # Finalization ends with the local commit; the sync service pushes it right after.
    wait_until("the push", lambda: remote_sessions(world) == [name])
    clone = world.fresh_clone()
    folder = clone / "sessions" / name
    assert sorted(p.name for p in folder.iterdir()) == sorted(ARTIFACTS)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["title"] == world.summary["title"]
    assert world.summary["title"] in (folder / "summary.md").read_text()
    assert "calendar.monthrange" in (folder / "session.md").read_text()
    assert finalize_commits(world, name) == [f"finalize session {name}"]
    # the cache copy is pruned once committed
    assert not (world.ledger / ".ox" / "cache" / "sessions" / name).exists()

    text = world.cli("status").stdout
    assert "claude" in text
    assert "1 run: 1 ok, 0 failed" in text  # agent runs ...
    assert "1 finished: 1 published" in text  # ... and items, each with its outcome
    assert daemon.stop() == 0


def test_sigkill_during_finalize_then_restart_finishes_once(world: OxWorld, agent: Any) -> None:
    world.claude.block.touch()  # the agent run hangs until we let it go
    daemon = world.serve()
    name = record_session(world, agent)
    wait_until("the agent run", world.claude.started.exists)
    status = daemon.call("status")["agent_work"]
    assert [p["work_type"] for p in status["active"]] == ["session-finalize"]

    daemon.proc.send_signal(signal.SIGKILL)
    daemon.proc.wait()
    # the killed daemon's agent run is an orphan now; a real one would be killed by the
    # runner's process-group cleanup only if the daemon survived, so end it here
    orphan = int(world.claude.started.read_text())
    os.kill(orphan, signal.SIGKILL)
    world.claude.started.unlink()
    world.claude.block.unlink()
    assert remote_sessions(world) == []
    assert (world.ledger / ".ox" / "cache" / "sessions" / name / "raw.jsonl").exists()

    again = world.serve()  # the stale socket and the dead daemon's lock are no obstacle
    wait_until(
        "the finalization after restart",
        lambda: again.call("status")["agent_work"]["stats"]["successes"] >= 1,
    )
    wait_until("the push", lambda: remote_sessions(world) == [name])
    assert finalize_commits(world, name) == [f"finalize session {name}"]
    clone = world.fresh_clone()
    assert sorted(p.name for p in (clone / "sessions" / name).iterdir()) == sorted(ARTIFACTS)
    # a forced rescan finds nothing more to do: no second commit
    rescan = json.loads(world.cli("detect", "--json").stdout)
    assert rescan == {"queued": 0, "waiting": [], "running": []}
    assert again.call("status")["agent_work"]["queue_depth"] == 0
    assert finalize_commits(world, name) == [f"finalize session {name}"]
    assert again.stop() == 0


def test_sigkill_during_the_push_then_restart_commits_once(world: OxWorld, agent: Any) -> None:
    """The worst moment: the commit is made and the push is under way when the daemon dies
    (the remote's pre-receive hook holds it). The orphaned push completes; the restarted
    daemon's sync finds nothing ahead: no second commit, nothing summarised again."""
    hold = world.home / "hold"
    pushing = world.home / "pushing"
    hook = world.remote / "hooks" / "pre-receive"
    hook.write_text(
        f"#!/bin/sh\ncat >/dev/null\ntouch '{pushing}'\n"
        f"while [ -e '{hold}' ]; do sleep 0.05; done\n"
    )
    hook.chmod(0o755)
    hold.touch()
    daemon = world.serve()
    name = record_session(world, agent)
    wait_until("the push to reach the remote's hook", pushing.exists)
    daemon.proc.send_signal(signal.SIGKILL)
    daemon.proc.wait()
    hold.unlink()  # the orphaned `git push` now completes
    wait_until("the orphaned push", lambda: remote_sessions(world) == [name], 30)
    cache = world.ledger / ".ox" / "cache" / "sessions" / name
    assert not cache.exists()  # the commit holds the session: its cache copy went before

    again = world.serve()

    def synced() -> bool:
        sync = again.call("status")["agent_work"].get("ledger_sync") or {}
        return bool(sync.get("last_ok")) and sync.get("ahead") == 0

    wait_until("the restarted daemon's sync", synced)
    assert finalize_commits(world, name) == [f"finalize session {name}"]
    assert world.git(world.ledger, "rev-parse", "HEAD") == world.git(
        world.remote, "rev-parse", "main"
    )
    assert len(world.claude.prompts) == 1  # summarised once, not again
    status = again.call("status")["agent_work"]
    assert status["queue_depth"] == 0
    assert status["stats"]["failures"] == 0
    assert again.stop() == 0


def test_sigterm_during_finalize_stops_in_time_and_loses_nothing(
    world: OxWorld, agent: Any
) -> None:
    world.claude.block.touch()
    daemon = world.serve()
    name = record_session(world, agent)
    wait_until("the agent run", world.claude.started.exists)
    fake = int(world.claude.started.read_text())

    started = time.monotonic()
    daemon.proc.send_signal(signal.SIGTERM)
    daemon.proc.wait(timeout=120)
    # Designed to take under 5 s (the drain deadline, then the run's grace); the bound leaves
    # room for a loaded machine, while a daemon waiting for the blocked agent never stops.
    assert time.monotonic() - started < 60
    assert daemon.proc.returncode == 0
    # the agent run was killed with its process group, not left behind
    wait_until("the fake claude to be gone", lambda: not os.path.exists(f"/proc/{fake}"))
    world.claude.started.unlink()
    world.claude.block.unlink()
    # the session is still on disk, whole, waiting for the next daemon
    raw = world.ledger / ".ox" / "cache" / "sessions" / name / "raw.jsonl"
    assert len(entries(raw)) == 4
    assert remote_sessions(world) == []

    again = world.serve()
    wait_until(
        "the finalization after restart",
        lambda: again.call("status")["agent_work"]["stats"]["successes"] >= 1,
    )
    wait_until("the push", lambda: remote_sessions(world) == [name])
    assert finalize_commits(world, name) == [f"finalize session {name}"]
    assert again.stop() == 0
