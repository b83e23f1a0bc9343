"""Small helpers of the handler: paths, reasons and the outcome notes `status` shows."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from ox_handler_session_finalize.disposition import Thresholds
from ox_handler_session_finalize.ledger import PublishResult
from ox_handler_session_finalize.llm_output import cut, one_line
from ox_session_capture import records, transcript
from ox_session_capture.raw_lines import UNKNOWN_KEY, merge_counts
from ox_session_capture.redact import redact_text


def same_path(a: Path, b: Path) -> bool:
    return a == b or a.resolve() == b.resolve()


def reason_of(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename or ''}: {exc.strerror}".lstrip(": ")
    return str(exc)


def and_(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def unknown_note(transcript: transcript.RawTranscript) -> str:
    """A word on the lines of unknown types the recording counted (a newer agent version
    may write something worth keeping there), empty when there were none."""
    extra = transcript.footer.model_extra if transcript.footer else None
    counts = merge_counts((extra or {}).get(UNKNOWN_KEY), {})
    if not counts:
        return ""
    # The footer is a teammate's data too: names are cut, at most five are shown.
    shown = ", ".join(f"{k[:60]} ×{n}" for k, n in sorted(counts.items())[:5])
    return f"{sum(counts.values())} lines of unknown types in the session file ({shown})"


MAX_SCORE_REASON = 300
"""Characters of the agent's `score_reason` quoted in a reason (it may hold 20,000)."""


def why(
    summary: records.Summary,
    thresholds: Thresholds,
    *,
    brief: bool,
    rules: Sequence[re.Pattern[str]] = (),
) -> str:
    """Why a summary led to a discard or a local-only session, in a person's words.

    The agent's `score_reason` is quoted redacted (the built-in rules and `rules`), on one
    line and cut: the reason is logged and kept for `status`, and the model may repeat there
    a secret of the session it rated (`write_artifacts` redacts only its own copy)."""
    if brief:
        return "the session was brief (set keep_brief to keep such sessions)"
    if summary.quality_category in ("skip", "local_only"):
        reason = cut(one_line(redact_text(summary.score_reason, rules)), MAX_SCORE_REASON)
        because = f": {reason}" if reason else ""
        return f"the agent rated it {summary.quality_category!r}{because}"
    score = summary.quality_score
    if score is not None:
        limit = thresholds.discard if score < thresholds.discard else thresholds.upload
        return f"quality {score:.2f} is below {limit:.2f}"
    return ""


BESIDE = "the ledger holds a teammate's session of the same name, left as it is"


def beside_note(published: PublishResult, name: str) -> str:
    """Where a session went when a teammate's session of its `name` is in the ledger (it is
    published beside it, see `Ledger.publish`); empty when it took its own name."""
    if not published.name or published.name == name:
        return ""
    return f"published as sessions/{published.name}/: {BESIDE}"


def push_note(published: PublishResult, reason: str) -> str:
    """`reason`, plus a note when the commit was not pushed (the ledger has no remote)."""
    notes = [reason] if reason else []
    if not published.pushed:
        notes.append("committed locally; the sync pushes it")
    return "; ".join(notes)
