"""Our own session, pushed, then taken off the remote by a teammate's forced push (a secret
the redaction missed, scrubbed from the team's history)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ox_handler_session_finalize.ledger import Ledger
from ox_handler_session_finalize.sync import SyncPaused, sync_ledger

from .finalize_support import clone, git

MATE = {
    "GIT_AUTHOR_NAME": "Mate",
    "GIT_AUTHOR_EMAIL": "mate@localhost",
    "GIT_COMMITTER_NAME": "Mate",
    "GIT_COMMITTER_EMAIL": "mate@localhost",
}
LEAKED = "2026-11-25T10-00-dev-a1"
LATER = "2026-11-25T11-00-dev-a2"


async def test_our_pushed_session_a_forced_push_removed_is_never_pushed_back(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    repo = Ledger(ledger)
    await repo.publish(LEAKED, {"raw.jsonl": b'{"type":"user","content":"leak"}\n'})
    await sync_ledger(repo)
    assert f"sessions/{LEAKED}/raw.jsonl" in git(remote, "ls-tree", "-r", "--name-only", "main")
    # A teammate scrubs it: the remote's branch rewritten without our commit.
    mate = clone(remote, tmp_path / "mate")
    git(mate, "reset", "-q", "--hard", "HEAD~1")
    (mate / "README").write_text("team ledger\n")
    git(mate, "add", "README")
    git(mate, "commit", "-q", "-m", "scrub", env=MATE)
    git(mate, "push", "-q", "--force", "origin", "HEAD:main")
    await repo.publish(LATER, {"raw.jsonl": b'{"type":"user","content":"later"}\n'})
    with pytest.raises(SyncPaused, match="no longer has"):
        await sync_ledger(repo)  # a person decides
    assert LEAKED not in git(remote, "ls-tree", "-r", "--name-only", "main")
    # Nothing of ours is lost: both sessions stay committed locally.
    held = git(ledger, "ls-tree", "-r", "--name-only", "HEAD")
    assert f"sessions/{LEAKED}/raw.jsonl" in held
    assert f"sessions/{LATER}/raw.jsonl" in held
