"""The daemon in-process: ledger, lock, plugins, manager, handler services and IPC together.

Real git repositories, real Unix sockets, inline plugins (a `MockRunner` and a small handler
that turns files in the ledger into work).
"""

# Tests touch small local files from async code and poll state kept by real threads and
# sockets: the blocking-call and polling rules are for production code.
# ruff: noqa: ASYNC109, ASYNC110

from __future__ import annotations

import contextlib
import logging
import os
import re
import subprocess
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import trio
from rich.console import Console

from ox_core import MockRunner, RunRequest, RunResult, WorkHandler, WorkItem
from ox_core.contracts import AgentUsability, IpcMethod
from ox_core.daemon import Daemon, serve
from ox_core.daemon_lock import DaemonRunningError, read_owner
from ox_core.errors import ConfigError, OxError
from ox_core.ipc import IpcError, call
from ox_core.plugins import LoadedPlugins
from ox_core.settings import Settings, load_settings
from ox_core.testing import plugins_of


class NoteHandler(WorkHandler):
    """Work type `note`: each `<ledger>/notes/<n>.txt` is answered into `<ledger>/done/<n>`."""

    type = "note"

    async def detect(self, ledger: Path) -> list[WorkItem]:
        notes = sorted((ledger / "notes").glob("*.txt")) if (ledger / "notes").is_dir() else []
        return [
            WorkItem(type="note", dedup_key=f"note:{p.stem}", payload={"name": p.stem})
            for p in notes
            if not (ledger / "done" / p.stem).exists()
        ]

    async def build_prompt(self, item: WorkItem) -> RunRequest:
        assert self.context is not None
        text = (self.context.ledger / "notes" / f"{item.payload['name']}.txt").read_text()
        return RunRequest(prompt=text, skip_llm=item.payload.get("skip", False))

    async def process_result(self, item: WorkItem, result: RunResult) -> None:
        assert self.context is not None
        done = self.context.ledger / "done"
        done.mkdir(exist_ok=True)
        (done / item.payload["name"]).write_text(result.output or "(no llm)")

    def ipc_methods(self) -> Mapping[str, IpcMethod]:
        async def note_add(params: dict[str, Any]) -> dict[str, Any]:
            assert self.context is not None
            name = params.get("name")
            if not isinstance(name, str) or not name.isalnum():
                raise OxError("note_add needs an alphanumeric `name`")
            notes = self.context.ledger / "notes"
            notes.mkdir(exist_ok=True)
            (notes / f"{name}.txt").write_text(str(params.get("text", "")))
            queued = self.context.enqueue(
                WorkItem(type="note", dedup_key=f"note:{name}", payload={"name": name})
            )
            return {"queued": queued}

        return {"note_add": note_add}


class BrokenServiceHandler(NoteHandler):
    """Its service fails `crashes_left` times after starting, then serves until cancelled."""

    type = "broken"
    crashes_left = 0
    serving = False

    async def serve(
        self, ledger: Path, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        BrokenServiceHandler.serving = False
        task_status.started()
        if BrokenServiceHandler.crashes_left > 0:
            BrokenServiceHandler.crashes_left -= 1
            raise RuntimeError("service crashed")
        BrokenServiceHandler.serving = True
        await trio.sleep_forever()

    def ipc_methods(self) -> Mapping[str, IpcMethod]:
        return {}


def upper(request: RunRequest) -> RunResult:
    return RunResult(output=request.prompt.upper())


class UpperRunner(MockRunner):
    name = "upper"
    priority = 5

    def __init__(self, usable: bool = True) -> None:
        super().__init__(upper, usability=AgentUsability(usable, usable, "test"))


def make_plugins(*handlers: type[WorkHandler], runner: type[MockRunner] = UpperRunner) -> Any:
    return plugins_of(handlers or (NoteHandler,), [runner])


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def ledger(env: Path) -> Path:
    path = env / "ledger"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / ".gitignore").write_text(".ox/cache/\n")  # what marks it as an ox ledger
    return path


async def rpc(settings: Settings, method: str, params: dict[str, Any] | None = None) -> Any:
    return await trio.to_thread.run_sync(call, settings.socket_path(), method, params)


