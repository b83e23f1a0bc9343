"""What `process_result` tells the manager it did (`ox_core.Outcome`), for `ox-core status`:
published, published without a summary and why, discarded or kept locally and why, or
nothing to do. Real ledger, real bare remote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ox_core import Outcome, RunResult
from ox_handler_session_finalize.disposition import FinalizeOptions
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_session_capture import records

from .finalize_support import answer, commit_count, entries, finalize_one, make_session

NAME = "2026-11-25T09-00-dev-o1"


async def test_a_good_summary_is_published(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path
) -> None:
    make_session(records.ledger_cache_sessions(ledger), NAME)
    before = commit_count(remote)
    assert await finalize_one(handler, ledger, answer()) == Outcome("published", "")
    assert commit_count(remote) == before + 1


async def test_an_unusable_answer_is_published_without_summary_and_says_why(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path
) -> None:
    make_session(records.ledger_cache_sessions(ledger), NAME)
    before = commit_count(remote)
    outcome = await finalize_one(handler, ledger, "Sure! Here is a summary: it went well.")
    assert outcome.kind == "published without summary"
    assert outcome.reason.startswith("the agent's answer was unusable: ")
    assert len(outcome.reason) > len("the agent's answer was unusable: ")
    assert commit_count(remote) == before + 1


@pytest.mark.parametrize(
    ("overrides", "kind", "reason"),
    [
        (
            {"quality_category": "skip", "score_reason": "Only a greeting."},
            "discarded",
            "the agent rated it 'skip': Only a greeting.",
        ),
        (
            {"quality_category": "local_only", "score_reason": "Personal notes."},
            "kept locally",
            "the agent rated it 'local_only': Personal notes.",
        ),
        (
            {"quality_category": None, "quality_score": 0.05},
            "discarded",
            "quality 0.05 is below 0.10",
        ),
        (
            {"quality_category": None, "quality_score": 0.2},
            "kept locally",
            "quality 0.20 is below 0.30",
        ),
    ],
)
async def test_discarded_or_kept_locally_says_why(
    handler: SessionFinalizeHandler,
    ledger: Path,
    remote: Path,
    overrides: dict[str, object],
    kind: str,
    reason: str,
) -> None:
    make_session(records.ledger_cache_sessions(ledger), NAME)
    before = commit_count(remote)
    assert await finalize_one(handler, ledger, answer(**overrides)) == Outcome(kind, reason)
    assert commit_count(remote) == before


async def test_a_brief_session_is_discarded_because_it_was_brief(
    handler: SessionFinalizeHandler, ledger: Path
) -> None:
    lines = [{"type": "user", "content": "hi"}, {"type": "assistant", "content": "Hello!"}]
    folder = make_session(records.ledger_cache_sessions(ledger), NAME, lines)
    assert await finalize_one(handler, ledger, "") == Outcome(
        "discarded: brief", "the session was brief (set keep_brief to keep such sessions)"
    )
    assert not folder.exists()


async def test_keep_brief_publishes_a_brief_session(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path
) -> None:
    handler.configure(FinalizeOptions(keep_brief=True))
    lines = [{"type": "user", "content": "hi"}, {"type": "assistant", "content": "Hello!"}]
    make_session(records.ledger_cache_sessions(ledger), NAME, lines)
    before = commit_count(remote)
    assert await finalize_one(handler, ledger, "") == Outcome("published", "")
    assert commit_count(remote) == before + 1
    summary = json.loads((records.committed_sessions(ledger) / NAME / "summary.json").read_text())
    assert summary["title"] == "Brief session"


async def test_a_summary_asks_the_runner_for_its_fast_model(
    handler: SessionFinalizeHandler, ledger: Path
) -> None:
    make_session(records.ledger_cache_sessions(ledger), NAME)
    [item] = await handler.detect(ledger)
    request = await handler.build_prompt(item)
    assert request.prefer_fast
    assert request.model is None
    assert "<files_touched>" in request.prompt


async def test_unknown_line_types_of_the_recording_are_reported(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path
) -> None:
    footer = {"type": "footer", "entry_count": 6, "unknown_lines": {"agent-memo": 2}}
    make_session(records.ledger_cache_sessions(ledger), NAME, [*entries(), footer])
    outcome = await finalize_one(handler, ledger, answer())
    assert outcome == Outcome(
        "published", "2 lines of unknown types in the session file (agent-memo ×2)"
    )


async def test_work_no_longer_needed_says_so(handler: SessionFinalizeHandler, ledger: Path) -> None:
    make_session(records.ledger_cache_sessions(ledger), NAME)
    [item] = await handler.detect(ledger)
    await handler.process_result(item, RunResult(output=answer(quality_category="local_only")))
    again = await handler.process_result(item, RunResult(output=answer()))
    assert again == Outcome("nothing to do", "the session is already summarised")


async def test_hostile_unknown_line_counts_in_a_footer_are_cut_short(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path
) -> None:
    counts: dict[str, object] = {f"t{n:02d}" + "x" * 500: 1 for n in range(40)}
    counts.update({"not-a-count": "many", "nested": {"a": 1}})
    footer = {"type": "footer", "unknown_lines": counts}
    make_session(records.ledger_cache_sessions(ledger), NAME, [*entries(), footer])
    outcome = await finalize_one(handler, ledger, answer())
    assert outcome.kind == "published"
    assert outcome.reason.startswith("40 lines of unknown types in the session file (t00xx")
    assert len(outcome.reason) < 500
    assert "many" not in outcome.reason
