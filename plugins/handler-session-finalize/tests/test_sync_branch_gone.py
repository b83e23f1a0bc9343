"""The remote's branch is deleted (the team moved to a scrubbed `trunk` after a secret leaked,
or renamed the branch): the fetch finds no branch, the sync takes the remote for an empty
team repository and pushes the whole local history as a new branch, a teammate's scrubbed
commit included. ox publishes what it never created."""

from __future__ import annotations

import contextlib
from pathlib import Path

from ox_handler_session_finalize.ledger import Ledger
from ox_handler_session_finalize.sync import SyncPaused, sync_ledger

from .finalize_support import clone, git

MATE = {
    "GIT_AUTHOR_NAME": "Mate",
    "GIT_AUTHOR_EMAIL": "mate@localhost",
    "GIT_COMMITTER_NAME": "Mate",
    "GIT_COMMITTER_EMAIL": "mate@localhost",
}
SECRET = "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"


async def test_a_deleted_remote_branch_is_never_recreated_with_a_teammates_commit(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    repo = Ledger(ledger)
    mate = clone(remote, tmp_path / "mate")
    (mate / "notes.txt").write_text(SECRET)
    git(mate, "add", "notes.txt")
    git(mate, "commit", "-q", "-m", "oops", env=MATE)
    git(mate, "push", "-q", "origin", "HEAD:main")
    await sync_ledger(repo)  # fast-forwarded to the teammate's commit
    # The team scrubs it: a new branch without the secret, `main` deleted.
    git(mate, "reset", "-q", "--hard", "HEAD~1")
    git(mate, "push", "-q", "origin", "HEAD:refs/heads/trunk")
    git(remote, "symbolic-ref", "HEAD", "refs/heads/trunk")  # the host's default branch
    git(mate, "push", "-q", "origin", "--delete", "main")
    await repo.publish("2026-11-25T10-00-dev-a1", {"raw.jsonl": b'{"type":"user"}\n'})
    with contextlib.suppress(SyncPaused):
        await sync_ledger(repo)  # a person decides
    pushed = git(remote, "for-each-ref", "--format=%(refname)", "refs/heads/").split()
    for ref in pushed:
        assert "notes.txt" not in git(remote, "ls-tree", "--name-only", ref), ref
    # Ours is kept, committed locally.
    assert "sessions/2026-11-25T10-00-dev-a1/raw.jsonl" in git(
        ledger, "ls-tree", "-r", "--name-only", "HEAD"
    )
