"""The screens (`status`, `doctor`, `plugins`) in every state, at 80 and 120 columns, compared
with the expected output stored in `golden/`.

The status data are the manager's own models (`AgentWorkStatus` ...) dumped to JSON, as the
daemon sends them; the clock is fixed, so the files are stable. After a deliberate change of a
screen, regenerate them and review the diff:

    OX_UPDATE_GOLDEN=1 .venv/bin/python -m pytest core/tests/test_render_golden.py
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console, RenderableType

from ox_core.render import doctor_screen, plugins_screen, status_screen
from ox_core.status import (
    AgentProcess,
    AgentWorkStats,
    AgentWorkStatus,
    Hold,
    Problem,
    QuotaState,
)

GOLDEN = Path(__file__).parent / "golden"
WIDTHS = (80, 120)
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
UPDATE = os.environ.get("OX_UPDATE_GOLDEN") == "1"


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def later(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


DAEMON = {
    "pid": 4242,
    "ledger": "/home/dev/work/team-ledger",
    "socket": "/run/user/1000/ox/ox-1a2b3c.sock",
    "started_at": ago(3 * 3600 + 120).isoformat(),
    "ready": True,
    "agent": "claude",
    "handlers": ["session-finalize"],
}
SF = "session-finalize"


def proc(name: str, outcome: str, reason: str = "", **extra: Any) -> AgentProcess:
    failed = outcome in ("failed", "will retry", "quota")
    return AgentProcess(
        item_id=f"id-{name}",
        work_type=SF,
        target=f"{SF}:{name}",
        started_at=extra.pop("started_at", ago(300)),
        status="failed" if failed else "completed",
        duration=extra.pop("duration", 12.4),
        error=reason if failed else "",
        outcome=outcome,
        reason=reason,
        **extra,
    )


def work_status(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "enabled": True,
        "agent_type": "claude",
        "agent_available": True,
        "queue_depth": 0,
        "rate_limit_remaining": 60,
    }
    base.update(fields)
    return {"daemon": DAEMON, "agent_work": AgentWorkStatus(**base).to_json()}


QUOTA = QuotaState(
    until=later(120),
    message="API Error: 429 rate_limit_error: 5 requests per minute. Try again in 2 minutes.",
    basis="Try again in 2 minutes",
    since=ago(3),
)

STATUS_STATES: dict[str, dict[str, Any]] = {
    "starting": {"daemon": {**DAEMON, "ready": False}, "agent_work": None},
    "idle": work_status(),
    "no-agent": work_status(
        agent_type="none",
        agent_available=False,
        queue_depth=3,
        agent_waiting=2,
        stats=AgentWorkStats(successes=4, outcomes={"published": 4}, waits=2, deferred=12),
        holds=[
            Hold(
                kind="no_agent",
                reason="no agent CLI is installed and logged in (see `ox-core doctor`): "
                "sessions are recorded, summaries wait",
            )
        ],
    ),
    "agent-unusable": work_status(
        agent_available=False,
        queue_depth=1,
        holds=[Hold(kind="no_agent", name="claude", reason="not logged in (claude auth status)")],
    ),
    "disabled": work_status(
        enabled=False,
        queue_depth=3,
        holds=[Hold(kind="disabled", reason="agent work is disabled (enabled = false)")],
    ),
    "outcomes": work_status(
        queue_depth=1,
        active=[
            AgentProcess(
                item_id="id-run",
                work_type=SF,
                target=f"{SF}:2026-11-25-run-0001",
                started_at=ago(8),
                status="running",
                duration=8.0,
                attempts=1,
            )
        ],
        recent=[
            proc("2026-11-25-alice-0001", "published"),
            proc(
                "2026-11-25-bob-0002",
                "published without summary",
                "the agent's answer was unusable: the answer is not JSON",
            ),
            proc(
                "2026-11-25-carol-0003",
                "discarded: brief",
                "the session was brief (set keep_brief to keep such sessions)",
                duration=0.2,
            ),
            proc("2026-11-25-dave-0004", "kept locally", "quality 0.20 is below 0.30"),
            proc(
                "2026-11-25-erin-0005",
                "failed",
                "process_result failed: GitError: git push: remote rejected (pre-receive hook)",
            ),
            proc("2026-11-25-frank-0006", "will retry", "claude exited with code 1", exit_code=1),
        ],
        stats=AgentWorkStats(
            total_invocations=3,
            successes=4,
            failures=1,
            retries=1,
            runs_ok=2,
            runs_failed=1,
            outcomes={
                "published": 1,
                "published without summary": 1,
                "discarded: brief": 1,
                "kept locally": 1,
                "failed": 1,
            },
        ),
        errors=[
            Problem(
                work_type=SF,
                target=f"{SF}:2026-11-25-erin-0005",
                error="process_result failed: GitError: git push: remote rejected",
                first=ago(3600),
                last=ago(300),
                count=3,
            ),
            Problem(
                work_type=SF,
                target="detect",
                error="detect failed: PermissionError: [Errno 13] Permission denied",
                first=ago(45),
                last=ago(45),
            ),
        ],
        syncs=4,
        last_sync_at=ago(90),
    ),
    "held": work_status(
        queue_depth=5,
        rate_limit_remaining=0,
        quota_paused_until=QUOTA.until,
        quota=QUOTA,
        paused_types={"review": later(1500)},
        parked={f"{SF}:2026-11-24-grace-0007": later(3000)},
        holds=[
            Hold(
                kind="quota",
                name="claude",
                until=QUOTA.until,
                reason=f"{QUOTA.message} (read from {QUOTA.basis!r})",
            ),
            Hold(
                kind="rate_limit",
                until=later(1800),
                reason="all 60 agent runs of the 3600 s window are used",
            ),
            Hold(
                kind="paused_type",
                name="review",
                until=later(1500),
                reason="the ledger has unresolved merge conflicts (git status)",
            ),
            Hold(
                kind="disabled_type",
                name="review",
                reason="turned off in the config (session_finalize)",
            ),
            Hold(
                kind="parked",
                name=f"{SF}:2026-11-24-grace-0007",
                until=later(3000),
                reason="3 failures in a row; last: build_prompt failed: cannot read raw.jsonl",
            ),
        ],
        stats=AgentWorkStats(total_invocations=61, runs_ok=60, runs_quota=1, successes=60),
    ),
    "quota-fallback": work_status(
        queue_depth=1,
        quota=QuotaState(
            until=later(3599), message="You've hit your usage limit", basis="", since=ago(1)
        ),
        holds=[
            Hold(
                kind="quota",
                name="codex",
                until=later(3599),
                reason="You've hit your usage limit (no time given: 1 h fallback)",
            )
        ],
        agent_type="codex",
    ),
    "quota-days": work_status(
        holds=[
            Hold(
                kind="quota",
                name="claude",
                until=later(3 * 86400),
                reason="claude seven_day limit reached (read from 'the resetsAt claude reported')",
            )
        ],
    ),
}

RUNNERS = [
    {"name": "claude", "installed": True, "authenticated": True, "detail": "logged in (api key)"},
    {"name": "codex", "installed": True, "authenticated": False, "detail": "Not logged in"},
    {"name": "gemini", "installed": False, "authenticated": False, "detail": "gemini not found"},
]
SETTINGS = [
    {"key": "ledger", "value": "/home/dev/work/team-ledger", "source": "env OX_LEDGER"},
    {"key": "agent_work.agent", "value": "(auto: the first usable runner)", "source": "default"},
    {
        "key": "agent_work.max_concurrent",
        "value": "2",
        "source": "file /home/dev/.config/ox/config.toml",
    },
]
HANDLERS = [
    {
        "type": "session-finalize",
        "class": "ox_handler_session_finalize.handler.SessionFinalizeHandler",
        "error": None,
    }
]
DOCTOR_STATES: dict[str, dict[str, Any]] = {
    "healthy": {
        "runners": RUNNERS,
        "agent": "claude",
        "handlers": HANDLERS,
        "plugin_errors": [],
        "ledger": {"path": "/home/dev/work/team-ledger", "state": "ok", "remote": "origin"},
        "daemon": {"socket": DAEMON["socket"], "running": True, "pid": 4242, "socket_mode": "0600"},
        "settings": SETTINGS,
        "config_file": "/home/dev/.config/ox/config.toml",
        "config_file_exists": True,
    },
    "broken": {
        "runners": [{**r, "authenticated": False} for r in RUNNERS],
        "agent": "none",
        "handlers": [
            *HANDLERS,
            {"type": "review", "class": "-", "error": "ValueError: unknown option 'depth'"},
        ],
        "plugin_errors": [
            {
                "name": "gemini",
                "group": "ox.runners",
                "distribution": "ox-runner-gemini",
                "version": "0.1.0",
                "error": "ImportError: cannot import name 'Runner' from 'ox_core' (unknown)",
            }
        ],
        "ledger": {
            "path": "/home/dev/.local/share/ox/ledger",
            "state": "missing (created on first `ox-core serve`)",
        },
        "daemon": {"socket": "/run/user/1000/ox/ox-9f8e7d.sock", "running": False},
        "settings": SETTINGS,
        "config_file": "/home/dev/.config/ox/config.toml",
        "config_file_exists": False,
    },
}

DOCTOR_STATES["daemon-holds"] = {
    **DOCTOR_STATES["healthy"],
    "daemon": {
        **DOCTOR_STATES["healthy"]["daemon"],
        "holds": STATUS_STATES["held"]["agent_work"]["holds"][:2],
        "errors": STATUS_STATES["outcomes"]["agent_work"]["errors"],
    },
}
DOCTOR_STATES["daemon-stuck"] = {
    **DOCTOR_STATES["healthy"],
    "daemon": {
        **DOCTOR_STATES["healthy"]["daemon"],
        "status_error": "no answer from the daemon within 5 s",
    },
}

PLUGINS = [
    ("claude", "ox.runners", "ox-runner-claude", None),
    ("codex", "ox.runners", "ox-runner-codex", None),
    ("gemini", "ox.runners", "ox-runner-gemini", None),
    ("session-finalize", "ox.handlers", "ox-handler-session-finalize", None),
]
PLUGIN_STATES: dict[str, list[dict[str, Any]]] = {
    "none": [],
    "installed": [
        {"name": n, "group": g, "distribution": d, "version": "0.1.0", "error": e}
        for n, g, d, e in PLUGINS
    ],
    "load-error": [
        {"name": n, "group": g, "distribution": d, "version": "0.1.0", "error": e}
        for n, g, d, e in [
            *PLUGINS,
            (
                "review",
                "ox.handlers",
                "ox-handler-review",
                "ModuleNotFoundError: No module named 'ox_handler_review.handler'",
            ),
        ]
    ],
}


def render(screen: RenderableType, width: int) -> str:
    console = Console(
        width=width, record=True, file=io.StringIO(), color_system=None, legacy_windows=False
    )
    console.print(screen)
    return console.export_text()


CASES: list[tuple[str, Callable[[], RenderableType]]] = [
    *((f"status-{k}", lambda v=v: status_screen(v, now=NOW)) for k, v in STATUS_STATES.items()),
    *((f"doctor-{k}", lambda v=v: doctor_screen(v, now=NOW)) for k, v in DOCTOR_STATES.items()),
    *((f"plugins-{k}", lambda v=v: plugins_screen(v)) for k, v in PLUGIN_STATES.items()),
]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("name", "screen"), CASES, ids=[c[0] for c in CASES])
def test_screen_matches_golden(name: str, screen: Callable[[], RenderableType], width: int) -> None:
    text = render(screen(), width)
    assert all(len(line) <= width for line in text.splitlines())
    path = GOLDEN / f"{name}-{width}.txt"
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with OX_UPDATE_GOLDEN=1 to make it"
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} at {width} columns differs from {path.name}; if the change is wanted, "
        "regenerate with OX_UPDATE_GOLDEN=1 and review the diff"
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_plugins_table_never_cuts_a_distribution_name(width: int) -> None:
    text = render(plugins_screen(PLUGIN_STATES["load-error"]), width)
    for _, _, distribution, _ in PLUGINS:
        assert distribution in text
    assert "ox-handler-review" in text
    assert "…" not in text


@pytest.mark.parametrize("width", WIDTHS)
def test_status_shows_every_hold_with_its_end_and_reason(width: int) -> None:
    text = render(status_screen(STATUS_STATES["held"], now=NOW), width)
    flat = " ".join(text.split())
    for label in ("quota pause", "rate limit", "type paused", "type off", "parked"):
        assert label in flat
    assert "12:02 UTC (in 2m00s)" in flat  # the quota pause: until-time and how long
    assert "Try again in 2 minutes" in flat  # what the length was read from
    assert "type off review until the config changes" in flat


@pytest.mark.parametrize("width", WIDTHS)
def test_status_tells_each_outcome_and_counts_items_and_runs_apart(width: int) -> None:
    text = render(status_screen(STATUS_STATES["outcomes"], now=NOW), width)
    flat = " ".join(text.split())
    assert "5 finished: 1 discarded: brief, 1 failed, 1 kept locally, 1 published," in flat
    assert "3 runs: 2 ok, 1 failed" in flat
    assert "the answer is not JSON" in flat
    assert "the session was brief" in flat
    assert "(since 1h ago, 3 times, last 5m ago)" in flat
    assert "(since 45s ago)" in flat
    assert "Sync 4 syncs, last 1m ago" in flat
