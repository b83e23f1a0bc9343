"""End to end: an agent CLI that leaves processes behind (a double-forked daemon and a `setsid`
helper, as Node CLIs may) has none of them left once its run in the real daemon ends, whether
the run answers, times out or is stopped with the daemon; and the daemon, the subreaper of its
descendants, keeps no zombie.

`ox-core serve` is a real process with the installed plugins; the fake `claude` of the shared
fixtures summarises a recorded session and is given the helpers. What survived is checked by
this module's own scan of `/proc`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ox_core.testing import wait_until
from ox_core.testing_runners import survivors

if TYPE_CHECKING:
    from conftest import Daemon, OxWorld

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")

SESSION_ID = "0b6f3c52-47a5-4a35-9d2e-0e1f0c5a7c11"

# Classic daemonize: fork, setsid, fork, the middle one exits. The grandchild notes its pid and,
# once re-parented, its new parent, then becomes `sleep <marker>`.
DAEMONIZE = """
import os, sys, time
state, marker = sys.argv[1], sys.argv[2]
if os.fork() == 0:
    os.setsid()
    middle = os.getpid()
    if os.fork() == 0:
        while os.getppid() == middle:
            time.sleep(0.005)
        with open(f"{state}/daemon.tmp", "w") as f:
            f.write(f"{os.getpid()} {os.getppid()}")
        os.rename(f"{state}/daemon.tmp", f"{state}/daemon")
        os.execvp("sleep", ["sleep", marker])
    os._exit(0)
os.wait()
"""


@pytest.fixture
def marker(world: OxWorld) -> Iterator[str]:
    """Gives the fake claude's runs a double-forked daemon and a setsid helper, both
    `sleep <marker>`; kills whatever the test leaves (a failed test must not leak)."""
    mark = f"1000.{uuid.uuid4().int % 10**9:09d}"
    state = world.claude.state
    (state / "daemonize.py").write_text(DAEMONIZE)
    helpers = (
        f'"{sys.executable}" "$STATE/daemonize.py" "$STATE" {mark}\n'
        f'setsid sleep {mark} & echo $! > "$STATE/setsid.tmp"\n'
        'mv "$STATE/setsid.tmp" "$STATE/setsid"\n'
        'while [ ! -s "$STATE/daemon" ] || [ ! -s "$STATE/setsid" ]; do sleep 0.01; done\n'
    )
    script = world.claude.path.read_text()
    run = 'cat > "$STATE/prompt-$$"\n'
    assert run in script
    world.claude.path.write_text(script.replace(run, run + helpers))
    try:
        yield mark
    finally:
        for line in survivors(mark, parent=-1):
            os.kill(int(line.split(":")[0]), signal.SIGKILL)


def record_session(world: OxWorld) -> str:
    """A session file with the recorded lines, started and stopped: it is finalized next."""
    folder = world.home / ".claude" / "projects" / "-home-dev-demo"
    folder.mkdir(parents=True)
    session_file = folder / f"{SESSION_ID}.jsonl"
    session_file.touch()
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        started = world.cli(
            "session", "start", "--adapter", "claude-code", "--file", str(session_file),
            "--pid", str(writer.pid), "--json",
        )  # fmt: skip
        reply = json.loads(started.stdout)
        raw = Path(reply["session_dir"]) / "raw.jsonl"
        with session_file.open("a") as out:
            out.write((world.data / "claude_session.jsonl").read_text())
        wait_until(
            "the lines in raw.jsonl", lambda: raw.exists() and raw.read_text().count("\n") > 3
        )
        world.cli("session", "stop", reply["name"])
    finally:
        writer.kill()
        writer.wait()
    return str(reply["name"])


def helper_pids(world: OxWorld) -> tuple[int, int, int]:
    """(the daemonized helper, its parent once re-parented, the setsid helper)."""
    daemon, parent = map(int, (world.claude.state / "daemon").read_text().split())
    return daemon, parent, int((world.claude.state / "setsid").read_text())


def nothing_left(marker: str, daemon: Daemon) -> list[str]:
    deadline = time.monotonic() + 60  # generous: a loaded machine; empty returns at once
    while (left := survivors(marker, parent=daemon.proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def test_a_run_that_answers_leaves_nothing_and_no_zombie(world: OxWorld, marker: str) -> None:
    daemon = world.serve()
    record_session(world)
    wait_until(
        "the finalization",
        lambda: daemon.call("status")["agent_work"]["stats"]["successes"] >= 1,
    )
    orphan, adopted_by, _ = helper_pids(world)
    # The daemon is the subreaper of its descendants: the orphan came to it, not to init...
    assert adopted_by == daemon.proc.pid
    # ...and was killed and reaped when the run ended, as was the setsid helper.
    assert nothing_left(marker, daemon) == []
    assert not os.path.exists(f"/proc/{orphan}")
    assert daemon.stop() == 0


def test_a_run_that_times_out_leaves_nothing(world: OxWorld, marker: str) -> None:
    world.claude.block.touch()  # the run hangs until its timeout
    world.env["OX_AGENT_WORK__TIMEOUT"] = "2"
    world.env["OX_RUNNERS__CLAUDE__GRACE"] = "0.2"
    daemon = world.serve()
    record_session(world)
    wait_until(
        "the timed-out run",
        lambda: (
            daemon.call("status")["agent_work"]["stats"]["failures"]
            + daemon.call("status")["agent_work"]["stats"]["retries"]
            >= 1
        ),
    )
    helper_pids(world)  # the helpers were there
    assert nothing_left(marker, daemon) == []
    assert daemon.stop() == 0


def test_a_run_stopped_with_the_daemon_leaves_nothing(world: OxWorld, marker: str) -> None:
    world.claude.block.touch()
    daemon = world.serve()
    record_session(world)
    wait_until("the helpers", lambda: (world.claude.state / "setsid").exists())
    wait_until("the helpers", lambda: (world.claude.state / "daemon").exists())
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=60) == 0
    assert nothing_left(marker, daemon) == []
