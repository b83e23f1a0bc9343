"""Parsing and validating the agent's answer to the summary prompt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ox_core import RunResult
from ox_handler_session_finalize.handler import FinalizeError, SessionFinalizeHandler
from ox_handler_session_finalize.llm_output import extract_json, failure_summary, parse_summary
from ox_session_capture import records

from .finalize_support import answer, clone, git, make_session

VALID = json.loads(answer())


def test_whole_text_json() -> None:
    result = parse_summary(answer())
    assert result.ok
    assert result.summary is not None
    assert result.summary.title == VALID["title"]
    assert result.summary.summary_status == "ok"


def test_json_fence() -> None:
    text = f"```json\n{answer()}\n```"
    assert parse_summary(text).ok


def test_prose_around_a_fence() -> None:
    text = f"Sure. Here it is:\n\n```json\n{answer(title='Fix the flaky login test')}\n```\nDone."
    result = parse_summary(text)
    assert result.summary is not None
    assert result.summary.title == "Fix the flaky login test"


def test_plain_fence_when_no_json_fence() -> None:
    text = f"The result:\n```\n{answer()}\n```\n"
    assert parse_summary(text).ok


def test_json_fence_wins_over_an_earlier_plain_fence() -> None:
    text = f"```\nnot json\n```\n```json\n{answer(title='From the json fence')}\n```"
    result = parse_summary(text)
    assert result.summary is not None
    assert result.summary.title == "From the json fence"


def test_truncated_json_is_rejected() -> None:
    result = parse_summary(answer()[:-30])
    assert not result.ok
    assert result.error == "no JSON object"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"title": "   "}, "blank title"),
        ({"title": "ab"}, "title of 2 characters"),
        ({"title": "x" * 201}, "title of 201 characters"),
        ({"summary": "Too short."}, "summary shorter than 20"),
        ({"key_actions": []}, "no key action"),
        ({"key_actions": ["  ", ""]}, "no key action"),
        (
            {"outcome": "password=hunter2hunter2"},
            "unknown outcome (not one of failed, partial, success)",
        ),
        ({"title": 42}, "invalid field title"),
        ({"quality_score": 3}, "quality_score outside"),
        ({"summary": "I apologize, but I cannot access the transcript you sent."}, "apologises"),
        ({"title": "Would you like me to summarise this?"}, "asks for permission"),
        ({"summary": "Let me summarize the session for you in a moment, please."}, "announces"),
        ({"key_actions": ["<tool_call>read_file</tool_call>"]}, "tool-call markup"),
    ],
)
def test_validation_failures(overrides: dict[str, object], reason: str) -> None:
    result = parse_summary(answer(**overrides))
    assert not result.ok
    assert result.error is not None
    assert reason in result.error
    assert "hunter2" not in result.error  # the answer's text is not quoted back


def test_talking_instead_of_json_names_the_reason() -> None:
    result = parse_summary("I am sorry, I cannot do that without more context.")
    assert result.error is not None
    assert "apologises" in result.error


def test_unknown_category_falls_back_to_the_score() -> None:
    result = parse_summary(answer(quality_category="amazing"))
    assert result.summary is not None
    assert result.summary.quality_category is None


def test_failure_summary_turns_unrecoverable_at_the_third_attempt() -> None:
    assert failure_summary("blank title", 1).summary_status == "failed_validation"
    assert failure_summary("blank title", 2).summary_status == "failed_validation"
    third = failure_summary("blank title", 3)
    assert third.summary_status == "unrecoverable"
    assert third.validation_error == "blank title"
    assert third.title == ""


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parser_never_raises_on_any_text(text: str) -> None:
    result = parse_summary(text)
    assert result.ok == (result.error is None)


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=12), children, max_size=4)
        ),
        max_leaves=20,
    ),
    st.text(max_size=40),
)
def test_parser_never_raises_on_any_json(data: object, prose: str) -> None:
    text = f"{prose}\n```json\n{json.dumps(data)}\n```"
    parse_summary(text)
    assert extract_json(json.dumps(data)) == (data if isinstance(data, dict) else None)


# ------------------------------------------------------------------ through the handler

NAME = "2026-11-25T10-30-dev-a1"


async def test_three_invalid_answers_become_unrecoverable(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    make_session(records.ledger_cache_sessions(ledger), NAME)
    talking = "I apologize, but could you tell me what you would like summarised?"
    statuses = []
    for _ in range(3):
        items = await handler.detect(ledger)
        assert len(items) == 1
        await handler.process_result(items[0], RunResult(output=talking))
        check = clone(remote, tmp_path / f"check{len(statuses)}")
        summary = json.loads((check / "sessions" / NAME / "summary.json").read_text())
        statuses.append((summary["summary_status"], summary["summary_attempts"]))
        # Never the raw output, always the reason.
        assert talking not in json.dumps(summary)
        assert "apologises" in summary["validation_error"]
    assert statuses == [("failed_validation", 1), ("failed_validation", 2), ("unrecoverable", 3)]
    assert await handler.detect(ledger) == []
    assert git(remote, "log", "--format=%s").count(f"finalize session {NAME}") == 3


async def test_runaway_answers_count_as_attempts_and_never_block_publication(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    """A transcript that steers the summarizer into printing past the runner's cap: each run
    is an attempt (as an invalid answer is), and the third publishes the session without a
    summary; the CLI's words (its stderr tail, here with a token) are never quoted."""
    assert handler.takes_runaway_answers
    make_session(records.ledger_cache_sessions(ledger), NAME)
    token = "ghp_" + "R" * 36
    runaway = RunResult(
        exit_code=1, error=f"claude printed more than 8 MiB and was stopped: {token}", runaway=True
    )
    statuses = []
    for _ in range(3):
        items = await handler.detect(ledger)
        assert len(items) == 1
        await handler.process_result(items[0], runaway)
        check = clone(remote, tmp_path / f"check{len(statuses)}")
        summary = json.loads((check / "sessions" / NAME / "summary.json").read_text())
        statuses.append((summary["summary_status"], summary["summary_attempts"]))
        assert "runaway output" in summary["validation_error"]
        assert token not in git(check, "log", "-p", "--all")
    assert statuses == [("failed_validation", 1), ("failed_validation", 2), ("unrecoverable", 3)]
    assert await handler.detect(ledger) == []


