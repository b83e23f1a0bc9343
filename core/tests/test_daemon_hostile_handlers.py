"""A handler plugin that misbehaves when the daemon attaches it, serves its IPC methods or
starts its service: the daemon starts anyway, the other handlers' work is done, and `status`
names the plugin and what is wrong with it.

Real daemon in-process: a real git ledger, a real Unix socket, plugins registered through
`load_plugins` (as the daemon loads them).
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import trio

from ox_core import MockRunner, RunResult, WorkHandler
from ox_core.contracts import AgentUsability, HandlerContext, IpcMethod
from ox_core.daemon import Daemon, serve
from ox_core.ipc import call
from ox_core.settings import Settings, load_settings
from ox_core.testing import IdleHandler, plugins_of, wait_for

from . import test_daemon as daemon_tests


class NoteHandler(daemon_tests.NoteHandler):
    """The daemon tests' note handler, its IPC method a count of the notes."""

    def ipc_methods(self) -> Mapping[str, IpcMethod]:
        async def note_count(params: dict[str, Any]) -> int:
            assert self.context is not None
            return len(list((self.context.ledger / "notes").glob("*.txt")))

        return {"note_count": note_count}


class QuietHandler(IdleHandler):
    """A handler with no work; the hostile ones below change one method each."""

    type = "hostile"


class AttachRaises(QuietHandler):
    def attach(self, context: HandlerContext) -> None:
        raise RuntimeError("cannot attach: vendor SDK missing")


class TakesCoreMethods(QuietHandler):
    """Serves `status`, `shutdown` (core's) and `note_count` (the note handler's)."""

    def ipc_methods(self) -> Mapping[str, IpcMethod]:
        async def hijacked(params: dict[str, Any]) -> str:
            return "hijacked"

        return {"status": hijacked, "shutdown": hijacked, "note_count": hijacked}


class ServeNeverStarts(QuietHandler):
    """A service that never calls `task_status.started()` (it waits on something first)."""

    async def serve(
        self, ledger: Path, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        await trio.sleep_forever()


class UpperRunner(MockRunner):
    name = "upper"
    priority = 5

    def __init__(self) -> None:
        super().__init__(lambda request: RunResult(output=request.prompt.upper()))


@pytest.fixture
def ledger(env: Path) -> Path:
    path = env / "ledger"
    path.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    (path / ".gitignore").write_text(".ox/cache/\n")  # what marks it as an ox ledger
    (path / "notes").mkdir()
    (path / "notes" / "a.txt").write_text("hello")
    return path


async def rpc(settings: Settings, method: str, params: dict[str, Any] | None = None) -> Any:
    return await trio.to_thread.run_sync(call, settings.socket_path(), method, params)


async def start(nursery: trio.Nursery, settings: Settings, hostile: type[WorkHandler]) -> Daemon:
    plugins = plugins_of([NoteHandler, hostile], [UpperRunner])
    daemon: Daemon = await nursery.start(
        lambda task_status: serve(
            settings, plugins=plugins, handle_signals=False, task_status=task_status
        )
    )
    return daemon


async def test_a_handler_whose_attach_raises_is_reported_and_the_others_work(
    ledger: Path,
) -> None:
    settings = load_settings(ledger=ledger)
    async with trio.open_nursery() as nursery:
        daemon = await start(nursery, settings, AttachRaises)
        await wait_for("the note answered", (ledger / "done" / "a").exists)
        status = await rpc(settings, "status")
        daemon.stop()
    assert (ledger / "done" / "a").read_text() == "HELLO"
    assert status["daemon"]["handlers"] == ["note"]
    assert status["daemon"]["plugin_errors"] == [
        "hostile: attach failed: RuntimeError: cannot attach: vendor SDK missing"
    ]


async def test_ipc_methods_taken_by_core_or_another_handler_are_reported(ledger: Path) -> None:
    settings = load_settings(ledger=ledger)
    async with trio.open_nursery() as nursery:
        daemon = await start(nursery, settings, TakesCoreMethods)
        status = await rpc(settings, "status")
        count = await rpc(settings, "note_count")
        daemon.stop()
    # Core's methods stay core's; between two handlers, the first attached (by type) keeps it.
    assert status["daemon"]["ready"] is True
    assert count == "hijacked"
    assert status["daemon"]["handlers"] == ["hostile", "note"]
    assert status["daemon"]["plugin_errors"] == [
        "hostile: IPC method 'status' is already taken by ox-core",
        "hostile: IPC method 'shutdown' is already taken by ox-core",
        "note: IPC method 'note_count' is already taken by handler hostile",
    ]


async def test_a_service_that_never_reports_ready_does_not_hold_up_the_daemon(
    ledger: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ox_core import daemon as daemon_module

    monkeypatch.setattr(daemon_module, "SERVICE_START_DEADLINE", 0.2, raising=False)
    settings = load_settings(ledger=ledger)
    async with trio.open_nursery() as nursery:
        with trio.fail_after(60):  # the daemon is ready although that service is not
            daemon = await start(nursery, settings, ServeNeverStarts)
        await wait_for("the note answered", (ledger / "done" / "a").exists)
        status = await rpc(settings, "status")
        daemon.stop()
    assert (ledger / "done" / "a").read_text() == "HELLO"
    assert status["daemon"]["ready"] is True
    assert [(s["name"], s["state"]) for s in status["daemon"]["services"]] == [
        ("hostile", "starting")
    ]


release = threading.Event()  # set at teardown: lets the hung checks' threads end


class HangingRunner(MockRunner):
    """Preferred by priority, but its usability check never answers."""

    name = "hangs"
    priority = 1

    def usability(self) -> AgentUsability:
        release.wait(90)  # bounded: unfixed code answers late rather than hanging the test
        return AgentUsability(True, True, "too late")


async def test_a_runner_whose_usability_check_hangs_does_not_hold_up_the_daemon(
    ledger: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ox_core import agents

    monkeypatch.setattr(agents, "USABILITY_TIMEOUT", 0.5, raising=False)
    settings = load_settings(ledger=ledger)
    plugins = plugins_of([NoteHandler], [UpperRunner, HangingRunner])
    try:
        async with trio.open_nursery() as nursery:
            with trio.fail_after(60):  # ready although that runner never answered
                daemon: Daemon = await nursery.start(
                    lambda task_status: serve(
                        settings, plugins=plugins, handle_signals=False, task_status=task_status
                    )
                )
            await wait_for("the note answered", (ledger / "done" / "a").exists)
            status = await rpc(settings, "status")
            daemon.stop()
    finally:
        release.set()
    assert (ledger / "done" / "a").read_text() == "HELLO"
    assert status["daemon"]["agent"] == "upper"
