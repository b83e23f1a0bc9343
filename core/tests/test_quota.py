"""`ox_core.quota`: the quota wordings, reset times, defaults and caps."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ox_core.quota import (
    DEFAULT_WAIT,
    MAX_WAIT,
    QuotaWording,
    ResetHint,
    find_quota,
    parse_reset_time,
    quota_until,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # 07:00 in New York, 13:00 in Paris
WORDING_429 = QuotaWording(pattern=re.compile(r"\b429\b"))


@pytest.mark.parametrize(
    "text",
    [
        "You've hit your weekly limit",
        "Claude AI usage limit reached|1764000000",
        "You've hit your limit · resets 3pm",
        "Error: Rate limit exceeded, please slow down",
        "YOU'VE HIT YOUR USAGE LIMIT. Upgrade to Pro",
    ],
)
def test_spec_wording_is_a_quota(text: str) -> None:
    quota = find_quota(text, now=NOW)
    assert quota is not None
    assert quota.message == text


@pytest.mark.parametrize(
    "text", ["", "all good", "limit of the session reached", "rate of change is limited"]
)
def test_other_text_is_not(text: str) -> None:
    assert find_quota(text, now=NOW) is None


def test_extra_pattern_and_message_is_the_matching_line() -> None:
    text = "starting\nexceeded retry limit, last status: 429 Too Many Requests\nbye"
    assert find_quota(text, now=NOW) is None
    quota = find_quota(text, now=NOW, wording=WORDING_429)
    assert quota is not None
    assert quota.message == "exceeded retry limit, last status: 429 Too Many Requests"
    assert quota.reset_at == NOW + DEFAULT_WAIT


def test_without_reset_time_waits_one_hour() -> None:
    quota = find_quota("You've hit your limit", now=NOW)
    assert quota is not None
    assert quota.reset_at == NOW + timedelta(hours=1)


def test_time_today_in_the_named_zone() -> None:
    quota = find_quota("You've hit your limit · resets 3pm (America/New_York)", now=NOW)
    assert quota is not None
    assert quota.reset_at == datetime(2026, 11, 25, 15, 0, tzinfo=ZoneInfo("America/New_York"))


def test_time_already_past_today_is_tomorrow() -> None:
    # 13:00 in Paris: 9:30am has passed, so it is tomorrow's.
    reset = parse_reset_time("resets 9:30am (Europe/Paris)", NOW)
    assert reset == datetime(2026, 11, 26, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))
    assert reset is not None
    assert reset.tzinfo == UTC


def test_noon_and_midnight() -> None:
    assert parse_reset_time("resets 12pm (UTC)", NOW) == datetime(2026, 11, 26, 12, tzinfo=UTC)
    assert parse_reset_time("resets 12am (UTC)", NOW) == datetime(2026, 11, 26, 0, tzinfo=UTC)


def test_date_and_time() -> None:
    reset = parse_reset_time("Weekly limit reached ∙ resets Nov 27 at 9am (Europe/Paris)", NOW)
    assert reset == datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))


def test_date_early_next_year() -> None:
    now = datetime(2026, 12, 30, 12, tzinfo=UTC)
    assert parse_reset_time("resets Jan 2 at 5:15pm (UTC)", now) == datetime(
        2027, 1, 2, 17, 15, tzinfo=UTC
    )


def test_date_just_past_falls_back_to_the_default() -> None:
    assert parse_reset_time("resets Nov 24 at 9am (UTC)", NOW) is None
    quota = find_quota("hit your limit, resets Nov 24 at 9am (UTC)", now=NOW)
    assert quota is not None
    assert quota.reset_at == NOW + DEFAULT_WAIT


def test_far_reset_is_capped_at_seven_days() -> None:
    quota = find_quota("hit your weekly limit · resets Dec 25 at 9am (UTC)", now=NOW)
    assert quota is not None
    assert quota.reset_at == NOW + MAX_WAIT


def test_unknown_zone_is_utc_and_nonsense_is_ignored() -> None:
    assert parse_reset_time("resets 3pm (Mars/Olympus)", NOW) == datetime(
        2026, 11, 25, 15, tzinfo=UTC
    )
    assert parse_reset_time("resets 13pm (UTC)", NOW) is None
    assert parse_reset_time("resets Foo 3 at 3pm (UTC)", NOW) is None
    assert parse_reset_time("resets Feb 30 at 3pm (UTC)", NOW) is None
    assert parse_reset_time("resets soon", NOW) is None


def test_quota_until_clamps() -> None:
    assert quota_until(" m ", None, NOW).reset_at == NOW + DEFAULT_WAIT
    assert quota_until("m", NOW - timedelta(minutes=1), NOW).reset_at == NOW + DEFAULT_WAIT
    assert quota_until("m", NOW + timedelta(days=30), NOW).reset_at == NOW + MAX_WAIT
    assert quota_until(" m ", NOW + timedelta(minutes=5), NOW).message == "m"


@settings(max_examples=150, deadline=None)
@given(
    now=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    hour=st.integers(1, 12),
    minute=st.integers(0, 59),
    ampm=st.sampled_from(["am", "pm"]),
    zone=st.sampled_from(["UTC", "America/New_York", "Europe/Paris", "Asia/Kolkata"]),
    month=st.one_of(st.none(), st.integers(1, 12)),
    day=st.integers(1, 28),
)
def test_reset_is_always_in_the_next_week(
    now: datetime, hour: int, minute: int, ampm: str, zone: str, month: int | None, day: int
) -> None:
    names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    date = f"{names[month - 1]} {day} at " if month else ""
    text = f"You've hit your limit · resets {date}{hour}:{minute:02d}{ampm} ({zone})"
    quota = find_quota(text, now=now)
    assert quota is not None
    assert quota.reset_at is not None
    assert now < quota.reset_at <= now + MAX_WAIT
    if month is None:
        # A bare time is always within the next day, at that wall-clock time in the zone.
        assert quota.reset_at <= now + timedelta(days=1, hours=1)
        local = quota.reset_at.astimezone(ZoneInfo(zone))
        expected_hour = hour % 12 + (12 if ampm == "pm" else 0)
        assert (local.hour, local.minute) == (expected_hour, minute) or zone != "UTC"


@pytest.mark.parametrize(
    ("text", "wait"),
    [
        ("You've hit your usage limit. ... or try again in 3 days 6 hours 57 minutes.",
         timedelta(days=3, hours=6, minutes=57)),
        ("You've hit your usage limit. Try again in 2 hours.", timedelta(hours=2)),
        ("usage limit, try again in 45 minutes", timedelta(minutes=45)),
        ("usage limit, try again in 1 day, 2 hours", timedelta(days=1, hours=2)),
    ],
)  # fmt: skip
def test_try_again_in_days_hours_and_minutes(text: str, wait: timedelta) -> None:
    quota = find_quota(text, now=NOW)
    assert quota is not None
    assert quota.reset_at == NOW + wait


def test_try_again_in_without_a_number_is_no_time() -> None:
    assert parse_reset_time("try again in a moment", NOW) is None
    assert parse_reset_time("try again in 0 minutes", NOW) is None


def test_a_runners_own_reader_comes_after_a_stated_reset_and_before_a_one_unit_delay() -> None:
    seen: list[str] = []

    def soon(text: str, now: datetime, local: object) -> ResetHint | None:
        seen.append(text)
        return ResetHint(now + timedelta(minutes=7), "soon") if "soon" in text else None

    wording = QuotaWording(pattern=re.compile("overloaded"), readers=(soon,))
    quota = find_quota("overloaded, back soon; retry in 30s", now=NOW, wording=wording)
    assert quota is not None
    assert (quota.reset_at, quota.basis) == (NOW + timedelta(minutes=7), "soon")
    # Without the runner's wording neither the pattern nor the reader applies.
    assert find_quota("overloaded, back soon; retry in 30s", now=NOW) is None
    # A stated reset time is more specific than any reader: the reader is not asked.
    seen.clear()
    stated = parse_reset_time("usage limit soon · resets 3pm (UTC)", NOW, wording=wording)
    assert stated == datetime(2026, 11, 25, 15, tzinfo=UTC)
    assert seen == []
    # A reader that finds nothing leaves the common rules to decide.
    assert parse_reset_time("rate limit: retry in 90s", NOW, wording=wording) == NOW + timedelta(
        seconds=90
    )


def test_the_spec_phrase_wins_over_try_again() -> None:
    text = "limit hit · resets 3pm (UTC) · try again in 5 minutes"
    assert parse_reset_time(text, NOW) == datetime(2026, 11, 25, 15, tzinfo=UTC)


# ---- what the agent said sets the pause (most specific statement wins) -------------------


@pytest.mark.parametrize(
    ("text", "seconds", "basis"),
    [
        ("Rate limit exceeded. Please try again in 2 minutes.", 120, "try again in 2 minutes"),
        ("rate limit: try again in 1 hour 30 minutes", 5400, "try again in 1 hour 30 minutes"),
        ("429 Too Many Requests: retry in 23.5s", 60, "retry in 23.5s"),  # at least a minute
        ("429 Too Many Requests: Please retry in 90s.", 90, "retry in 90s"),
        ('429 {"retryDelay": "300s"}', 300, 'retryDelay": "300s'),
        ("429 Too Many Requests (Retry-After: 240)", 240, "Retry-After: 240"),
        ("rate limit hit, retry after 5 minutes", 300, "retry after 5 minutes"),
        ("Rate limit reached: 5 requests per minute", 60, "per minute"),
        ("rate limit: 1000 requests per-hour exceeded", 3600, "per-hour"),
        ("You've hit your daily limit of requests. usage limit", 86400, "daily"),
        ("Rate limit exceeded (RPM)", 60, "RPM"),
        ("429: Quota exceeded for requests per day", 86400, "per day"),
        # A reset time beats a delay, a delay beats a window.
        ("usage limit per minute; try again in 10 minutes", 600, "try again in 10 minutes"),
        ("rate limit per day · resets 3pm (UTC)", 3 * 3600, "resets 3pm (UTC)"),
    ],
)
def test_the_pause_is_what_the_agent_said(text: str, seconds: float, basis: str) -> None:
    quota = find_quota(text, now=NOW, wording=WORDING_429)
    assert quota is not None
    assert quota.reset_at == NOW + timedelta(seconds=seconds)
    assert quota.basis == basis


def test_nothing_said_is_the_one_hour_fallback_with_no_basis() -> None:
    quota = find_quota("429 Too Many Requests", now=NOW, wording=WORDING_429)
    assert quota is not None
    assert (quota.reset_at, quota.basis) == (NOW + DEFAULT_WAIT, "")


@given(st.floats(min_value=0.001, max_value=10 * 86400), st.sampled_from(["s", "m", "h"]))
@settings(max_examples=200)
def test_a_delay_is_kept_within_a_minute_and_a_week(amount: float, unit: str) -> None:
    quota = find_quota(f"rate limit: retry in {amount:.3f}{unit}", now=NOW)
    assert quota is not None
    assert quota.reset_at is not None
    wait = quota.reset_at - NOW
    assert timedelta(minutes=1) <= wait <= MAX_WAIT
    scale = {"s": 1, "m": 60, "h": 3600}[unit]
    said = timedelta(seconds=float(f"{amount:.3f}") * scale)
    assert wait == min(max(said, timedelta(minutes=1)), MAX_WAIT)
