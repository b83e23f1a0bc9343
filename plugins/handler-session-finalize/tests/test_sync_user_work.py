"""The user's own uncommitted edit in the ledger, to a file a teammate's new commit changes too,
while ox has a session to push: the rebase's `--autostash` cannot put the edit back, git leaves
it in the stash list and conflict markers in the file (the rebase itself "succeeds"), ox pushes,
and then every publish is blocked on the conflict ox made. The user's work must never be
stashed away nor the ledger left with a conflict: the sync pauses, leaving it as it was."""

from __future__ import annotations

import contextlib
from pathlib import Path

from ox_handler_session_finalize.ledger import Ledger
from ox_handler_session_finalize.sync import SyncPaused, sync_ledger

from .finalize_support import clone, git

NAME = "2026-11-25T10-00-dev-a1"
MATE = {
    "GIT_AUTHOR_NAME": "Mate",
    "GIT_AUTHOR_EMAIL": "mate@localhost",
    "GIT_COMMITTER_NAME": "Mate",
    "GIT_COMMITTER_EMAIL": "mate@localhost",
}


async def test_the_users_uncommitted_edit_is_never_stashed_away_by_a_sync(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    mate = clone(remote, tmp_path / "mate")
    (mate / "README.md").write_text("team ledger\n")
    git(mate, "add", "README.md")
    git(mate, "commit", "-q", "-m", "readme", env=MATE)
    git(mate, "push", "-q", "origin", "HEAD:main")
    repo = Ledger(ledger)
    await sync_ledger(repo)
    # The user edits it by hand (not committed); the teammate edits it too.
    (ledger / "README.md").write_text("team ledger\nmy notes, not done yet\n")
    (mate / "README.md").write_text("the team's ledger\n")
    git(mate, "commit", "-q", "-am", "readme 2", env=MATE)
    git(mate, "push", "-q", "origin", "HEAD:main")
    await repo.publish(NAME, {"raw.jsonl": b'{"type":"user","content":"ours"}\n'})
    with contextlib.suppress(SyncPaused):
        await sync_ledger(repo)
    assert (ledger / "README.md").read_text() == "team ledger\nmy notes, not done yet\n"
    assert git(ledger, "stash", "list") == ""
    assert await repo.conflicts() == []
    # Publishing goes on meanwhile.
    await repo.publish("s-next", {"raw.jsonl": b'{"type":"user","content":"next"}\n'})
