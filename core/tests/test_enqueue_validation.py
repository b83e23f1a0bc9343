"""`enqueue` over IPC checks the payload with its handler (`WorkHandler.validate_payload`)
before anything is queued: a real in-process daemon, a real socket, a real git ledger."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import trio
from pydantic import BaseModel, ConfigDict

from ox_core import RunRequest, RunResult, WorkHandler, WorkItem
from ox_core.daemon import Daemon, serve
from ox_core.errors import OxError
from ox_core.ipc import IpcError, call
from ox_core.settings import load_settings
from ox_core.testing import plugins_of


class TouchPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str


class TouchHandler(WorkHandler):
    """Work type `touch`: creates `<ledger>/touched/<name>`; names must be alphanumeric."""

    type = "touch"
    seen: list[dict[str, Any]]

    def __init__(self) -> None:
        self.seen = []
        self.done = trio.Event()

    def validate_payload(self, payload: dict[str, Any]) -> dict[str, Any]:
        p = TouchPayload.model_validate(payload)  # a ValidationError for a stray key
        if not p.name.isalnum():
            raise ValueError(f"name {p.name!r} is not alphanumeric")
        if p.name == "reserved":
            raise OxError("the name 'reserved' is reserved")
        return {"name": p.name.lower()}  # normalised: what is queued is what was returned

    async def detect(self, ledger: Path) -> list[WorkItem]:
        return []

    async def build_prompt(self, item: WorkItem) -> RunRequest:
        return RunRequest(skip_llm=True)

    async def process_result(self, item: WorkItem, result: RunResult) -> None:
        assert self.context is not None
        self.seen.append(dict(item.payload))
        folder = self.context.ledger / "touched"
        folder.mkdir(exist_ok=True)
        (folder / item.payload["name"]).touch()
        self.done.set()


def plugins() -> Any:
    return plugins_of([TouchHandler])


@pytest.fixture
def ledger(env: Path) -> Path:
    path = env / "ledger"
    path.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    (path / ".gitignore").write_text(".ox/cache/\n")  # what marks it as an ox ledger
    return path


async def test_enqueue_refuses_what_the_handler_refuses(ledger: Path) -> None:
    settings = load_settings(ledger=ledger)

    async def rpc(method: str, params: dict[str, Any]) -> Any:
        return await trio.to_thread.run_sync(call, settings.socket_path(), method, params)

    async with trio.open_nursery() as nursery:
        daemon: Daemon = await nursery.start(
            lambda task_status: serve(
                settings, plugins=plugins(), handle_signals=False, task_status=task_status
            )
        )
        bad = [
            ({"name": "../x"}, r"invalid touch payload: name '\.\./x' is not alphanumeric"),
            ({"name": "ok", "ledger": "/elsewhere"}, "invalid touch payload: ledger: Extra"),
            ({}, "invalid touch payload: name: Field required"),
            ({"name": "reserved"}, "the name 'reserved' is reserved"),
        ]
        for payload, message in bad:
            with pytest.raises(IpcError, match=message):
                await rpc("enqueue", {"type": "touch", "payload": payload})
        assert daemon.manager is not None
        assert daemon.manager.status().queue_depth == 0

        assert (await rpc("enqueue", {"type": "touch", "payload": {"name": "Abc"}}))["queued"]
        handler = next(h for h in daemon.handlers if isinstance(h, TouchHandler))
        with trio.fail_after(60):  # generous: a loaded machine
            await handler.done.wait()
        assert handler.seen == [{"name": "abc"}]
        assert sorted(p.name for p in (ledger / "touched").iterdir()) == ["abc"]
        daemon.stop()
