"""Values as the screens show them: marks, ages, durations, clock times, shortened text."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ox_core.logs import escape_controls

OK = "[green]✓[/]"
BAD = "[red]✗[/]"
WARN = "[yellow]![/]"

MESSAGE_WIDTH = 1000
"""Where a pause, hold or error message is cut: these end with the command that fixes them
(holding the ledger's path and a URL, often past 300 characters), which must be shown whole;
the cut only keeps a hostile message from flooding the screen."""


def _mark(value: bool) -> str:
    return OK if value else BAD


def _ago(stamp: Any, now: datetime | None = None) -> str:
    """`12s ago` / `3m ago` / `2h ago` for an ISO time, or the text as given."""
    if not isinstance(stamp, str) or not stamp:
        return "-"
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = max(0, int(((now or datetime.now(UTC)) - when).total_seconds()))
    if seconds < 60:
        return f"{seconds}s ago"
    if seconds < 3600:
        return f"{seconds // 60}m ago"
    if seconds < 86400:
        return f"{seconds // 3600}h ago"
    return f"{seconds // 86400}d ago"


def _duration(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "-"
    return f"{value:.1f}s" if value < 120 else f"{value / 60:.1f}m"


def _short(value: Any, width: int = 60) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _target(proc: Mapping[str, Any], width: int) -> str:
    """The item's target without its `<work type>:` prefix, which the work column shows."""
    target = str(proc.get("target") or "-")
    prefix = f"{proc.get('work_type')}:"
    return _short(target.removeprefix(prefix) or target, width)


def _when(stamp: Any) -> datetime | None:
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _span(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m" + (f"{seconds % 60:02d}s" if seconds < 600 else "")
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600}h"


def _until(stamp: Any, now: datetime | None = None) -> str:
    """`14:05 UTC (in 2m00s)` for an ISO time; `-` when there is none (until it changes)."""
    when = _when(stamp)
    if when is None:
        return "-"
    now = now or datetime.now(UTC)
    try:
        when = when.astimezone(UTC)
    except OverflowError:  # past the calendar's end in UTC (`9999-12-31T23:00-05:00`)
        return str(stamp)
    clock = when.strftime("%H:%M UTC" if when - now < timedelta(hours=20) else "%b %d %H:%M UTC")
    return f"{clock} (in {_span((when - now).total_seconds())})"


def printable(data: Any) -> Any:
    """`data` (a screen's input, decoded JSON) with every control or invisible character of its
    strings written as its escape (`\\x1b`), newlines and tabs kept. The daemon's answers
    carry what remotes, agents and teammates wrote (a server hook's message, file names): a
    terminal must show them, never run them."""
    if isinstance(data, str):
        return escape_controls(data)
    if isinstance(data, Mapping):
        return {printable(k): printable(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [printable(v) for v in data]
    return data
