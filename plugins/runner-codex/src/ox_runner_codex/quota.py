"""How codex words a quota error, beyond the wording common to CLIs (`ox_core.quota`).

codex says when a limit ends as a wall-clock time in the machine's local zone: `You've hit
your usage limit. ... try again at 3:28 PM` or `... try again at Aug 8th, 2026 3:28 PM`; and
its API errors carry an HTTP 429 or `insufficient_quota`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo

from ox_core.quota import QuotaWording, ResetHint, wall_clock

TRY_AGAIN_AT = re.compile(
    r"try again at\s+(?:(?P<month>[A-Za-z]{3})[a-z]*\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?"
    r"(?:\s+(?P<year>\d{4}))?,?\s+)?(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<ampm>am|pm)",
    re.I,
)
"""`try again at [Aug 8th, 2026 ]3:28 PM`, in the machine's local time."""

HTTP_429 = re.compile(r"\b429\b|too many requests|quota exceeded|insufficient_quota", re.I)


def try_again_at(text: str, now: datetime, local: tzinfo | None) -> ResetHint | None:
    """The moment of `try again at …` in `text`, read in `local` (default: this machine's
    zone); None without one or for a date already past."""
    match = TRY_AGAIN_AT.search(text)
    if match is None:
        return None
    at = wall_clock(match, local or datetime.now().astimezone().tzinfo or UTC, now)
    return ResetHint(at, match[0].strip()) if at is not None else None


CODEX_WORDING = QuotaWording(pattern=HTTP_429, readers=(try_again_at,))