async def test_agent_failure_writes_no_artifacts(
    handler: SessionFinalizeHandler, ledger: Path
) -> None:
    folder = make_session(records.ledger_cache_sessions(ledger), NAME)
    items = await handler.detect(ledger)
    with pytest.raises(FinalizeError, match="rate limited"):
        await handler.process_result(items[0], RunResult(exit_code=1, error="rate limited"))
    assert not (folder / "summary.json").exists()
    assert [i.payload["kind"] for i in await handler.detect(ledger)] == ["full"]


async def test_a_later_valid_answer_fixes_a_failed_summary(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    make_session(records.ledger_cache_sessions(ledger), NAME)
    items = await handler.detect(ledger)
    await handler.process_result(items[0], RunResult(output='```json\n{"title": "tr'))
    items = await handler.detect(ledger)
    assert [i.payload["kind"] for i in items] == ["retry"]
    assert items[0].payload["place"] == "committed"
    await handler.process_result(items[0], RunResult(output=answer()))
    check = clone(remote, tmp_path / "check")
    summary = json.loads((check / "sessions" / NAME / "summary.json").read_text())
    assert summary["title"] == VALID["title"]
    assert summary["summary_attempts"] == 2
    assert await handler.detect(ledger) == []


def test_chapters_and_notable_moments_are_tidied_not_fatal() -> None:
    moments = [
        {"seq": 3, "role": "user", "type": "decision", "highlight": "use trio", "why": "simpler"},
        {"seq": 0, "role": "user", "highlight": "seq 0 points at nothing"},
        {"seq": 9, "role": "assistant", "highlight": "past the end"},
        {"seq": 2, "role": "assistant", "highlight": "   "},
    ]
    text = answer(chapter_titles=["Plan", " ", "Build " + "x" * 300], aha_moments=moments)
    result = parse_summary(text, steps=8)
    assert result.summary is not None, result.error
    assert result.summary.chapter_titles == ["Plan", ("Build " + "x" * 300)[:120]]
    assert [m.highlight for m in result.summary.aha_moments] == ["use trio"]
    # Without the transcript's length, only blank highlights go.
    unbounded = parse_summary(text).summary
    assert unbounded is not None
    assert len(unbounded.aha_moments) == 3


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"chapter_titles": "Plan"}, "invalid field chapter_titles"),
        ({"aha_moments": [{"seq": "first"}]}, "invalid field aha_moments.0.seq"),
        ({"chapter_titles": ["Let me summarize the work"]}, "announces a summary"),
    ],
)
def test_bad_chapters_or_moments_reject_the_answer(
    overrides: dict[str, object], reason: str
) -> None:
    result = parse_summary(answer(**overrides))
    assert result.summary is None
    assert reason in (result.error or "")


def test_a_huge_answer_is_kept_within_bounds() -> None:
    # About what a runner passes on (its output cap is 8 MiB).
    from ox_handler_session_finalize.llm_output import ITEM_MAX, MAX_ITEMS, MAX_TEXT

    result = parse_summary(
        answer(
            summary="word " * 800_000,
            key_actions=["act " * 200] * 5_000,
            topics_found=["t"] * 1000,
            aha_moments=[{"seq": 1, "highlight": "h " * 2_000, "why": "w"}] * 1_000,
        )
    )
    assert result.summary is not None
    assert len(result.summary.summary) == MAX_TEXT
    assert result.summary.summary.endswith("…")
    assert len(result.summary.key_actions) == MAX_ITEMS
    assert all(len(a) == ITEM_MAX for a in result.summary.key_actions)
    assert len(result.summary.topics_found) == MAX_ITEMS
    assert all(len(m.highlight) <= ITEM_MAX for m in result.summary.aha_moments)
