"""A plugin's answer that is not text where text is expected (an exception object as an
`Outcome` reason, as a runner's `RunResult.error`): `status` still answers, with it as text.

`status` sends the recent items' outcomes and errors as JSON; one such object among them made
every `status` fail with an internal error, until ten more items ended (and, as an outcome's
kind, for the life of the daemon: the outcome counts keep it)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import trio

from ox_core import MockRunner, Outcome, RunRequest, RunResult, WorkHandler, WorkItem
from ox_core.daemon import Daemon, serve
from ox_core.ipc import call
from ox_core.settings import Settings, load_settings
from ox_core.testing import plugins_of, wait_for


class NoteHandler(WorkHandler):
    """Work type `note`: one item per `<ledger>/notes/<n>.txt` without `<ledger>/done/<n>`;
    its outcome says why it was discarded with the exception it caught."""

    type = "note"

    async def detect(self, ledger: Path) -> list[WorkItem]:
        notes = sorted((ledger / "notes").glob("*.txt"))
        return [
            WorkItem(type="note", dedup_key=f"note:{p.stem}", payload={"name": p.stem})
            for p in notes
            if not (ledger / "done" / p.stem).exists()
        ]

    async def build_prompt(self, item: WorkItem) -> RunRequest:
        return RunRequest(prompt=item.payload["name"])

    async def process_result(self, item: WorkItem, result: RunResult) -> Outcome:
        assert self.context is not None
        (self.context.ledger / "done").mkdir(exist_ok=True)
        (self.context.ledger / "done" / item.payload["name"]).write_text(result.output)
        try:
            int(result.output)
        except ValueError as exc:
            return Outcome("discarded", reason=exc)  # type: ignore[arg-type]
        return Outcome("published")


class FailingRunner(MockRunner):
    """Every run fails, with the exception it caught as the error."""

    name = "failing"
    priority = 5

    def __init__(self) -> None:
        super().__init__(lambda r: RunResult(exit_code=1, error=OSError("agent CLI crashed")))  # type: ignore[arg-type]


@pytest.fixture
def ledger(env: Path) -> Path:
    path = env / "ledger"
    path.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    (path / ".gitignore").write_text(".ox/cache/\n")  # what marks it as an ox ledger
    (path / "notes").mkdir()
    (path / "notes" / "a.txt").write_text("")
    return path


async def rpc(settings: Settings, method: str) -> Any:
    return await trio.to_thread.run_sync(call, settings.socket_path(), method, None)


async def status_after_one_item(ledger: Path, runner: type[MockRunner]) -> Any:
    """The daemon's `status` once the note handler's one item ran with `runner`."""
    settings = load_settings(ledger=ledger)
    plugins = plugins_of([NoteHandler], [runner])
    async with trio.open_nursery() as nursery:
        daemon: Daemon = await nursery.start(
            lambda task_status: serve(
                settings, plugins=plugins, handle_signals=False, task_status=task_status
            )
        )
        await wait_for(
            "a finished item",
            lambda: daemon.manager is not None and daemon.manager.status().recent,
        )
        status = await rpc(settings, "status")
        daemon.stop()
    return status


async def test_an_outcome_whose_reason_is_an_exception_is_shown_as_text(ledger: Path) -> None:
    status = await status_after_one_item(ledger, MockRunner)
    [recent] = status["agent_work"]["recent"]
    assert (recent["outcome"], recent["reason"]) == (
        "discarded",
        "invalid literal for int() with base 10: 'ok'",
    )


async def test_a_run_error_that_is_an_exception_is_shown_as_text(ledger: Path) -> None:
    status = await status_after_one_item(ledger, FailingRunner)
    first = status["agent_work"]["recent"][0]
    assert (first["outcome"], first["reason"], first["error"]) == (
        "will retry",
        "agent CLI crashed",
        "agent CLI crashed",
    )