async def wait_for(predicate: Callable[[], Any], timeout: float = 60.0) -> None:
    with trio.fail_after(timeout):
        while not predicate():
            await trio.sleep(0.02)


async def start(
    nursery: trio.Nursery, settings: Settings, plugins: LoadedPlugins | None = None
) -> Daemon:
    daemon: Daemon = await nursery.start(
        lambda task_status: serve(
            settings,
            plugins=plugins if plugins is not None else make_plugins(),
            handle_signals=False,
            task_status=task_status,
        )
    )
    return daemon


async def test_serves_status_work_and_handler_methods(ledger: Path) -> None:
    settings = load_settings(ledger=ledger)
    async with trio.open_nursery() as nursery:
        daemon = await start(nursery, settings)
        status = await rpc(settings, "status")
        assert status["daemon"]["ledger"] == str(ledger)
        assert status["daemon"]["pid"] == os.getpid()
        assert status["daemon"]["ready"] is True
        assert status["daemon"]["handlers"] == ["note"]
        assert status["agent_work"]["agent_type"] == "upper"
        assert status["agent_work"]["stats"]["successes"] == 0

        # a handler's own IPC method, which enqueues through the HandlerContext
        assert await rpc(settings, "note_add", {"name": "a1", "text": "hello"}) == {"queued": True}
        await wait_for(lambda: (ledger / "done" / "a1").exists())
        assert (ledger / "done" / "a1").read_text() == "HELLO"
        with pytest.raises(IpcError, match="alphanumeric"):
            await rpc(settings, "note_add", {"name": "../x"})

        # enqueue over IPC
        (ledger / "notes" / "b2.txt").write_text("second")
        reply = await rpc(
            settings, "enqueue", {"type": "note", "payload": {"name": "b2"}, "dedup_key": "k"}
        )
        assert reply["queued"] is True
        await wait_for(lambda: (ledger / "done" / "b2").exists())
        with pytest.raises(
            IpcError, match=r"no handler for work type 'nope' \(installed: note\)"
        ) as unknown:
            await rpc(settings, "enqueue", {"type": "nope"})
        assert unknown.value.code == "not_found"
        with pytest.raises(IpcError, match="priority") as invalid:
            await rpc(settings, "enqueue", {"type": "note", "priority": "high"})
        assert invalid.value.code == "invalid_request"

        # force_detect finds what is on disk
        (ledger / "notes" / "c3.txt").write_text("third")
        assert (await rpc(settings, "force_detect"))["queued"] == 1
        await wait_for(lambda: (ledger / "done" / "c3").exists())

        await wait_for(
            lambda: daemon.manager is not None and daemon.manager.status().stats.successes == 3
        )
        status = await rpc(settings, "status")
        assert status["agent_work"]["stats"]["successes"] == 3
        assert [p["status"] for p in status["agent_work"]["recent"]][-3:] == ["completed"] * 3

        assert await rpc(settings, "shutdown") == {"stopping": True}
    assert not settings.socket_path().exists()
    assert read_owner(ledger) == {}  # the lock file is emptied on the way out


async def test_one_daemon_per_ledger(ledger: Path) -> None:
    settings = load_settings(ledger=ledger)
    async with trio.open_nursery() as nursery:
        daemon = await start(nursery, settings)
        with pytest.raises(DaemonRunningError, match=f"pid {os.getpid()}") as info:
            await serve(settings, plugins=make_plugins(), handle_signals=False)
        assert str(ledger) in str(info.value)
        # the first one is unharmed
        assert (await rpc(settings, "ping"))["pid"] == os.getpid()
        daemon.stop()


async def test_no_agent_keeps_work_queued(ledger: Path) -> None:
    class Unusable(UpperRunner):
        name = "unusable"

        def __init__(self) -> None:
            super().__init__(usable=False)

    settings = load_settings(ledger=ledger)
    async with trio.open_nursery() as nursery:
        daemon = await start(nursery, settings, make_plugins(runner=Unusable))
        status = await rpc(settings, "status")
        assert status["daemon"]["agent"] == "none"
        assert status["agent_work"]["agent_type"] == "none"
        await rpc(settings, "note_add", {"name": "w", "text": "waits"})
        await wait_for(lambda: daemon.manager is not None and daemon.manager.has_pending_work())
        await trio.sleep(0.2)
        assert not (ledger / "done" / "w").exists()
        # a forced scan finds one more note, and says what waits
        (ledger / "notes" / "x.txt").write_text("also waits")
        reply = await rpc(settings, "force_detect")
        assert reply == {
            "queued": 1,
            "waiting": [
                {"type": "note", "key": "note:w", "priority": 50},
                {"type": "note", "key": "note:x", "priority": 50},
            ],
            "running": [],
        }
        daemon.stop()


