"""Recognising rate-limit and quota messages in what an agent CLI printed.

Runners prefer structured fields (an HTTP status, a `resetsAt` epoch) and fall back to these
text patterns, which they apply only to *error* text (error events, stderr, a failed result):
an answer that merely talks about rate limits is not a quota condition.

What is here is the wording common to CLIs (`hit your limit`, `usage limit`, `rate limit`;
`resets 3pm (Europe/Paris)`, `try again in 2 hours`, `retry in 23s`, `per minute`). A runner
whose CLI words it otherwise adds its own through a `QuotaWording` (more patterns that mean a
quota, more ways to read when it ends), passed to `find_quota`; see docs/writing-a-runner.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from ox_core.contracts import Quota

DEFAULT_WAIT = timedelta(hours=1)
"""How long to pause when the message does not say when the limit resets."""

MIN_WAIT = timedelta(minutes=1)
"""The shortest pause: retrying at once would hit the limit again in a tight loop."""

MAX_WAIT = timedelta(days=7)
"""A reset further away than this is capped (a misparsed date must not stop ox for months)."""

QUOTA_PATTERN = re.compile(r"hit your weekly limit|hit your limit|usage limit|rate limit", re.I)
"""The wording that means a quota or rate limit whatever the CLI, matched case-insensitively."""

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
"""A delay in days, hours and minutes: `try again in [N days] [N hours] [N minutes]`."""


def wall_clock(match: re.Match[str], zone: tzinfo, now: datetime) -> datetime | None:
    """The next moment after `now` at the match's [month day [year]] hour[:minute] am|pm in
    `zone`, as UTC (see `parse_reset_time` for past dates). The match has the groups `hour`,
    `minute`, `ampm` and optionally `month`, `day`, `year` (a runner's own reset patterns
    may use it)."""
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


RETRY_DELAY = re.compile(
    r"(?:(?:re)?try(?:ing)?(?:\s+again)?\s+(?:in|after)\s+"
    r"|retry[-_ ]?(?:after|delay)[\"']?\s*[:=]\s*[\"']?)"
    r"(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>ms|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?)?\b",
    re.I,
)
"""A delay in one unit: `retry in 23.5s`, `retry after 30 seconds`, `"retryDelay": "23s"`,
`Retry-After: 120` (seconds when no unit is given, as in the HTTP header)."""

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}

WINDOW_WORDING = re.compile(
    r"\b(?:per[- ]?(?P<per>minute|hour|day)|(?P<ly>hourly|daily)|requests?/(?P<slash>min|hour|day)"
    r"|(?P<short>RPM|TPM|RPH|RPD|TPD))\b",
    re.I,
)
"""A limit named by its window (`5 requests per minute`, `daily limit`, `RPM`): the pause is
one such window."""

_WINDOW_SECONDS = {"minute": 60.0, "min": 60.0, "hour": 3600.0, "day": 86400.0}
_SHORT_WINDOW = {"rpm": "minute", "tpm": "minute", "rph": "hour", "rpd": "day", "tpd": "day"}
_ADVERB_WINDOW = {"hourly": "hour", "daily": "day"}


@attrs.frozen
class ResetHint:
    """When a limit ends (`at`, UTC) and the words it was read from (`basis`)."""

    at: datetime
    basis: str


ResetReader = Callable[[str, datetime, tzinfo | None], ResetHint | None]
"""A runner's own way of reading when a limit ends: `(text, now, local zone)` → a hint, or
None when its wording is not in `text`."""


@attrs.frozen
class QuotaWording:
    """How one CLI words a quota error beyond the common wording: `pattern`, more texts that
    mean a quota (an HTTP 429, `RESOURCE_EXHAUSTED`); `readers`, more ways to read when it
    ends, tried after a stated reset time and a delay in days/hours/minutes, before a retry
    delay in one unit and a limit's window."""

    pattern: re.Pattern[str] | None = None
    readers: tuple[ResetReader, ...] = ()


COMMON_WORDING = QuotaWording()


def _after(now: datetime, seconds: float) -> datetime:
    """`now` + `seconds`, at most `MAX_WAIT` later (the text's number may be of any size:
    `timedelta` and `datetime` overflow on what the caller would clamp anyway)."""
    return now + timedelta(seconds=min(seconds, MAX_WAIT.total_seconds()))


