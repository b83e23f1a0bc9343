"""An agent process that exited but whose parent has not reaped it yet (a zombie) no longer
writes: the liveness check must stop its recording (and a restarted daemon must not resume
it), not keep it live until some parent calls wait()."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ox_core.proc import read_stat
from ox_core.testing import wait_until
from ox_session_capture.records import MARKER
from ox_session_capture.service import SessionWatchService
from ox_session_capture.testing import append, claude_session_file, numbered_user

SID = "f04c7045-b614-40b5-816d-7256c84b37f6"


def hook(file: Path, event: str, pid: int) -> dict[str, object]:
    return {"adapter": "claude-code", "event": event, "agent_session_id": SID,
            "file": str(file), "pid": pid, "resumed": False}  # fmt: skip


async def test_an_agent_that_exited_unreaped_is_dead(ledger: Path, home: Path) -> None:
    src = claude_session_file(home)
    agent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])  # noqa: ASYNC220 - never waited for, on purpose
    try:
        svc = SessionWatchService(ledger)
        rec = await svc.session_hook(hook(src, "start", agent.pid))
        append(src, numbered_user(1))
        agent.kill()  # exits; its parent (this test, like a busy IDE) has not waited yet
        wait_until(
            "the agent to be a zombie",
            lambda: (stat := read_stat(agent.pid)) is not None and stat.state == "Z",
        )
        assert await svc.stop_dead() == [rec["name"]]
        assert not (Path(str(rec["session_dir"])) / MARKER).exists()
    finally:
        agent.kill()
        agent.wait()
