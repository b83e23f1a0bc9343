"""The session-finalize work handler."""

from __future__ import annotations

from pathlib import Path

from ox_core import RunRequest, RunResult, WorkHandler, WorkItem


class SessionFinalizeHandler(WorkHandler):
    type = "session-finalize"

    async def detect(self, ledger: Path) -> list[WorkItem]:
        return []

    async def build_prompt(self, item: WorkItem) -> RunRequest:
        return RunRequest(skip_llm=True)

    async def process_result(self, item: WorkItem, result: RunResult) -> None:
        return None
