"""The daemon killed (kill -9, power loss) while its sync's rebase is stopped on a session
conflict: the next start found `.git/rebase-merge`, and every publish and every sync failed
on "unresolved merge conflicts" until a person aborted the rebase ox itself had started (now
the sync's mark in the git dir says it was ox's, and the next sync undoes it). Sessions pile
up in the cache; the user's autostashed edits sit in `.git/rebase-merge/autostash`."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import trio

from ox_handler_session_finalize.ledger import Ledger
from ox_handler_session_finalize.sync import sync_ledger

from .finalize_support import clone, git

NAME = "2026-11-25T10-00-dev-a1"
MATE = {
    "GIT_AUTHOR_NAME": "Mate",
    "GIT_AUTHOR_EMAIL": "mate@localhost",
    "GIT_COMMITTER_NAME": "Mate",
    "GIT_COMMITTER_EMAIL": "mate@localhost",
}

CHILD = textwrap.dedent(
    """
    import os, signal, sys, trio
    from pathlib import Path
    from ox_handler_session_finalize import sync
    from ox_handler_session_finalize.ledger import Ledger

    async def killed(ledger, name):
        os.kill(os.getpid(), signal.SIGKILL)  # the daemon dies mid-rebase

    sync._keep_both = killed
    trio.run(sync.sync_ledger, Ledger(Path(sys.argv[1])))
    """
)


async def test_a_rebase_left_by_a_killed_daemon_never_blocks_the_next_start(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    repo = Ledger(ledger)
    await repo.publish(NAME, {"raw.jsonl": b'{"type":"user","content":"first"}\n'})
    await sync_ledger(repo)
    mate = clone(remote, tmp_path / "mate")
    (mate / "sessions" / NAME / "raw.jsonl").write_text('{"type":"user","content":"edited"}\n')
    git(mate, "commit", "-q", "-am", "edit", env=MATE)
    git(mate, "push", "-q", "origin", "HEAD:main")
    await repo.publish(NAME, {"raw.jsonl": b'{"type":"user","content":"grown"}\n'}, replace=True)
    before = git(ledger, "rev-parse", "HEAD").strip()
    done = await trio.run_process(
        [sys.executable, "-c", CHILD, str(ledger)], capture_stderr=True, check=False
    )
    assert done.returncode == -9, done.stderr
    assert (ledger / ".git" / "rebase-merge").exists()  # the state the next start finds
    # The next start: a new daemon, the same ledger.
    repo = Ledger(ledger)
    await sync_ledger(repo)
    await repo.publish("s-next", {"raw.jsonl": b'{"type":"user","content":"next"}\n'})
    await sync_ledger(repo)
    pushed = git(remote, "ls-tree", "-r", "--name-only", "main")
    assert "sessions/s-next/raw.jsonl" in pushed
    assert git(ledger, "symbolic-ref", "-q", "HEAD").strip() == "refs/heads/main"
    assert before in git(ledger, "reflog", "--format=%H")  # nothing of ours lost
