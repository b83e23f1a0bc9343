"""The `Sync` line of `ox-core status` and the sync lines of `doctor`, from a syncer's report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console

from ox_core.render.doctor import doctor_screen
from ox_core.render.status import status_screen

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def text(renderable: Any) -> str:
    console = Console(width=300, record=True)
    console.print(renderable)
    return " ".join(console.export_text().split())


def test_sync_line_tells_ahead_behind_last_success_and_last_error_with_age() -> None:
    state = {
        "remote": "origin",
        "ahead": 3,
        "behind": 1,
        "last_ok": ago(600),
        "last_error": "git fetch failed: [remote] unreachable",
        "last_error_at": ago(30),
        "paused": "",
        "published": 5,
        "original": 0,
    }
    out = text(status_screen({"agent_work": {"syncs": 2, "ledger_sync": state}}, NOW))
    assert "Sync origin: 3 ahead, 1 behind; last sync 10m ago;" in out
    assert "last error 30s ago: git fetch failed: [remote] unreachable" in out
    assert "5 sessions published" in out


def test_paused_publishing_shows_in_status_and_fails_doctor() -> None:
    state = {"remote": "origin", "paused": "publishing paused: README.md conflicts", "ahead": 2}
    out = text(status_screen({"agent_work": {"ledger_sync": state}}, NOW))
    assert "not synced yet" in out
    assert "; publishing paused: README.md conflicts" in out
    state = {**state, "paused": "README.md conflicts"}
    assert "; publishing paused: README.md conflicts" in text(
        status_screen({"agent_work": {"ledger_sync": state}}, NOW)
    )
    report = {"daemon": {"running": True, "ledger_sync": state}, "ledger_checks": []}
    assert "README.md conflicts" in text(doctor_screen(report, NOW))
    from ox_core.doctor import has_problems

    assert has_problems({**report, "plugin_errors": [], "handlers": [], "ledger": {"state": "ok"}})


def test_a_pause_that_is_also_the_last_error_is_said_once_with_its_age() -> None:
    why = "cannot add ox's line to .git/info/attributes (a symbolic link; refused)"
    state = {
        "remote": "origin",
        "ahead": 1,
        "last_error": why,
        "last_error_at": ago(90),
        "paused": why,
        "published": 1,
    }
    out = text(status_screen({"agent_work": {"ledger_sync": state}}, NOW))
    assert out.count("symbolic link") == 1, out
    assert f"; publishing paused (tried 1m ago): {why}; 1 session published" in out
    # A later pass that failed otherwise: both are said.
    state = {**state, "last_error": "git fetch failed: unreachable"}
    out = text(status_screen({"agent_work": {"ledger_sync": state}}, NOW))
    assert "last error 1m ago: git fetch failed: unreachable" in out
    assert f"; publishing paused: {why}" in out


def test_no_remote_and_no_syncer() -> None:
    out = text(status_screen({"agent_work": {"ledger_sync": {"remote": ""}}}, NOW))
    assert "no remote (commits stay in this ledger)" in out
    out = text(status_screen({"agent_work": {}}, NOW))
    assert "not configured" in out


def test_status_says_the_daemon_is_shutting_down_and_what_becomes_of_sessions() -> None:
    status = {
        "daemon": {"pid": 1, "ledger": "/l", "ready": True, "stopping": True},
        "agent_work": {"agent_type": "claude", "enabled": True},
    }
    line = next(x for x in text(status_screen(status)).splitlines() if "shutting down" in x)
    assert "`ox-core serve`" in line
    assert "shutting down" not in text(status_screen({**status, "daemon": {"pid": 1}}))
