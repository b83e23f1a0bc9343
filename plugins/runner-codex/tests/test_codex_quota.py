"""codex's own quota wording (`ox_runner_codex.quota`): wall-clock `try again at` times in the
machine's local zone, and its API errors, on top of core's common wording."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from ox_core.quota import DEFAULT_WAIT, find_quota, parse_reset_time
from ox_runner_codex import CodexRunner
from ox_runner_codex.quota import CODEX_WORDING

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # 13:00 in Paris


def test_try_again_at_is_local_time() -> None:
    paris = ZoneInfo("Europe/Paris")
    text = "You've hit your usage limit. Visit the settings or try again at 3:28 PM."
    quota = find_quota(text, now=NOW, local=paris, wording=CODEX_WORDING)
    assert quota is not None
    assert quota.reset_at == datetime(2026, 11, 25, 15, 28, tzinfo=paris)
    assert quota.basis == "try again at 3:28 PM"
    # 13:00 in Paris: 11:05 AM has passed today, so tomorrow's.
    assert parse_reset_time(
        "try again at 11:05 AM", NOW, local=paris, wording=CODEX_WORDING
    ) == datetime(2026, 11, 26, 11, 5, tzinfo=paris)
    # Core alone does not read codex's wording: the default wait applies.
    plain = find_quota(text, now=NOW, local=paris)
    assert plain is not None
    assert plain.reset_at == NOW + DEFAULT_WAIT


def test_try_again_at_a_date() -> None:
    text = "hit your usage limit ... try again at Nov 28th, 2026 12:30 PM"
    assert parse_reset_time(text, NOW, local=UTC, wording=CODEX_WORDING) == datetime(
        2026, 11, 28, 12, 30, tzinfo=UTC
    )
    # A date with its year in the past is a moment gone: the default wait applies.
    past = "hit your usage limit ... try again at Aug 8th, 2026 12:30 PM"
    assert parse_reset_time(past, NOW, local=UTC, wording=CODEX_WORDING) is None
    quota = find_quota(past, now=NOW, local=UTC, wording=CODEX_WORDING)
    assert quota is not None
    assert quota.reset_at == NOW + DEFAULT_WAIT


def test_api_errors_are_a_quota_and_the_runner_uses_its_wording() -> None:
    text = "stream error: insufficient_quota (you exceeded your current quota)"
    assert find_quota(text, now=NOW) is None
    runner_quota = CodexRunner(binary="/nonexistent/codex").find_quota(text, now=NOW)
    assert runner_quota is not None
    assert runner_quota.reset_at == NOW + DEFAULT_WAIT
    assert CodexRunner.quota_wording is CODEX_WORDING