async def test_runner_options_come_from_settings(ledger: Path) -> None:
    seen: list[bool] = []

    class Configurable(UpperRunner):
        name = "configurable"

        def __init__(self, usable: bool = True) -> None:
            seen.append(usable)
            super().__init__(usable=usable)

    settings = load_settings(ledger=ledger, runners={"configurable": {"usable": False}})
    async with trio.open_nursery() as nursery:
        daemon = await start(nursery, settings, make_plugins(runner=Configurable))
        assert seen == [False]
        assert daemon.agent == "none"
        daemon.stop()


async def test_bad_runner_options_are_reported_not_fatal(ledger: Path) -> None:
    settings = load_settings(ledger=ledger, runners={"upper": {"colour": "red"}})
    async with trio.open_nursery() as nursery:
        daemon = await start(nursery, settings)
        status = await rpc(settings, "status")
        assert status["daemon"]["runners"] == []
        assert any("upper" in e and "colour" in e for e in status["daemon"]["plugin_errors"])
        daemon.stop()


@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        ("status", {"verbose": True}, "verbose: Extra inputs are not permitted"),
        ("ping", {"x": 1}, "x: Extra inputs are not permitted"),
        ("force_detect", {"all": True}, "all: Extra inputs are not permitted"),
        ("force_detect", {"resume": "yes"}, "resume: Input should be a valid boolean"),
        ("shutdown", {"now": 1}, "now: Extra inputs are not permitted"),
        ("enqueue", {"type": "note", "priority": "5"}, "priority: Input should be a valid int"),
        ("enqueue", {"type": "note", "priority": True}, "priority: Input should be a valid int"),
        ("enqueue", {"type": "note", "priority": 10**9}, "priority: Input should be less than"),
        ("enqueue", {"type": "../note"}, "type: String should match pattern"),
        ("enqueue", {"type": "note", "dedup_key": "a\nb"}, "dedup_key: String should match"),
        ("enqueue", {"type": "note", "payload": []}, "payload: Input should be a valid dict"),
        ("enqueue", {"type": "note", "when": 1}, "when: Extra inputs are not permitted"),
    ],
)
async def test_every_core_method_validates_its_params(
    ledger: Path, method: str, params: dict[str, Any], message: str
) -> None:
    """Bad params are one error line and change nothing: the daemon keeps running."""
    settings = load_settings(ledger=ledger)
    async with trio.open_nursery() as nursery:
        daemon = await start(nursery, settings)
        with pytest.raises(IpcError, match=f"invalid request: {re.escape(message)}"):
            await rpc(settings, method, params)
        status = await rpc(settings, "status")
        assert status["agent_work"]["queue_depth"] == 0
        daemon.stop()


