"""End to end against real git: a bare remote on disk, the ledger a clone of it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ox_core import RunResult
from ox_core.errors import LedgerBlockedError
from ox_handler_session_finalize.git import GitError
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_handler_session_finalize.sync import sync_ledger
from ox_session_capture import records

from .finalize_support import answer, clone, commit_count, entries, git, make_session

NAME = "2026-11-25T10-00-dev-a1"


async def finalize_all(handler: SessionFinalizeHandler, ledger: Path, output: str) -> int:
    """Run detect → build_prompt → process_result for every item, like the manager."""
    items = await handler.detect(ledger)
    for item in items:
        request = await handler.build_prompt(item)
        result = RunResult() if request.skip_llm else RunResult(output=output)
        await handler.process_result(item, result)
    return len(items)


async def test_finalize_lands_in_a_fresh_clone(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    folder = make_session(records.ledger_cache_sessions(ledger), NAME)
    items = await handler.detect(ledger)
    assert [(i.dedup_key, i.priority, i.payload["kind"]) for i in items] == [
        (f"session-finalize:{NAME}", 10, "full")
    ]
    request = await handler.build_prompt(items[0])
    assert not request.skip_llm
    assert request.work_dir == ledger
    await handler.process_result(items[0], RunResult(output=answer()))

    check = clone(remote, tmp_path / "check")
    published = check / "sessions" / NAME
    assert sorted(p.name for p in published.iterdir()) == [
        "meta.json",
        "raw.jsonl",
        "session.md",
        "summary.json",
        "summary.md",
    ]
    summary = json.loads((published / "summary.json").read_text())
    assert summary["title"] == "Refactor the parser and split out the tokenizer"
    assert summary["summary_attempts"] == 1
    meta = json.loads((published / "meta.json").read_text())
    assert meta["session_name"] == NAME
    assert meta["agent_type"] == "claude-code"
    assert meta["entry_count"] == len(entries())
    assert set(meta["files"]) == {"raw.jsonl", "session.md", "summary.json", "summary.md"}
    assert "# Refactor the parser" in (published / "summary.md").read_text()
    session_md = (published / "session.md").read_text()
    assert "| Session | " + NAME in session_md
    assert "### 3. tool: Edit" in session_md
    assert git(check, "log", "-1", "--format=%s").strip() == f"finalize session {NAME}"
    # The cache copy is gone once pushed; nothing is left to do.
    assert not folder.exists()
    assert await handler.detect(ledger) == []


async def test_push_failure_keeps_the_local_commit_for_the_next_sync(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    folder = make_session(records.ledger_cache_sessions(ledger), NAME)
    before = commit_count(remote)
    local = commit_count(ledger)
    away = remote.with_name("away.git")
    os.rename(remote, away)  # the remote cannot be reached
    # A push failure fails nothing: the session is committed locally, its cache copy goes.
    await finalize_all(handler, ledger, answer())
    assert commit_count(ledger) == local + 1
    assert commit_count(away) == before
    assert not folder.exists()
    assert await handler.detect(ledger) == []
    with pytest.raises(GitError, match="does not appear to be a git repository"):
        await sync_ledger(handler.ledger(ledger))

    os.rename(away, remote)
    result = await sync_ledger(handler.ledger(ledger))
    assert (result.ahead, result.behind, result.pushed) == (0, 0, 1)
    assert commit_count(remote) == before + 1
    check = clone(remote, tmp_path / "check")
    assert (check / "sessions" / NAME / "summary.md").exists()


async def test_rerun_on_a_committed_copy_converges(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path
) -> None:
    cache = records.ledger_cache_sessions(ledger)
    make_session(cache, NAME)
    await finalize_all(handler, ledger, answer())
    count = commit_count(remote)
    # A crash after the push but before pruning: the same session is in the cache again.
    import shutil

    shutil.copytree(ledger / "sessions" / NAME, cache / NAME)
    items = await handler.detect(ledger)
    assert [i.payload["kind"] for i in items] == ["upload-only"]
    await handler.process_result(items[0], RunResult())
    assert commit_count(remote) == count
    assert not (cache / NAME).exists()


async def test_unresolved_conflicts_block_before_anything(
    handler: SessionFinalizeHandler, ledger: Path
) -> None:
    folder = make_session(records.ledger_cache_sessions(ledger), NAME)
    (ledger / "notes.txt").write_text("base\n")
    git(ledger, "add", "notes.txt")
    git(ledger, "commit", "-q", "-m", "base")
    git(ledger, "checkout", "-q", "-b", "other")
    (ledger / "notes.txt").write_text("other\n")
    git(ledger, "commit", "-q", "-am", "other")
    git(ledger, "checkout", "-q", "main")
    (ledger / "notes.txt").write_text("main\n")
    git(ledger, "commit", "-q", "-am", "main")
    with pytest.raises(AssertionError):
        git(ledger, "merge", "-q", "other")
    items = await handler.detect(ledger)
    with pytest.raises(LedgerBlockedError, match=r"notes\.txt"):
        await handler.process_result(items[0], RunResult(output=answer()))
    assert not (folder / "summary.json").exists()


async def test_ledger_without_remote_commits_only(
    handler: SessionFinalizeHandler, tmp_path: Path, git_env: None
) -> None:
    ledger = tmp_path / "local"
    ledger.mkdir()
    git(ledger, "init", "-q", "-b", "main")
    (ledger / ".gitignore").write_text(".ox/cache/\n")
    git(ledger, "add", ".gitignore")
    git(ledger, "commit", "-q", "-m", "ledger")
    folder = make_session(records.ledger_cache_sessions(ledger), NAME)
    assert await finalize_all(handler, ledger, answer()) == 1
    assert git(ledger, "ls-files", f"sessions/{NAME}").split() == [
        f"sessions/{NAME}/{n}"
        for n in ("meta.json", "raw.jsonl", "session.md", "summary.json", "summary.md")
    ]
    assert not folder.exists()
    assert git(ledger, "status", "--porcelain").strip() == ""


async def test_ledger_rules_and_unknown_meta_keys(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    (ledger / ".ox").mkdir()
    (ledger / ".ox" / "redact.toml").write_text('patterns = ["ACME-[0-9]{8}"]\n')
    lines = entries(extra_user="The customer id is ACME-12345678.")
    folder = make_session(records.ledger_cache_sessions(ledger), NAME, lines)
    (folder / "meta.json").write_text(json.dumps({"team_field": {"kept": True}}))
    await finalize_all(handler, ledger, answer())
    check = clone(remote, tmp_path / "check")
    published = check / "sessions" / NAME
    text = "".join(p.read_text() for p in published.iterdir())
    assert "ACME-12345678" not in text
    assert "[REDACTED_CUSTOM]" in text
    meta = json.loads((published / "meta.json").read_text())
    assert meta["team_field"] == {"kept": True}
    assert meta["title"] == json.loads(answer())["title"]


async def test_user_cache_session_is_published_then_pruned(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    user_cache = records.user_cache_sessions(ledger, tmp_path / "usercache")
    folder = make_session(user_cache, NAME)
    items = await handler.detect(ledger)
    assert [(i.payload["place"], i.payload["kind"]) for i in items] == [("user-cache", "full")]
    await handler.process_result(items[0], RunResult(output=answer()))
    check = clone(remote, tmp_path / "check")
    assert (check / "sessions" / NAME / "summary.json").exists()
    assert not folder.exists()
    assert await handler.detect(ledger) == []
