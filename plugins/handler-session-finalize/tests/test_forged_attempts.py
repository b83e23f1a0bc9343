"""A committed session's `summary.json` is anyone's file (a teammate's, an older ox's): the
attempt count read from it bounds the retries of its summary (three, then `unrecoverable`).
A negative count was taken as it was, so a session whose summaries keep failing (a transcript
that steers the summarizer into an unusable answer) was summarised and committed again at
every scan, about a million times for `-1000000`: an agent run, a commit and a push each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ox_core import RunResult
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_session_capture import records

from .finalize_support import clone, git, make_session

NAME = "2026-11-25T12-00-dev-a1"
TALKING = "I apologize, but could you tell me what you would like summarised?"


@pytest.mark.parametrize("forged", [-1_000_000, "-5"])
async def test_a_negative_attempt_count_still_ends_in_unrecoverable(
    handler: SessionFinalizeHandler,
    ledger: Path,
    remote: Path,
    tmp_path: Path,
    forged: object,
) -> None:
    folder = make_session(records.committed_sessions(ledger), NAME)
    blank = {"title": "", "summary": "", "summary_status": "failed_validation"}
    (folder / "summary.json").write_text(json.dumps({**blank, "summary_attempts": forged}))
    (folder / "summary.md").write_text("# Session\n")
    (folder / "session.md").write_text("# Session\n")
    git(ledger, "add", "sessions")
    git(ledger, "commit", "-q", "-m", "a teammate's session")
    git(ledger, "push", "-q", "origin", "HEAD:main")
    statuses = []
    for _ in range(3):
        [item] = await handler.detect(ledger)
        assert item.payload["kind"] == "retry"
        await handler.process_result(item, RunResult(output=TALKING))
        check = clone(remote, tmp_path / f"check{len(statuses)}")
        summary = json.loads((check / "sessions" / NAME / "summary.json").read_text())
        statuses.append((summary["summary_status"], summary["summary_attempts"]))
    assert statuses == [("failed_validation", 1), ("failed_validation", 2), ("unrecoverable", 3)]
    assert await handler.detect(ledger) == []
