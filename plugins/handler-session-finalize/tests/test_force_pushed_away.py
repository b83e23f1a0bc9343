"""A teammate's commit, once fetched (the daemon's sync fast-forwards to it), then taken off
the remote by its author's forced push (a leaked secret scrubbed from the team's history), is
pushed back by ox at its next pass: with no commit of its own ahead, and again rebased under
one. ox publishes a file it never created. Failed before the sync paused on commits of others
that the remote no longer has."""

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
SECRET = "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"


@pytest.mark.parametrize("ours", [False, True], ids=["nothing-of-ours", "a-session-of-ours"])
async def test_a_teammates_scrubbed_commit_is_never_pushed_back(
    ledger: Path, remote: Path, tmp_path: Path, ours: bool
) -> None:
    repo = Ledger(ledger)
    mate = clone(remote, tmp_path / "mate")
    (mate / "notes.txt").write_text(SECRET)
    git(mate, "add", "notes.txt")
    git(mate, "commit", "-q", "-m", "oops", env=MATE)
    git(mate, "push", "-q", "origin", "HEAD:main")
    await sync_ledger(repo)  # the daemon's periodic pass: fast-forwarded to it
    # The teammate scrubs it (and goes on working): the remote no longer holds the secret.
    git(mate, "reset", "-q", "--hard", "HEAD~1")
    (mate / "README").write_text("team ledger\n")
    git(mate, "add", "README")
    git(mate, "commit", "-q", "-m", "readme", env=MATE)
    git(mate, "push", "-q", "--force", "origin", "HEAD:main")
    if ours:
        await repo.publish("2026-11-25T10-00-dev-a1", {"raw.jsonl": b'{"type":"user"}\n'})
    with pytest.raises(SyncPaused, match="no longer has"):
        await sync_ledger(repo)  # a person decides
    assert "notes.txt" not in git(remote, "ls-tree", "--name-only", "main")
    if ours:  # kept, committed locally, for the push once it is resolved
        assert "sessions/2026-11-25T10-00-dev-a1/raw.jsonl" in git(
            ledger, "ls-tree", "-r", "--name-only", "HEAD"
        )


# The same when the remote's branch is gone (the team moved to a scrubbed `trunk` after a
# secret leaked, or renamed the branch): the fetch found no branch, the sync took the remote
# for an empty team repository and pushed the whole local history as a new branch, the
# teammate's scrubbed commit included.


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
    with pytest.raises(SyncPaused, match="no branch"):
        await sync_ledger(repo)  # a person decides
    pushed = git(remote, "for-each-ref", "--format=%(refname)", "refs/heads/").split()
    for ref in pushed:
        assert "notes.txt" not in git(remote, "ls-tree", "--name-only", ref), ref
    # Ours is kept, committed locally.
    assert "sessions/2026-11-25T10-00-dev-a1/raw.jsonl" in git(
        ledger, "ls-tree", "-r", "--name-only", "HEAD"
    )
