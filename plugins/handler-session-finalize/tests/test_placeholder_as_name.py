"""Redaction runs more than once on what a session publishes (the summary, then each file as
it is written, then as it is uploaded): a placeholder it made (`[REDACTED_GITHUB_TOKEN]`) was
read by the next pass as a credential's name (`…_TOKEN]: value`), so the word after it was
redacted too, on the second pass only. The published summary lost words that are no secret,
`meta.json` and `summary.json` told two different summaries, and the bytes of a session
depended on how many passes it went through (published at once, or after a restart)."""

from __future__ import annotations

import json
from pathlib import Path

from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_session_capture import records
from ox_session_capture.redact import redact_text

from .finalize_support import answer, clone, finalize_one, make_session

NAME = "2026-11-25T15-00-dev-a1"
TOKEN = "ghp_" + "Zq7" * 12
PYPI = "pypi-AgEIcHlwaS5vcmc" + "Ab1" * 20


def test_redaction_of_redacted_text_changes_nothing() -> None:
    for text in (
        f"The push used {TOKEN}: deploy-v2 went out.",
        f"twine upload -p {PYPI} :rubygems_api_key: done",
    ):
        once = redact_text(text)
        assert TOKEN not in once
        assert PYPI not in once
        assert redact_text(once) == once
    assert redact_text(f"The push used {TOKEN}: deploy-v2 went out.") == (
        "The push used [REDACTED_GITHUB_TOKEN]: deploy-v2 went out."
    )


async def test_meta_and_summary_json_publish_one_summary(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    make_session(records.ledger_cache_sessions(ledger), NAME)
    summary = f"Released it: twine upload -p {PYPI} :rubygems_api_key: done, all green."
    outcome = await finalize_one(handler, ledger, answer(summary=summary))
    assert outcome.kind == "published"
    folder = clone(remote, tmp_path / "check") / "sessions" / NAME
    expected = "Released it: twine upload -p [REDACTED_PYPI_TOKEN] :rubygems_api_key: done, "
    expected += "all green."
    assert json.loads((folder / "summary.json").read_text())["summary"] == expected
    assert json.loads((folder / "meta.json").read_text())["summary"] == expected
