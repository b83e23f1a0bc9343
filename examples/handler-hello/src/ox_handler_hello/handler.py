"""The hello handler: `hello/<name>.txt` in the ledger → `hello/<name>.reply`."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import trio

from ox_core import RunRequest, RunResult, WorkHandler, WorkItem
from ox_core.fs import atomic_write


class HelloHandler(WorkHandler):
    """Greets whoever each `hello/<name>.txt` names."""

    type = "hello"

    async def detect(self, ledger: Path) -> list[WorkItem]:
        def scan() -> list[WorkItem]:
            folder = ledger / "hello"
            if not folder.is_dir():
                return []
            return [
                WorkItem(
                    type=self.type,
                    dedup_key=f"hello:{request.stem}",
                    priority=50,
                    payload={"request": str(request)},
                )
                for request in sorted(folder.glob("*.txt"))
                if not request.with_suffix(".reply").exists()
            ]

        return await trio.to_thread.run_sync(scan)

    async def build_prompt(self, item: WorkItem) -> RunRequest:
        request = Path(item.payload["request"])
        who = (await trio.Path(request).read_text(encoding="utf-8")).strip()
        if not who:
            return RunRequest(skip_llm=True)
        return RunRequest(prompt=f"Write a one-line friendly greeting for {who}.")

    async def process_result(self, item: WorkItem, result: RunResult) -> None:
        request = Path(item.payload["request"])
        answer = result.output.strip() or "Hello, whoever you are!"
        await trio.to_thread.run_sync(
            partial(atomic_write, mode=0o644), request.with_suffix(".reply"), answer + "\n"
        )
