"""A kept quota pause whose `until` is valid ISO but at the edge of the calendar (a corrupt or
hand-edited `.ox/cache/quota-pause.json`): the daemon takes it up (capped at 7 days), but its
`status` carries the file's time as is, and `ox-core status` / `doctor` crash on it with an
OverflowError traceback instead of showing the pause."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import trio
import trio.testing
from rich.console import Console

from ox_core import (
    AgentWorkerConfig,
    Manager,
    RunRequest,
    RunResult,
    SyncSignal,
    WorkHandler,
    WorkItem,
)
from ox_core.render import doctor_screen, status_screen


class H(WorkHandler):
    type = "h"

    async def detect(self, ledger: Path) -> list[WorkItem]:
        return []

    async def build_prompt(self, item: WorkItem) -> RunRequest:
        return RunRequest(prompt="p")

    async def process_result(self, item: WorkItem, result: RunResult) -> None:
        pass


def render(screen: Any) -> str:
    out = io.StringIO()
    Console(file=out, width=120).print(screen)
    return out.getvalue()


async def test_a_kept_pause_at_the_calendars_end_is_shown(
    tmp_path: Path, autojump_clock: Any
) -> None:
    cache = tmp_path / ".ox" / "cache"
    cache.mkdir(parents=True)
    (cache / "quota-pause.json").write_text(
        json.dumps(
            {
                "until": "9999-12-31T23:00:00-05:00",
                "message": "hit your limit",
                "since": "2026-01-01T00:00:00+00:00",
            }
        )
    )
    from ox_core import MockRunner

    manager = Manager(MockRunner(), [H()], lambda: AgentWorkerConfig(), SyncSignal(), tmp_path)
    async with trio.open_nursery() as nursery:
        await nursery.start(manager.run)
        status = json.loads(
            json.dumps(
                {"daemon": {"pid": 1, "ready": True}, "agent_work": manager.status().to_json()},
                default=str,
            )
        )
        nursery.cancel_scope.cancel()
    assert any(h["kind"] == "quota" for h in status["agent_work"]["holds"])
    shown = render(status_screen(status))
    assert "quota pause" in shown
    doctor = {"daemon": {"running": True, "holds": status["agent_work"]["holds"]}}
    assert "quota pause" in render(doctor_screen(doctor))


def test_status_shows_a_hold_whose_time_is_past_the_calendar_in_utc() -> None:
    hold = {
        "kind": "quota",
        "name": "claude",
        "until": "9999-12-31T23:00:00-05:00",
        "reason": "hit your limit",
    }
    status = {
        "daemon": {"pid": 1, "ready": True},
        "agent_work": {"agent_type": "claude", "holds": [hold]},
    }
    assert "quota pause" in render(status_screen(status))
