"""Reading the JSON lines (JSONL) agent CLIs print: one event per line, prose in between."""

from __future__ import annotations

import json
from typing import Any


def json_event(line: str) -> dict[str, Any] | None:
    """The JSON object on one line of a CLI's JSONL output, or None for anything else
    (prose, a JSON array, a truncated line): runners keep such lines as diagnostics."""
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):  # the CLI's output: nested beyond reason is not an event
        return None
    return value if isinstance(value, dict) else None


def int_field(value: object) -> int:
    """A token count from a CLI's JSON: the int itself, else 0 (booleans are not counts)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
