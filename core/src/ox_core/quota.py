"""Recognising rate-limit and quota messages in what an agent CLI printed (SPEC §1.4).

Runners prefer structured fields (an HTTP status, a `resetsAt` epoch) and fall back to these
text patterns, which they apply only to *error* text (error events, stderr, a failed result):
an answer that merely talks about rate limits is not a quota condition.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
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


TRY_AGAIN_IN = re.compile(
    r"try again in\s+(?=\d)(?:(?P<days>\d+)\s*days?\b[\s,]*)?"
    r"(?:(?P<hours>\d+)\s*h(?:ou)?rs?\b[\s,]*)?(?:(?P<minutes>\d+)\s*min(?:ute)?s?\b)?",
    re.I,
)
"""Codex's `try again in [N days] [N hours] [N minutes]`."""

TRY_AGAIN_AT = re.compile(
    r"try again at\s+(?:(?P<month>[A-Za-z]{3})[a-z]*\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?"
    r"(?:\s+(?P<year>\d{4}))?,?\s+)?(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<ampm>am|pm)",
    re.I,
)
"""Codex's `try again at [Aug 8th, 2026 ]3:28 PM`, in the machine's local time."""


def _wall_clock(match: re.Match[str], zone: tzinfo, now: datetime) -> datetime | None:
    """The next moment after `now` at the match's [month day [year]] hour[:minute] am|pm in
    `zone`, as UTC (see `parse_reset_time` for past dates)."""
    hour = int(match["hour"])
    minute = int(match["minute"] or 0)
    if not 1 <= hour <= 12 or minute > 59:
        return None
    hour = hour % 12 + (12 if match["ampm"].lower() == "pm" else 0)
    local_now = now.astimezone(zone)
    if match["month"]:
        month = _MONTHS.get(match["month"][:3].lower())
        if month is None:
            return None
        year = int(match.groupdict().get("year") or local_now.year)
        try:
            at = datetime(year, month, int(match["day"]), hour, minute, tzinfo=zone)
        except ValueError:
            return None
        if at < local_now:
            if match.groupdict().get("year") or local_now - at < timedelta(days=183):
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


def parse_reset_time(text: str, now: datetime, *, local: tzinfo | None = None) -> datetime | None:
    """The UTC time at which the limit in `text` resets, or None when it does not say.

    Understands `resets [Mon DD at ]H[:MM](am|pm) (Area/City)` (SPEC §1.4; no zone: UTC),
    `try again in [N days] [N hours] [N minutes]` and `try again at [Mon DDth, YYYY ]H:MM AM`
    (in `local`, default the machine's zone). Without a date the next such wall-clock time
    after `now` is meant. A date already past means a moment that has gone, and is None (the
    caller then waits its default), unless, given without a year, it is more than half a
    year past: then it is a date of next year (a December message read in January).
    """
    if (match := RESET_PATTERN.search(text)) is not None:
        return _wall_clock(match, _zone(match["zone"]), now)
    if (match := TRY_AGAIN_IN.search(text)) is not None:
        days, hours, minutes = (int(match[k] or 0) for k in ("days", "hours", "minutes"))
        if days or hours or minutes:
            return now + timedelta(days=days, hours=hours, minutes=minutes)
        return None
    if (match := TRY_AGAIN_AT.search(text)) is not None:
        zone = local or datetime.now().astimezone().tzinfo or UTC
        return _wall_clock(match, zone, now)
    return None


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
    local: tzinfo | None = None,
) -> Quota | None:
    """The quota condition that error text `text` reports, or None.

    Matches SPEC §1.4's wording (and `extra`, a runner's own patterns such as an HTTP 429).
    The message is the line that matched (at most 500 characters); the reset time comes from
    `parse_reset_time` on the whole `text` (`local`: the zone of `try again at` times), else
    `now` + 1 h, capped at `now` + 7 days.
    """
    now = now or datetime.now(UTC)
    match = QUOTA_PATTERN.search(text) or (extra.search(text) if extra is not None else None)
    if match is None:
        return None
    line_start = text.rfind("\n", 0, match.start()) + 1
    line_end = text.find("\n", match.end())
    line = text[line_start : line_end if line_end != -1 else len(text)].strip()
    return quota_until(line[:500], parse_reset_time(text, now, local=local), now)
