"""A ledger that is a linked worktree (its `.git` a file): ox pins its attributes for session
files in the worktree's own git dir (`.git/worktrees/<name>/info/attributes`), a file git never
reads (`info/` is shared: git reads the common dir's). A teammate's `.gitattributes` then
rewrites our sessions, or makes every `git add` of one fail, as if there were no pin."""

from __future__ import annotations

from pathlib import Path

import pytest

from ox_handler_session_finalize.ledger import Ledger
from ox_handler_session_finalize.sync import sync_ledger

from .finalize_support import clone, git

NAME = "2026-11-25T10-00-dev-a1"


def teammate_commits(remote: Path, root: Path, files: dict[str, bytes]) -> None:
    mate = clone(remote, root)
    for rel, data in files.items():
        (mate / rel).parent.mkdir(parents=True, exist_ok=True)
        (mate / rel).write_bytes(data)
        git(mate, "add", "-f", "--", rel)
    git(mate, "commit", "-q", "-m", "teammate")
    git(mate, "push", "-q", "origin", "HEAD:main")


def worktree_ledger(remote: Path, root: Path) -> Path:
    primary = clone(remote, root / "primary")
    git(primary, "checkout", "-q", "--detach")
    git(primary, "worktree", "add", "-q", str(root / "ledger-wt"), "main")
    assert (root / "ledger-wt" / ".git").is_file()
    return root / "ledger-wt"


@pytest.mark.parametrize(
    "attributes",
    [
        "sessions/** working-tree-encoding=UTF-16",
        "sessions/** ident",
        "sessions/** text eol=crlf",
    ],
)
async def test_a_worktree_ledgers_sessions_keep_their_bytes(
    remote: Path, tmp_path: Path, attributes: str
) -> None:
    ledger = worktree_ledger(remote, tmp_path)
    theirs = b'{"type":"user","content":"theirs $Id$ \\u00e9"}\n'
    teammate_commits(remote, tmp_path / "mate", {"sessions/theirs/raw.jsonl": theirs})
    teammate_commits(remote, tmp_path / "mate2", {".gitattributes": f"{attributes}\n".encode()})
    repo = Ledger(ledger)
    await sync_ledger(repo)
    ours = '{"type":"user","content":"ours $Id$ é"}\n'.encode()
    await repo.publish(NAME, {"raw.jsonl": ours})
    await sync_ledger(repo)
    assert git(remote, "cat-file", "-p", f"main:sessions/{NAME}/raw.jsonl").encode() == ours
    assert (ledger / "sessions" / NAME / "raw.jsonl").read_bytes() == ours
    assert (ledger / "sessions" / "theirs" / "raw.jsonl").read_bytes() == theirs
