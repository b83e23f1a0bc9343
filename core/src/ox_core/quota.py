"""Recognising rate-limit and quota messages in what an agent CLI printed (SPEC §1.4).

Runners prefer structured fields (an HTTP status, a `resetsAt` epoch) and fall back to these
text patterns, which they apply only to *error* text (error events, stderr, a failed result):
an answer that merely talks about rate limits is not a quota condition.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ox_core.contracts import Quota

DEFAULT_WAIT = timedelta(hours=1)
"""How long to pause when the message does not say when the limit resets."""

MAX_WAIT = timedelta(days=7)
"""A reset further away than this is capped (a misparsed date must not stop ox for months)."""

QUOTA_PATTERN = re.compile(r"hit your weekly limit|hit your limit|usage limit|rate limit", re.I)
"""The human wording of SPEC §1.4, matched case-insensitively."""

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}

RESET_PATTERN = re.compile(
    r"resets\s+(?:(?P<month>[A-Za-z]{3})[a-z]*\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+at\s+)?"
    r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<ampm>am|pm)"
    r"(?:\s*\((?P<zone>[A-Za-z_]+(?:/[A-Za-z0-9_+\-]+)+|UTC)\))?",
    re.I,
)
"""`resets [Mon DD at ]H[:MM](am|pm) (Area/City)`; the zone is optional (UTC if absent)."""


def _zone(name: str | None) -> ZoneInfo:
    if not name:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def parse_reset_time(text: str, now: datetime) -> datetime | None:
    """The UTC time at which the limit in `text` resets, from its `resets ...` phrase, or None.

    Without a date the next such wall-clock time after `now` in the named zone is meant. A
    date already past means a moment that has gone, and is None (the caller then waits its
    default), unless it is more than half a year past: then it is a date of next year (a
    December message read in January cannot happen, the other way round can).
    """
    match = RESET_PATTERN.search(text)
    if match is None:
        return None
    hour = int(match["hour"])
    minute = int(match["minute"] or 0)
    if not 1 <= hour <= 12 or minute > 59:
        return None
    hour = hour % 12 + (12 if match["ampm"].lower() == "pm" else 0)
    zone = _zone(match["zone"])
    local_now = now.astimezone(zone)
    if match["month"]:
        month = _MONTHS.get(match["month"][:3].lower())
        if month is None:
            return None
        try:
            at = datetime(local_now.year, month, int(match["day"]), hour, minute, tzinfo=zone)
        except ValueError:
            return None
        if at < local_now:
            if local_now - at < timedelta(days=183):
                return None
            try:
                at = at.replace(year=at.year + 1)
            except ValueError:
                return None
    else:
        at = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if at <= local_now:
            # Adding a day to an aware datetime keeps the wall clock across DST changes.
            at = at + timedelta(days=1)
    return at.astimezone(UTC)


def quota_until(message: str, reset_at: datetime | None, now: datetime) -> Quota:
    """A `Quota` for `message` whose `reset_at` is `reset_at` clamped to (`now`, `now` + 7 days],
    or `now` + 1 h when the reset is unknown or already past."""
    if reset_at is None or reset_at <= now:
        reset_at = now + DEFAULT_WAIT
    return Quota(message=message.strip(), reset_at=min(reset_at, now + MAX_WAIT))


def find_quota(
    text: str,
    *,
    now: datetime | None = None,
    extra: re.Pattern[str] | None = None,
) -> Quota | None:
    """The quota condition that error text `text` reports, or None.

    Matches SPEC §1.4's wording (and `extra`, a runner's own patterns such as an HTTP 429).
    The message is the line that matched (at most 500 characters); the reset time comes from
    a `resets ...` phrase anywhere in `text`, else `now` + 1 h, capped at `now` + 7 days.
    """
    now = now or datetime.now(UTC)
    match = QUOTA_PATTERN.search(text) or (extra.search(text) if extra is not None else None)
    if match is None:
        return None
    line_start = text.rfind("\n", 0, match.start()) + 1
    line_end = text.find("\n", match.end())
    line = text[line_start : line_end if line_end != -1 else len(text)].strip()
    return quota_until(line[:500], parse_reset_time(text, now), now)
