"""What the ledger's facts say follows git's config while the daemon runs, whichever file
holds it: the user's global config (where the missing-identity message says to set one), or
the repository's own config when the ledger is a linked worktree (its `config` is in the
repository's git dir, not in the worktree's). Real git, a bare remote on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from ox_core.errors import LedgerBlockedError
from ox_handler_session_finalize.ledger import Ledger
from ox_handler_session_finalize.sync import sync_ledger

from .finalize_support import clone, commit_count, git

OURS = b'{"type":"user","content":"ours"}\n'


@pytest.fixture
def no_identity(tmp_path: Path, git_env: None, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Git has no identity (none in the environment, none guessed); the global config file."""
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(key)
    monkeypatch.delenv("EMAIL", raising=False)
    config = tmp_path / "gitconfig"
    config.write_text(config.read_text() + "[user]\n\tuseConfigOnly = true\n")
    return config


async def test_an_identity_set_while_running_is_committed_with(
    remote: Path, tmp_path: Path, no_identity: Path
) -> None:
    repo = Ledger(clone(remote, tmp_path / "ledger"))
    with pytest.raises(LedgerBlockedError, match="no identity"):
        await repo.publish("s1", {"raw.jsonl": OURS})
    # What the message says to do.
    git(tmp_path, "config", "--global", "user.name", "Ann")
    git(tmp_path, "config", "--global", "user.email", "ann@example.invalid")
    assert (await repo.publish("s1", {"raw.jsonl": OURS})).committed


async def test_an_identity_changed_while_running_is_never_taken_for_a_teammates(
    remote: Path, tmp_path: Path, no_identity: Path
) -> None:
    git(tmp_path, "config", "--global", "user.name", "Ann")
    git(tmp_path, "config", "--global", "user.email", "ann@old.invalid")
    repo = Ledger(clone(remote, tmp_path / "ledger"))
    await repo.publish("s1", {"raw.jsonl": OURS})
    assert (await sync_ledger(repo)).pushed == 1
    git(tmp_path, "config", "--global", "user.email", "ann@new.invalid")
    await repo.publish("s2", {"raw.jsonl": OURS})
    # Was: SyncPaused, "holds commits of others ... someone removed them (a forced push).
    # Drop them": the user's own session.
    assert (await sync_ledger(repo)).pushed == 1
    assert commit_count(remote) == 3


async def test_a_worktree_ledgers_config_set_while_running_is_read(
    remote: Path, tmp_path: Path, no_identity: Path
) -> None:
    primary = clone(remote, tmp_path / "primary")
    git(primary, "checkout", "-q", "--detach")
    git(primary, "worktree", "add", "-q", str(tmp_path / "ledger"), "main")
    ledger = tmp_path / "ledger"
    repo = Ledger(ledger)
    with pytest.raises(LedgerBlockedError, match="no identity"):
        await repo.publish("s1", {"raw.jsonl": OURS})
    git(ledger, "config", "user.name", "Ann")
    git(ledger, "config", "user.email", "ann@example.invalid")
    assert (await repo.publish("s1", {"raw.jsonl": OURS})).committed
