"""A ledger whose HEAD is a detached commit (someone checked one out to look at it) gets no
session commit: committed there, a session is on no branch, and the checkout back to the
branch walks away from it, its cache copy already gone, whenever the push had not gone
through first (offline). Publishing pauses, saying how to go back; nothing is lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from ox_core.errors import LedgerBlockedError
from ox_handler_session_finalize.ledger import Ledger
from ox_handler_session_finalize.sync import sync_ledger

from .finalize_support import commit_count, git

NAME = "2026-11-25T10-00-dev-a1"
OURS = b'{"type":"user","content":"ours"}\n'


async def test_a_detached_head_pauses_publishing_until_the_branch_is_back(
    ledger: Path, remote: Path
) -> None:
    git(ledger, "checkout", "-q", "--detach")
    repo = Ledger(ledger)
    before = commit_count(ledger)
    with pytest.raises(LedgerBlockedError, match=r"not on a branch .* git checkout main\)"):
        await repo.publish(NAME, {"raw.jsonl": OURS})
    assert commit_count(ledger) == before
    assert git(ledger, "status", "--porcelain", "--untracked-files=all") == ""

    git(ledger, "checkout", "-q", "main")
    await repo.publish(NAME, {"raw.jsonl": OURS})
    await sync_ledger(repo)
    assert git(remote, "show", f"main:sessions/{NAME}/raw.jsonl").encode() == OURS