def parse_reset(
    text: str,
    now: datetime,
    *,
    local: tzinfo | None = None,
    wording: QuotaWording = COMMON_WORDING,
) -> ResetHint | None:
    """When the limit in `text` ends, and what said so; None when nothing did.

    The most specific statement wins: a reset time (`resets 3pm (Europe/Paris)`), a delay in
    days/hours/minutes (`try again in 2 hours 5 minutes`), the runner's own `wording.readers`
    (`local`: the zone they read wall-clock times in), a delay in one unit (`retry in 23.5s`,
    `"retryDelay": "23s"`, `Retry-After: 120`), then the window a limit is named by
    (`per minute`, `hourly`, `per day`: one such window). See `parse_reset_time` for dates.
    """
    if (match := RESET_PATTERN.search(text)) is not None:
        at = wall_clock(match, _zone(match["zone"]), now)
        return ResetHint(at, match[0].strip()) if at is not None else None
    if (match := TRY_AGAIN_IN.search(text)) is not None:
        # Any number of digits: as a float (an int of over 4300 digits raises), capped.
        days, hours, minutes = (float(match[k] or 0) for k in ("days", "hours", "minutes"))
        if days or hours or minutes:
            seconds = days * 86400 + hours * 3600 + minutes * 60
            return ResetHint(_after(now, seconds), match[0].strip(" ,"))
    for reader in wording.readers:
        if (hint := reader(text, now, local)) is not None:
            return hint
    if (match := RETRY_DELAY.search(text)) is not None:
        unit = (match["unit"] or "s").lower()
        scale = _UNIT_SECONDS["ms" if unit == "ms" else unit[0]]
        seconds = float(match["amount"]) * scale
        if seconds > 0:
            return ResetHint(_after(now, seconds), match[0].strip())
    if (match := WINDOW_WORDING.search(text)) is not None:
        if match["short"]:
            window = _SHORT_WINDOW[match["short"].lower()]
        elif match["ly"]:
            window = _ADVERB_WINDOW[match["ly"].lower()]
        else:
            window = (match["per"] or match["slash"]).lower()
        return ResetHint(now + timedelta(seconds=_WINDOW_SECONDS[window]), match[0].strip())
    return None


def parse_reset_time(
    text: str,
    now: datetime,
    *,
    local: tzinfo | None = None,
    wording: QuotaWording = COMMON_WORDING,
) -> datetime | None:
    """The UTC time at which the limit in `text` resets, or None when it does not say.

    Understands `resets [Mon DD at ]H[:MM](am|pm) (Area/City)` (no zone: UTC), `try again in
    [N days] [N hours] [N minutes]`, the runner's own `wording`, a retry delay and a limit's
    window (see `parse_reset`). Without a date the next such wall-clock time after `now` is
    meant. A date already past means a moment that has gone, and is None (the caller then
    waits its default), unless, given without a year, it is more than half a year past: then
    it is a date of next year (a December message read in January).
    """
    hint = parse_reset(text, now, local=local, wording=wording)
    return hint.at if hint is not None else None


def quota_until(
    message: str, reset_at: datetime | None, now: datetime, *, basis: str = ""
) -> Quota:
    """A `Quota` for `message` whose `reset_at` is `reset_at` clamped to [`now` + 1 min,
    `now` + 7 days], or `now` + 1 h when the reset is unknown or already past. `basis`: what
    the reset time was read from (empty with the 1 h fallback)."""
    if reset_at is None or reset_at <= now:
        return Quota(message=message.strip(), reset_at=now + DEFAULT_WAIT)
    reset_at = min(max(reset_at, now + MIN_WAIT), now + MAX_WAIT)
    return Quota(message=message.strip(), reset_at=reset_at, basis=basis)


def find_quota(
    text: str,
    *,
    now: datetime | None = None,
    wording: QuotaWording = COMMON_WORDING,
    local: tzinfo | None = None,
) -> Quota | None:
    """The quota condition that error text `text` reports, or None.

    Matches the common wording (`QUOTA_PATTERN`) and `wording.pattern`, the runner's own (such
    as an HTTP 429). The message is the line that matched (at most 500 characters); the reset
    time comes from `parse_reset` on the whole `text` with `wording` (`local`: the zone its
    readers read wall-clock times in), else `now` + 1 h; at least a minute, at most 7 days.
    """
    now = now or datetime.now(UTC)
    extra = wording.pattern
    match = QUOTA_PATTERN.search(text) or (extra.search(text) if extra is not None else None)
    if match is None:
        return None
    line_start = text.rfind("\n", 0, match.start()) + 1
    line_end = text.find("\n", match.end())
    line = text[line_start : line_end if line_end != -1 else len(text)].strip()
    hint = parse_reset(text, now, local=local, wording=wording)
    if hint is None:
        return quota_until(line[:500], None, now)
    return quota_until(line[:500], hint.at, now, basis=hint.basis[:200])