async def test_a_crashing_handler_service_is_restarted_and_shown_in_status(
    ledger: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service that fails is restarted with backoff, never left dead; `status` says so."""
    from ox_core import supervise
    from ox_core.render import status_screen

    monkeypatch.setattr(supervise, "RESTART_BASE", 0.05)
    BrokenServiceHandler.crashes_left = 2
    settings = load_settings(ledger=ledger)
    caplog.set_level(logging.ERROR)
    async with trio.open_nursery() as nursery:
        daemon = await start(nursery, settings, make_plugins(NoteHandler, BrokenServiceHandler))
        await wait_for(lambda: BrokenServiceHandler.serving)
        status = await rpc(settings, "status")
        daemon.stop()
    assert status["daemon"]["handlers"] == ["broken", "note"]
    broken = next(s for s in status["daemon"]["services"] if s["name"] == "broken")
    assert broken["state"] == "running"
    assert broken["restarts"] == 2
    assert broken["last_error"] == "RuntimeError: service crashed"
    assert datetime.fromisoformat(broken["last_error_at"]) <= datetime.now(UTC)
    # NoteHandler has no service of its own (the default `serve`): nothing to supervise or show.
    assert [s["name"] for s in status["daemon"]["services"]] == ["broken"]
    assert "broken stopped with an error; restarting" in caplog.text
    console = Console(width=200, record=True)
    console.print(status_screen(status))
    text = console.export_text()
    assert "broken running, 2 restarts; last error" in text
    assert "RuntimeError: service crashed" in text


async def test_default_ledger_is_created_on_first_start(env: Path) -> None:
    settings = load_settings()
    ledger = env / ".local" / "share" / "ox" / "ledger"
    assert settings.ledger_path() == ledger
    async with trio.open_nursery() as nursery:
        daemon = await start(nursery, settings)
        assert daemon.ledger == ledger
        daemon.stop()
    assert (ledger / ".gitignore").read_text() == ".ox/cache/\n"
    assert git(ledger, "log", "--format=%s").split("\n")[0] == "ox ledger"
    assert git(ledger, "status", "--porcelain") == ""  # the cache is ignored
    assert (ledger / ".ox" / "cache").is_dir()
    # second start reuses it
    async with trio.open_nursery() as nursery:
        daemon = await start(nursery, settings)
        daemon.stop()
    assert git(ledger, "rev-list", "--count", "HEAD").strip() == "1"


async def test_configured_ledger_must_exist(env: Path) -> None:
    settings = load_settings(ledger=env / "missing")
    with pytest.raises(ConfigError, match="does not exist"):
        await serve(settings, plugins=make_plugins(), handle_signals=False)
    (env / "plain").mkdir()
    settings = load_settings(ledger=env / "plain")
    with pytest.raises(ConfigError, match="not a git repository"):
        await serve(settings, plugins=make_plugins(), handle_signals=False)


def test_agent_work_config_is_reloaded_when_the_file_changes(env: Path) -> None:
    from ox_core.daemon_setup import ConfigReloader as _ConfigReloader

    config = env / ".config" / "ox" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[agent_work]\nmax_concurrent = 2\n")
    reloader = _ConfigReloader(load_settings())
    assert reloader().max_concurrent == 2
    config.write_text("[agent_work]\nmax_concurrent = 3\nenabled = false\n")
    assert reloader().max_concurrent == 3
    assert reloader().enabled is False
    config.write_text("[agent_work]\nmax_concurrent = -1\n")  # a bad edit
    with pytest.raises(ConfigError, match="max_concurrent"):
        reloader()
    assert reloader.current.max_concurrent == 3  # the last good one stays
    config.unlink()
    assert reloader().max_concurrent == 4  # back to the defaults


async def test_a_git_repo_that_is_not_an_ox_ledger_is_refused(ledger: Path) -> None:
    """A project clone the `ledger` setting points at by mistake is never adopted."""
    (ledger / ".gitignore").write_text("node_modules/\n")
    settings = load_settings(ledger=ledger)
    with pytest.raises(ConfigError, match=r"not an ox ledger: its \.gitignore does not list"):
        await serve(settings, plugins=make_plugins(), handle_signals=False)
    assert not (ledger / ".ox").exists()  # nothing written into it
    (ledger / ".gitignore").unlink()
    (ledger / ".gitignore").symlink_to(ledger / "elsewhere")
    (ledger / "elsewhere").write_text(".ox/cache/\n")
    with pytest.raises(ConfigError, match="not an ox ledger"):  # a link is not the marker
        await serve(settings, plugins=make_plugins(), handle_signals=False)
    (ledger / ".gitignore").unlink()
    os.mkfifo(ledger / ".gitignore")  # never opened for a blocking read
    with pytest.raises(ConfigError, match="not an ox ledger"):
        await serve(settings, plugins=make_plugins(), handle_signals=False)
    (ledger / ".gitignore").unlink()
    (ledger / ".gitignore").write_text("/.ox/cache\n")
    async with trio.open_nursery() as nursery:
        daemon = await start(nursery, settings)
        daemon.stop()


async def test_a_socket_path_in_use_by_a_file_is_one_clear_error(ledger: Path) -> None:
    settings = load_settings(ledger=ledger)
    sock = settings.socket_path()
    sock.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    sock.write_text("not a socket")
    with pytest.raises(OxError, match="exists and is not a socket"):
        await serve(settings, plugins=make_plugins(), handle_signals=False)
    assert sock.read_text() == "not a socket"
    assert read_owner(ledger) == {}  # the lock was let go


class NeverReadyHandler(NoteHandler):
    type = "never-ready"

    async def serve(
        self, ledger: Path, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        await trio.sleep_forever()  # never reports started

    def ipc_methods(self) -> Mapping[str, IpcMethod]:
        return {}


async def test_stop_during_start_up_is_prompt(ledger: Path) -> None:
    settings = load_settings(ledger=ledger)
    ended = trio.Event()

    async def run() -> None:
        await serve(settings, plugins=make_plugins(NeverReadyHandler), handle_signals=False)
        ended.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(run)
        await wait_for(lambda: settings.socket_path().exists())
        status = await rpc(settings, "status")
        assert status["daemon"]["ledger"] == str(ledger)
        assert status["daemon"]["ready"] is False
        with pytest.raises(IpcError, match="still starting") as starting:
            await rpc(settings, "no_such_method_yet")
        assert starting.value.code == "starting"
        with contextlib.suppress(OxError):  # the reply may be cut by the cancellation
            await rpc(settings, "shutdown")
        with trio.fail_after(30):
            await ended.wait()
    assert not settings.socket_path().exists()


class SlowNoteHandler(NoteHandler):
    """A note handler whose `process_result` waits for the test to release it."""

    started: trio.Event
    release: trio.Event

    async def process_result(self, item: WorkItem, result: RunResult) -> None:
        SlowNoteHandler.started.set()
        await SlowNoteHandler.release.wait()
        await super().process_result(item, result)


@pytest.mark.parametrize("released", [True, False])
async def test_shutdown_drains_work_in_flight_then_cancels(ledger: Path, released: bool) -> None:
    """Stopping starts no new item; an item in flight that ends within the drain deadline
    ends well; one that does not is cancelled, and the daemon still stops promptly."""
    from ox_core.daemon import DRAIN_DEADLINE, SHUTDOWN_GRACE

    SlowNoteHandler.started, SlowNoteHandler.release = trio.Event(), trio.Event()
    settings = load_settings(ledger=ledger)
    began = 0.0
    async with trio.open_nursery() as nursery:
        daemon = await start(nursery, settings, make_plugins(SlowNoteHandler))
        await rpc(settings, "note_add", {"name": "first", "text": "in flight"})
        await SlowNoteHandler.started.wait()
        began = trio.current_time()
        daemon.stop()
        # The IPC server still answers while the work drains, but takes no new work (it
        # would never run): see test_daemon_shutdown.
        with pytest.raises(IpcError) as refused:
            await rpc(settings, "note_add", {"name": "second", "text": "late"})
        assert refused.value.code == "shutting_down"
        if released:
            # Past the grace a `shutdown` reply gets: only the drain keeps the item alive.
            await trio.sleep(2 * SHUTDOWN_GRACE)
            SlowNoteHandler.release.set()
    took = trio.current_time() - began
    assert (ledger / "done" / "first").exists() == released
    assert not (ledger / "done" / "second").exists()
    # An unreleased item waits the deadline, then the daemon stops; the margin is for a
    # loaded machine (an item waited for without the deadline would never let it stop).
    assert took < DRAIN_DEADLINE + 30
    assert daemon.manager is not None
    assert daemon.manager.status().in_progress == 0


def test_a_lock_file_of_hostile_content_names_no_owner(ledger: Path) -> None:
    """The lock file says who holds the ledger (`status`, `doctor`); whatever is in it (not
    JSON, not an object, nested beyond Python's recursion limit), it names nobody."""
    from ox_core.daemon_lock import lock_path

    path = lock_path(ledger)
    path.parent.mkdir(parents=True, exist_ok=True)
    for content in (b"not json", b"[1]", b"[" * 5000 + b"]" * 5000):
        path.write_bytes(content)
        assert read_owner(ledger) == {}
