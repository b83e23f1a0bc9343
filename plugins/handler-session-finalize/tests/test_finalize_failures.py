"""Failures and interruptions in the middle of publishing, against real git: a commit refused,
the daemon stopped during the commit, a sync running while a committed session is retried.
Each must lose nothing, leave nothing half-done in the ledger, and let the next attempt on."""

from __future__ import annotations

import errno
import json
import os
import time
from pathlib import Path

import pytest
import trio

from ox_core import RunResult
from ox_core.errors import LedgerBlockedError
from ox_handler_session_finalize import handler as handler_module
from ox_handler_session_finalize.git import GitError
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_handler_session_finalize.sync import sync_ledger
from ox_session_capture import records
from ox_session_capture.confined import read_regular

from .finalize_support import answer, clone, git, make_session

NAME = "2026-11-25T11-00-dev-a1"
BROKEN = '```json\n{"title": "tr'


def _signer(ledger: Path, body: str) -> Path:
    """The ledger's commits signed by a program that runs `body` (ox runs no git hook, so a
    commit that fails or hangs is played by its signing step); the program, to remove."""
    program = ledger.parent / "sign"
    program.write_text(f"#!/bin/sh\n{body}\n")
    program.chmod(0o755)
    git(ledger, "config", "commit.gpgSign", "true")
    git(ledger, "config", "gpg.program", str(program))
    return program


def _unsign(ledger: Path) -> None:
    git(ledger, "config", "--unset", "commit.gpgSign")


async def _finalize(handler: SessionFinalizeHandler, ledger: Path, output: str) -> None:
    items = await handler.detect(ledger)
    assert len(items) == 1, [i.payload for i in items]
    await handler.build_prompt(items[0])
    await handler.process_result(items[0], RunResult(output=output))


def _published_in(remote: Path, name: str) -> int:
    return git(remote, "log", "--format=%B", "main").count(f"finalize session {name}")


