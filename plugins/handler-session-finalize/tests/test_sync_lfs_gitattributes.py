"""The first publish in an LFS ledger adds ox's LFS lines to `.gitattributes` and commits the
file whole, as the work tree has it: the user's own uncommitted edit of it goes into ox's
commit. And when that publish fails (the LFS server away), the undo checks `.gitattributes`
out of HEAD: the user's uncommitted edit is gone."""

from __future__ import annotations

import contextlib
from pathlib import Path

from ox_core.errors import LedgerBlockedError
from ox_handler_session_finalize.ledger import Ledger, LfsUploadError

from .conftest import LfsServer
from .finalize_support import git

NAME = "2026-11-25T11-00-dev-a1"
TEAM = "*.png filter=lfs diff=lfs merge=lfs -text\n"
MINE = TEAM + "*.psd filter=lfs diff=lfs merge=lfs -text\n"  # the user's, not committed yet


def team_attributes(ledger: Path) -> None:
    (ledger / ".gitattributes").write_text(TEAM)
    git(ledger, "add", ".gitattributes")
    git(ledger, "commit", "-q", "-m", "attributes")
    (ledger / ".gitattributes").write_text(MINE)


async def test_a_failed_lfs_publish_never_loses_the_users_edit(ledger: Path) -> None:
    git(ledger, "config", "lfs.url", "http://127.0.0.1:9/away")
    team_attributes(ledger)
    repo = Ledger(ledger)
    with contextlib.suppress(LfsUploadError, LedgerBlockedError):
        await repo.publish(NAME, {"raw.jsonl": b'{"type":"user","content":"ours"}\n'})
    assert (ledger / ".gitattributes").read_text().startswith(MINE)


async def test_an_lfs_publish_never_commits_the_users_edit(
    ledger: Path, lfs_server: LfsServer
) -> None:
    git(ledger, "config", "lfs.url", lfs_server.url)
    git(ledger, "config", "lfs.locksverify", "false")
    team_attributes(ledger)
    repo = Ledger(ledger)
    with contextlib.suppress(LedgerBlockedError):  # waits for the user's edit to be settled
        await repo.publish(NAME, {"raw.jsonl": b'{"type":"user","content":"ours"}\n'})
    assert "*.psd" not in git(ledger, "show", "HEAD:.gitattributes")
    assert (ledger / ".gitattributes").read_text().startswith(MINE)


async def test_a_retry_after_a_failed_first_lfs_publish_commits_the_attributes(
    ledger: Path, lfs_server: LfsServer
) -> None:
    # No `.gitattributes` yet: the failed attempt's one stays behind, untracked, and the retry
    # finds its lines there: the sessions go in as LFS pointers, the attributes never.
    git(ledger, "config", "lfs.url", "http://127.0.0.1:9/away")
    git(ledger, "config", "lfs.locksverify", "false")
    repo = Ledger(ledger)
    with contextlib.suppress(LfsUploadError):
        await repo.publish(NAME, {"raw.jsonl": b'{"type":"user","content":"ours"}\n'})
    git(ledger, "config", "lfs.url", lfs_server.url)
    repo = Ledger(ledger)
    await repo.publish(NAME, {"raw.jsonl": b'{"type":"user","content":"ours"}\n'})
    assert "sessions/**/raw.jsonl filter=lfs" in git(ledger, "show", "HEAD:.gitattributes")
