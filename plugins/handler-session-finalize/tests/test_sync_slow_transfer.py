"""A push or fetch is stopped when it is stuck, not when it is slow: it shows its progress,
runs as long as that moves (up to `TRANSFER_LIMIT`), and is stopped after `TRANSFER_STALL`
seconds without a byte (a dead connection, a server that stopped answering). Real git, a
real bare remote whose hooks talk slowly or fall silent; the limits are scaled down."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ox_handler_session_finalize import git as git_mod
from ox_handler_session_finalize.git import GitError, without_progress
from ox_handler_session_finalize.ledger import Ledger
from ox_handler_session_finalize.sync import sync_ledger

from .finalize_support import clone, commit_count

NAME = "2026-11-25T10-00-dev-a1"
OURS = b'{"type":"user","content":"ours"}\n'


@pytest.fixture
def short_stall(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(git_mod, "TRANSFER_STALL", 2.0)
    return 2.0


def add_to(config: Path, text: str) -> None:
    """Add `text` to the private global git config (`git_env`)."""
    with open(config, "a") as f:
        f.write(text)


def hook(remote: Path, body: str) -> None:
    path = remote / "hooks" / "pre-receive"
    path.write_text("#!/bin/sh\ncat >/dev/null\n" + body)
    path.chmod(0o755)


async def test_a_push_that_keeps_talking_is_not_stopped(
    ledger: Path, remote: Path, short_stall: float
) -> None:
    # The server works for twice the stall limit, saying so every 0.1 s.
    hook(remote, 'for i in $(seq 40); do echo "checking $i"; sleep 0.1; done\nexit 0\n')
    repo = Ledger(ledger)
    await repo.publish(NAME, {"raw.jsonl": OURS})
    before = commit_count(remote)
    started = time.monotonic()
    result = await sync_ledger(repo)
    assert time.monotonic() - started > short_stall  # longer than the stall limit
    assert result.pushed == 1
    assert commit_count(remote) == before + 1


async def test_a_push_that_falls_silent_is_stopped_and_says_so(
    ledger: Path, remote: Path, short_stall: float
) -> None:
    hook(remote, 'echo "scanning the push"\nsleep 300\nexit 0\n')
    repo = Ledger(ledger)
    repo.push_pause = 0
    await repo.publish(NAME, {"raw.jsonl": OURS})
    before = commit_count(remote)
    started = time.monotonic()
    with pytest.raises(GitError, match=r"showed no progress for 2 s and was stopped") as caught:
        await sync_ledger(repo)
    assert time.monotonic() - started < 120  # not the hook's 300 s, nor the hour's limit
    assert "remote: scanning the push" in str(caught.value)  # the last thing it said
    assert commit_count(remote) == before  # nothing pushed: tried again at the next sync


def test_progress_lines_are_left_out_of_what_git_said_and_errors_kept() -> None:
    said = (
        "Enumerating objects: 3, done.\n"
        "Counting objects:  33% (1/3)\rCounting objects: 100% (3/3), done.\n"
        "Writing objects: 100% (3/3), 179 bytes | 179.00 KiB/s, done.\n"
        "Total 3 (delta 0), reused 0 (delta 0), pack-reused 0\n"
        "remote: Resolving deltas: 100% (1/1), done.\n"
        "Uploading LFS objects: 100% (1/1), 12 B | 0 B/s, done.\n"
        "remote: error: refusing to update checked out branch\n"
        "error: failed to push some refs to 'origin'\n"
    )
    assert without_progress(said) == (
        "remote: error: refusing to update checked out branch\n"
        "error: failed to push some refs to 'origin'\n"
    )
    plain = "fatal: could not read from remote repository\n"
    assert without_progress(plain) == plain


async def test_a_fetch_whose_server_falls_silent_is_stopped_and_says_so(
    ledger: Path, remote: Path, tmp_path: Path, short_stall: float
) -> None:
    # A teammate's commit to fetch; the server's pack-objects never answers.
    other = tmp_path / "other"
    await sync_ledger(Ledger(ledger))
    clone(remote, other)
    (other / "note.txt").write_text("theirs\n")
    for args in (["add", "note.txt"], ["commit", "-qm", "theirs"], ["push", "-q", "origin"]):
        await git_mod.run_git(other, *args)
    stuck = tmp_path / "stuck-pack-objects"
    stuck.write_text("#!/bin/sh\nsleep 300\n")
    stuck.chmod(0o755)
    add_to(tmp_path / "gitconfig", f"[uploadpack]\n\tpackObjectsHook = {stuck}\n")
    started = time.monotonic()
    with pytest.raises(GitError, match=r"git fetch .* showed no progress for 2 s"):
        await sync_ledger(Ledger(ledger))
    assert time.monotonic() - started < 120
