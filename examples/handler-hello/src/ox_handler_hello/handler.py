"""The hello handler: `hello/<name>.txt` in the ledger → `hello/<name>.reply`."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import trio

from ox_core import RunRequest, RunResult, WorkHandler, WorkItem
from ox_core.fs import atomic_write
from ox_handler_hello.options import HelloOptions


class HelloHandler(WorkHandler):
    """Greets whoever each `hello/<name>.txt` names."""

    type = "hello"
    Options = HelloOptions

    def __init__(self) -> None:
        self.options = HelloOptions()

    def configure(self, options: HelloOptions) -> None:
        """`[handlers.hello]`, validated by ox (at load and after each config edit)."""
        self.options = options

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
            ][: self.options.max_requests]

        return await trio.to_thread.run_sync(scan)

    async def build_prompt(self, item: WorkItem) -> RunRequest:
        request = Path(item.payload["request"])
        who = (await trio.Path(request).read_text(encoding="utf-8")).strip()
        if not who:
            return RunRequest(skip_llm=True)
        return RunRequest(prompt=f"Write a one-line friendly greeting for {who}.")

    async def process_result(self, item: WorkItem, result: RunResult) -> None:
        request = Path(item.payload["request"])
        answer = result.output.strip() or f"{self.options.greeting}, whoever you are!"
        await trio.to_thread.run_sync(
            partial(atomic_write, mode=0o644), request.with_suffix(".reply"), answer + "\n"
        )


def write_request(ledger: Path, name: str, text: str) -> Path:
    """Write `hello/<name>.txt` in `ledger` (what `ox-core hello` does); returns its path."""
    folder = ledger / "hello"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.txt"
    atomic_write(path, text + "\n", mode=0o644)
    return path
