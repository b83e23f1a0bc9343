"""`[agent_work.rate_limit] window = inf` (valid TOML, accepted by the settings: only `> 0` is
checked), or any window past the calendar (`1e12` s): once the window's runs are used, the
manager's `status()` raises OverflowError turning the refill time into a date, so the IPC
`status` (and `ox-core status`, `doctor`'s holds) only says "internal error" while agent work
is held back, the one time a person needs to see why. Such a value must be refused with a
clear error by the settings, or shown."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
import trio.testing

from ox_core import (
    Manager,
    MockRunner,
    RunRequest,
    RunResult,
    SyncSignal,
    WorkHandler,
    WorkItem,
)
from ox_core.errors import ConfigError
from ox_core.settings import load_settings


class H(WorkHandler):
    type = "h"

    async def detect(self, ledger: Path) -> list[WorkItem]:
        return []

    async def build_prompt(self, item: WorkItem) -> RunRequest:
        return RunRequest(prompt="p")

    async def process_result(self, item: WorkItem, result: RunResult) -> None:
        pass


@pytest.mark.parametrize("window", ["inf", "1e12"])
def test_the_settings_refuse_or_the_status_shows_a_window_past_the_calendar(
    window: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[agent_work.rate_limit]\nruns = 1\nwindow = {window}\n")
    monkeypatch.setenv("OX_CONFIG_FILE", str(config))
    try:
        settings = load_settings()
    except ConfigError:
        return  # refused with one clear line: fine
    work_config = settings.agent_work

    async def main() -> None:
        manager = Manager(MockRunner(), [H()], lambda: work_config, SyncSignal(), tmp_path)
        async with trio.open_nursery() as nursery:
            await nursery.start(manager.run)
            manager.enqueue(WorkItem(type="h", dedup_key="a"))
            manager.enqueue(WorkItem(type="h", dedup_key="b"))
            await trio.testing.wait_all_tasks_blocked()
            status = manager.status()  # raises OverflowError on the current code
            assert any(h.kind == "rate_limit" for h in status.holds)
            nursery.cancel_scope.cancel()

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
