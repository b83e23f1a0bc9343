"""Red team of the model's answer where it reaches more than the exports: the reason a
session is discarded or kept locally quotes the answer's `score_reason`, and that reason is
logged and kept for `status`. The model may repeat a secret of the session there (a prompt
injection asks it to), and make it 20,000 characters long."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_handler_session_finalize.outcomes import MAX_SCORE_REASON
from ox_session_capture import records

from .finalize_support import answer, finalize_one, make_session

NAME = "2026-11-25T11-00-dev-r9"
GITHUB_TOKEN = "ghp_" + "Zq7" * 12
AWS_KEY = "AKIA" + "QX7R2M9KPL4TZ8WN"


@pytest.mark.parametrize(
    ("category", "kind"), [("skip", "discarded"), ("local_only", "kept locally")]
)
async def test_a_score_reason_repeating_a_secret_is_redacted_and_cut_in_the_reason_and_the_log(
    handler: SessionFinalizeHandler,
    ledger: Path,
    caplog: pytest.LogCaptureFixture,
    category: str,
    kind: str,
) -> None:
    make_session(records.ledger_cache_sessions(ledger), NAME)
    reason = f"It printed {GITHUB_TOKEN}\nand {AWS_KEY}.\x1b]0;x\x07 " + "padding " * 2000
    text = answer(quality_category=category, quality_score=0.9, score_reason=reason)
    with caplog.at_level(logging.DEBUG):
        outcome = await finalize_one(handler, ledger, text)
    assert outcome.kind == kind
    assert "[REDACTED_GITHUB_TOKEN]" in outcome.reason
    assert "\n" not in outcome.reason
    assert len(outcome.reason) < MAX_SCORE_REASON + 200
    for said in [outcome.reason, caplog.text]:
        assert GITHUB_TOKEN not in said
        assert AWS_KEY not in said
