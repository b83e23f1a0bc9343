"""A session's files are committed whatever a `.gitignore` says: an ignore rule (a teammate's
`.gitignore`, one in `sessions/`, the user's own global excludes) made `git add -A
sessions/<name>` leave the raw transcript out without a word, the commit held only the summary
and exports, and the cache copy, the only transcript, was deleted as published. Real ledger,
real bare remote."""

from __future__ import annotations

from pathlib import Path

import pytest

from ox_core import Outcome, RunResult
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_session_capture import records

from .finalize_support import answer, git, make_session

NAME = "2026-11-25T09-00-dev-i1"


@pytest.mark.parametrize("where", ["teammate", "sessions", "global"])
async def test_an_ignore_rule_never_drops_a_file_of_a_published_session(
    handler: SessionFinalizeHandler, ledger: Path, tmp_path: Path, where: str
) -> None:
    if where == "teammate":
        (ledger / ".gitignore").write_text(".ox/cache/\n*.jsonl\n")
        git(ledger, "commit", "-q", "-am", "ignore jsonl")
    elif where == "sessions":
        (ledger / "sessions").mkdir()
        (ledger / "sessions" / ".gitignore").write_text("raw.jsonl\n")
        git(ledger, "add", "sessions/.gitignore")
        git(ledger, "commit", "-q", "-m", "ignore raw files")
    else:
        excludes = tmp_path / "global-ignore"
        excludes.write_text("*.jsonl\n")
        git(ledger, "config", "--global", "core.excludesFile", str(excludes))
    folder = make_session(records.ledger_cache_sessions(ledger), NAME)
    raw = (folder / records.RAW).read_bytes()
    [item] = await handler.detect(ledger)
    await handler.build_prompt(item)
    outcome = await handler.process_result(item, RunResult(output=answer()))
    assert outcome == Outcome("published", "")
    held = git(ledger, "ls-tree", "--name-only", "HEAD", f"sessions/{NAME}/").split()
    assert f"sessions/{NAME}/{records.RAW}" in held, "the transcript was left out"
    assert git(ledger, "show", f"HEAD:sessions/{NAME}/{records.RAW}").encode() == raw
    assert not folder.exists()
