"""A teammate's `.gitignore` rule that matches a whole session folder (not only some of its
files) makes `git add -A -- sessions/<name>` exit 1 ("The following paths are ignored"): the
batch fails, and every other session that shares it fails with it, at every retry."""

from __future__ import annotations

from pathlib import Path

from ox_handler_session_finalize.ledger import Ledger, PublishResult
from ox_handler_session_finalize.sync import sync_ledger

from .finalize_support import git
from .test_hostile_remote import teammate_commits
from .test_redteam_ledger import publish_together

BAD = "2026-11-25T10-00-dev-a1"
GOOD = "2026-11-25T10-05-eve-b2"


async def test_an_ignored_session_folder_is_published_and_never_fails_its_batch(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    teammate_commits(remote, tmp_path / "mate", {".gitignore": b".ox/cache/\nsessions/*-dev-*\n"})
    repo = Ledger(ledger)
    await sync_ledger(repo)
    results = await publish_together(
        repo,
        [
            (BAD, {"raw.jsonl": b'{"type":"user","content":"bad"}\n'}, False),
            (GOOD, {"raw.jsonl": b'{"type":"user","content":"good"}\n'}, False),
        ],
    )
    assert isinstance(results[GOOD], PublishResult), results[GOOD]
    assert isinstance(results[BAD], PublishResult), results[BAD]
    held = git(ledger, "ls-tree", "-r", "--name-only", "HEAD", "sessions/")
    assert f"sessions/{GOOD}/raw.jsonl" in held
    assert f"sessions/{BAD}/raw.jsonl" in held
