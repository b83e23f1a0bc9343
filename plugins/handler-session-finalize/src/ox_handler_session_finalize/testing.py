"""Helpers for tests and benchmarks: finished sessions, ready to publish without an agent.

`finished_session(root, name)` writes a session folder as finalization leaves it before the
commit (raw transcript, summary, exports, meta): detection makes it an *upload-only* item.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ox_session_capture import records

SUMMARY = {
    "title": "Refactor the parser and split out the tokenizer",
    "summary": "The user asked to move the tokenizer into its own module; the agent did it.",
    "key_actions": ["Moved the tokenizer to tokenizer.py", "Updated imports"],
    "outcome": "success",
    "topics_found": ["refactoring", "parser"],
    "quality_category": "share",
    "quality_score": 0.8,
    "score_reason": "A useful refactoring pattern.",
}


def _stamp(minutes_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


def raw_lines(name: str, pairs: int = 3) -> list[dict[str, object]]:
    """A raw transcript: ox's header line and `pairs` user/assistant exchanges."""
    lines: list[dict[str, object]] = [
        {
            "_meta": {
                "schema_version": "1",
                "agent_id": "a1",
                "agent_type": "claude-code",
                "session_id": f"ses_{name}",
                "started_at": _stamp(30),
                "username": "dev",
                "model": "claude-sonnet",
            }
        }
    ]
    for i in range(pairs):
        lines.append({"type": "user", "content": f"step {i} of {name}", "ts": _stamp(20 - i)})
        lines.append({"type": "assistant", "content": f"done {i}", "ts": _stamp(19 - i)})
    return lines


def finished_session(root: Path, name: str, pairs: int = 3) -> Path:
    """`root/<name>/` holding a finalized session not yet committed (see the module)."""
    from ox_handler_session_finalize.export import write_artifacts
    from ox_handler_session_finalize.llm_output import parse_summary

    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(line) + "\n" for line in raw_lines(name, pairs))
    (folder / records.RAW).write_text(text, encoding="utf-8")
    summary = parse_summary(json.dumps(SUMMARY)).summary
    assert summary is not None
    summary.summary_attempts = 1
    transcript = records.read_raw(folder / records.RAW)
    write_artifacts(folder, name, summary, transcript, disposition="upload")
    return folder