async def test_a_refused_commit_leaves_nothing_staged_and_the_session_waits(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # A copy left staged in the work tree by the failed commit would ride along with the
    # next commit of anything, outside the session's own publish.
    folder = make_session(records.user_cache_sessions(ledger, tmp_path / "usercache"), NAME)
    _signer(ledger, "exit 1")
    with pytest.raises(GitError, match="gpg failed to sign"):
        await _finalize(handler, ledger, answer())
    assert folder.is_dir()
    assert git(ledger, "status", "--porcelain", "--untracked-files=all") == ""

    _unsign(ledger)
    items = await handler.detect(ledger)
    assert [(i.payload["place"], i.payload["kind"]) for i in items] == [
        ("user-cache", "upload-only")
    ]
    await handler.process_result(items[0], RunResult())
    assert _published_in(remote, NAME) == 1
    assert not folder.exists()


async def test_a_publish_cancelled_during_its_commit_is_published_once_after_restart(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    folder = make_session(records.user_cache_sessions(ledger, tmp_path / "usercache"), NAME)
    started = tmp_path / "commit-started"
    os.mkfifo(started)
    _signer(ledger, f"echo started > '{started}'; exec sleep 600")
    handler = SessionFinalizeHandler(user_cache_dir=tmp_path / "usercache")
    items = await handler.detect(ledger)
    async with trio.open_nursery() as nursery:

        async def run() -> None:
            await handler.process_result(items[0], RunResult(output=answer()))

        nursery.start_soon(run)
        with trio.fail_after(60):  # the hook runs: `git commit` is under way
            await trio.to_thread.run_sync(started.read_bytes, abandon_on_cancel=True)
        nursery.cancel_scope.cancel()  # the daemon stops in the middle of `git commit`
    assert folder.is_dir()
    assert not (ledger / ".git" / "index.lock").exists()
    assert git(ledger, "status", "--porcelain", "--untracked-files=all") == ""

    _unsign(ledger)
    restarted = SessionFinalizeHandler(user_cache_dir=tmp_path / "usercache")
    items = await restarted.detect(ledger)
    assert [i.payload["kind"] for i in items] == ["upload-only"]
    await restarted.process_result(items[0], RunResult())
    assert _published_in(remote, NAME) == 1
    assert git(ledger, "status", "--porcelain", "--untracked-files=all") == ""
    assert not folder.exists()
    assert await restarted.detect(ledger) == []


async def _committed_retry(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> Path:
    """A session published with a failed summary (pushed); a teammate's clone, returned,
    pushes its own retry of that summary first."""
    make_session(records.ledger_cache_sessions(ledger), NAME)
    await _finalize(handler, ledger, BROKEN)
    assert _published_in(remote, NAME) == 1
    teammate = clone(remote, tmp_path / "teammate")
    folder = teammate / "sessions" / NAME
    for fname in ("summary.json", "meta.json"):
        data = json.loads((folder / fname).read_text())
        data.update(title="The teammate's retry", summary_status="ok", summary_attempts=2)
        (folder / fname).write_text(json.dumps(data, indent=2))
    (folder / "summary.md").write_text("# The teammate's retry\n")
    git(teammate, "commit", "-q", "-am", f"finalize session {NAME}")
    git(teammate, "push", "-q", "origin", "HEAD:main")
    assert _published_in(remote, NAME) == 2
    return teammate


async def test_a_committed_retry_kept_locally_leaves_the_ledger_able_to_sync(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    await _committed_retry(handler, ledger, remote, tmp_path)
    items = await handler.detect(ledger)
    assert [(i.payload["place"], i.payload["kind"]) for i in items] == [("committed", "retry")]
    # Our retry scores low: the session is already public, it stays.
    await handler.process_result(items[0], RunResult(output=answer(quality_category="local_only")))
    assert git(ledger, "status", "--porcelain", "--untracked-files=all") == ""
    # A new session of ours reaches the team: nothing holds the sync back.
    make_session(records.ledger_cache_sessions(ledger), "2026-11-25T12-00-dev-a1")
    await _finalize(handler, ledger, answer())
    await sync_ledger(handler.ledger(ledger))
    assert _published_in(remote, "2026-11-25T12-00-dev-a1") == 1
    assert await handler.ledger(ledger).conflicts() == []
    assert await handler.detect(ledger) == []


async def test_a_sync_while_a_committed_retry_is_written_blocks_nothing(
    handler: SessionFinalizeHandler,
    ledger: Path,
    remote: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _committed_retry(handler, ledger, remote, tmp_path)
    # An unpushed commit of ours: the sync has to rebase (with the work tree as it is).
    (ledger / "notes.txt").write_text("ours\n")
    git(ledger, "add", "notes.txt")
    git(ledger, "commit", "-q", "-m", "notes")
    items = await handler.detect(ledger)
    assert [(i.payload["place"], i.payload["kind"]) for i in items] == [("committed", "retry")]

    # The sync service's pass lands between writing the retry's artifacts and its commit.
    real_upload_files = handler_module.upload_files
    synced = []

    def upload_files_after_a_sync(*args, **kwargs):  # type: ignore[no-untyped-def]
        if not synced:
            # As the sync service runs it: a failed pass is retried later, never raised.
            try:
                synced.append(trio.from_thread.run(sync_ledger, handler.ledger(ledger)))
            except (LedgerBlockedError, GitError) as exc:
                synced.append(exc)
        return real_upload_files(*args, **kwargs)

    monkeypatch.setattr(handler_module, "upload_files", upload_files_after_a_sync)
    await handler.process_result(items[0], RunResult(output=answer(title="Our retry")))
    assert synced
    ledger_ = handler.ledger(ledger)
    assert await ledger_.conflicts() == []
    await sync_ledger(ledger_)
    assert git(remote, "show", "main:notes.txt") == "ours\n"
    assert _published_in(remote, NAME) == 3
    assert git(ledger, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(ledger, "rev-parse", "HEAD") == git(remote, "rev-parse", "main")


async def test_a_full_disk_while_copying_into_sessions_leaves_nothing_half_written(
    handler: SessionFinalizeHandler,
    ledger: Path,
    remote: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = make_session(records.user_cache_sessions(ledger, tmp_path / "usercache"), NAME)
    real_write = records.atomic_write_bytes
    full = [True]

    def write_or_enospc(path: Path, data: bytes, mode: int = 0o600) -> None:
        # The disk fills up while the session is copied into the work tree.
        if full[0] and path.parent.parent == ledger / "sessions" and path.name == "raw.jsonl":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_write(path, data, mode)

    monkeypatch.setattr(records, "atomic_write_bytes", write_or_enospc)
    with pytest.raises(OSError, match="No space left"):
        await _finalize(handler, ledger, answer())
    assert folder.is_dir()
    assert not (ledger / "sessions").exists() or not any((ledger / "sessions").iterdir())
    assert git(ledger, "status", "--porcelain", "--untracked-files=all") == ""
    assert _published_in(remote, NAME) == 0

    full[0] = False  # space freed: the next scan publishes it, whole
    items = await handler.detect(ledger)
    assert [(i.payload["place"], i.payload["kind"]) for i in items] == [
        ("user-cache", "upload-only")
    ]
    raw = read_regular(folder / "raw.jsonl")
    await handler.process_result(items[0], RunResult())
    assert _published_in(remote, NAME) == 1
    check = clone(remote, tmp_path / "check")
    assert (check / "sessions" / NAME / "raw.jsonl").read_bytes() == raw


async def test_a_committed_retry_commits_only_the_sessions_files(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path
) -> None:
    make_session(records.ledger_cache_sessions(ledger), NAME)
    await _finalize(handler, ledger, BROKEN)
    await _finalize(handler, ledger, answer())
    assert _published_in(remote, NAME) == 2
    listed = git(remote, "ls-tree", "-r", "--name-only", "main", f"sessions/{NAME}/").split()
    # Never the lock sidecar of `meta.json` (a dotfile): only the session's own files.
    assert [p.rsplit("/", 1)[1] for p in listed] == [
        "meta.json",
        "raw.jsonl",
        "session.md",
        "summary.json",
        "summary.md",
    ]
    assert git(ledger, "status", "--porcelain", "--untracked-files=all") == ""
    assert not (records.ledger_cache_sessions(ledger).parent / "retry" / NAME).exists()


def test_a_crashed_retrys_staging_copies_are_swept_by_a_later_one(
    ledger: Path, tmp_path: Path
) -> None:
    """A process that died in a retry leaves its staging copy in `.ox/cache/retry/`: the next
    retry of any session removes those older than an hour (never a recent one, which may be a
    retry running now, and never through a link)."""
    from ox_handler_session_finalize.session_folder import (
        STAGING_LEFTOVER_AGE,
        _remove_staging,
        _staging_copy,
    )

    committed = ledger / "sessions" / NAME
    committed.mkdir(parents=True)
    (committed / "raw.jsonl").write_text('{"type":"user","content":"x"}\n')
    root = records.ledger_cache_sessions(ledger).parent / "retry"
    (root / "old" / "raw.jsonl").parent.mkdir(parents=True)
    (root / "old" / "raw.jsonl").write_text("left\n")
    (root / "recent").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("keep\n")
    (root / "link").symlink_to(outside)
    then = time.time() - STAGING_LEFTOVER_AGE - 60
    for name in ("old", "link"):
        os.utime(root / name, (then, then), follow_symlinks=False)
    staging = _staging_copy(ledger, committed)
    try:
        assert sorted(p.name for p in root.iterdir()) == sorted([NAME, "recent"])
        assert (outside / "keep").read_text() == "keep\n"
        assert (staging / "raw.jsonl").read_bytes() == (committed / "raw.jsonl").read_bytes()
    finally:
        _remove_staging(staging)
