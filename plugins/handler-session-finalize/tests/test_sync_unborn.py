"""A ledger with no commit yet (a clone of the team's new, empty repository whose first
commit waits for a git identity) has nothing to sync: a pass says nothing failed, and never
pushes (an empty source would delete the remote's branch). Real git, a bare remote on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from ox_handler_session_finalize.ledger import Ledger
from ox_handler_session_finalize.sync import SyncResult, sync_ledger
from ox_handler_session_finalize.sync_service import LedgerSyncer

from .finalize_support import git


@pytest.fixture
def empty_clone(tmp_path: Path, git_env: None, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clone of an empty bare repository, git with no identity to make a first commit."""
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(key)
    monkeypatch.delenv("EMAIL", raising=False)
    config = tmp_path / "gitconfig"
    config.write_text(config.read_text() + "[user]\n\tuseConfigOnly = true\n")
    remote = tmp_path / "team.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(tmp_path, "clone", "-q", str(remote), str(tmp_path / "ledger"))
    return tmp_path / "ledger"


async def test_a_ledger_with_no_commit_yet_syncs_without_an_error(empty_clone: Path) -> None:
    state = await LedgerSyncer(Ledger(empty_clone)).sync_once()
    # Was: "git log ... HEAD failed (exit 128): fatal: ambiguous argument 'HEAD'", every pass.
    assert (state.remote, state.ahead, state.last_error, state.paused) == ("origin", 0, "", "")
    assert await Ledger(empty_clone).head() == ""


async def test_a_ledger_with_no_commit_yet_never_pushes_onto_a_teammates_branch(
    empty_clone: Path, tmp_path: Path
) -> None:
    mate = tmp_path / "mate"
    git(tmp_path, "clone", "-q", str(tmp_path / "team.git"), str(mate))
    (mate / ".gitignore").write_text(".ox/cache/\n")
    git(mate, "add", ".gitignore")
    git(mate, "-c", "user.name=Mate", "-c", "user.email=m@x", "commit", "-q", "-m", "ledger")
    git(mate, "push", "-q", "origin", "HEAD:main")
    theirs = git(mate, "rev-parse", "HEAD")
    # Was: GitError "git rev-list ... HEAD...refs/remotes/origin/main failed", every pass.
    assert await sync_ledger(Ledger(empty_clone)) == SyncResult(remote="origin")
    assert git(tmp_path / "team.git", "rev-parse", "main") == theirs
