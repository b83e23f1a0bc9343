"""What the daemon promises while it shuts down: a real in-process daemon (`serve`, its own
signal handling, a real SIGTERM), a real Unix socket, a real git ledger.

Once shutdown began nothing new is started and what is still queued at exit is not run, so a
request that asks for future work must be refused (`shutting_down`: the agent hook then does
the work in its own process) rather than answered `queued: true`; `status` and `ping` are
still answered; no client, idle or half-sent, holds the shutdown up.
"""

# The daemon's state is polled (what SIGTERM set in its own task): the polling rule is for
# production code.
# ruff: noqa: ASYNC110

from __future__ import annotations

import json
import logging
import os
import signal
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio

from ox_core import RunRequest, RunResult, WorkHandler, WorkItem
from ox_core import daemon as daemon_module
from ox_core.client import ErrorCode
from ox_core.contracts import IpcMethod
from ox_core.daemon import Daemon, serve
from ox_core.ipc import IpcError, call
from ox_core.settings import Settings, load_settings
from ox_core.testing import git, plugins_of

# Seconds a whole shutdown may take on a loaded 2-core box. The idle and request timeouts
# (10 s each) are above it: a shutdown that waited for a silent client would not fit.
STOP_BOUND = 5.0


# An item that holds the one worker slot, and so the drain, until the test releases it.
FIRST = {"type": "hold", "payload": {"name": "first", "hold": True}}


def item(name: str, *, hold: bool = False) -> WorkItem:
    return WorkItem(type="hold", dedup_key=f"hold:{name}", payload={"name": name, "hold": hold})


class HoldHandler(WorkHandler):
    """Work type `hold`: a processed item's name goes to `ran`; an item whose payload says
    `hold` first waits for `release`, so the shutdown drain has an item in flight. Its IPC
    method `hold_later`, and `detect` once `detecting` is set, queue an item when `gate`
    opens (a request in flight across the start of the shutdown)."""

    type = "hold"

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.started, self.release = trio.Event(), trio.Event()
        self.entered, self.gate = trio.Event(), trio.Event()
        self.detecting = False

    async def detect(self, ledger: Path) -> list[WorkItem]:
        if not self.detecting:
            return []
        self.entered.set()
        await self.gate.wait()
        return [item("found")]

    async def build_prompt(self, item: WorkItem) -> RunRequest:
        return RunRequest(skip_llm=True)

    async def process_result(self, item: WorkItem, result: RunResult) -> None:
        if item.payload.get("hold"):
            self.started.set()
            await self.release.wait()
        self.ran.append(item.payload["name"])

    def ipc_methods(self) -> Mapping[str, IpcMethod]:
        async def hold_later(params: dict[str, Any]) -> dict[str, Any]:
            assert self.context is not None
            self.entered.set()
            await self.gate.wait()
            return {"queued": self.context.enqueue(item(str(params["name"])))}

        return {"hold_later": hold_later}


def plugins() -> Any:
    return plugins_of([HoldHandler])


@pytest.fixture
def settings(env: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    ledger = env / "ledger"
    ledger.mkdir()
    git(ledger, "init", "-q", "-b", "main")
    (ledger / ".gitignore").write_text(".ox/cache/\n")  # what marks it as an ox ledger
    # The drain lasts until the test releases the item in flight, never a fixed 1 s the
    # test's requests would race against.
    monkeypatch.setattr(daemon_module, "DRAIN_DEADLINE", 60.0)
    return load_settings(ledger=ledger, agent_work={"max_concurrent": 1})


async def answer(settings: Settings, method: str, params: dict[str, Any] | None = None) -> Any:
    """`("ok", result)` or `("error", code)`: what the daemon answered `method`."""
    try:
        result = await trio.to_thread.run_sync(call, settings.socket_path(), method, params)
    except IpcError as exc:
        return ("error", exc.code)
    return ("ok", result)


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[tuple[Daemon, HoldHandler]]:
    """A daemon that handles its signals; the block ends once it has stopped."""
    async with trio.open_nursery() as nursery:
        daemon: Daemon = await nursery.start(
            lambda task_status: serve(settings, plugins=plugins(), task_status=task_status)
        )
        handler = next(h for h in daemon.handlers if isinstance(h, HoldHandler))
        yield daemon, handler


async def sigterm(daemon: Daemon) -> None:
    os.kill(os.getpid(), signal.SIGTERM)  # the daemon's signal receiver takes it
    with trio.fail_after(30):
        while not daemon.stopping:
            await trio.sleep(0.01)


async def test_work_asked_for_during_the_drain_is_refused_not_promised(
    settings: Settings,
) -> None:
    """SIGTERM while an item runs: until the drain ends the socket still answers. Every
    request for future work is refused with `shutting_down` (before, `enqueue` answered
    `queued: true` for an item that never ran); `status`, `ping` and `shutdown` answer."""
    late = {"type": "hold", "payload": {"name": "late"}, "dedup_key": "hold:late"}
    async with running(settings) as (daemon, handler):
        assert (await answer(settings, "enqueue", FIRST))[0] == "ok"
        await handler.started.wait()
        await sigterm(daemon)
        handler.gate.set()  # `hold_later` would queue at once

        replies = {
            "enqueue": await answer(settings, "enqueue", late),
            "force_detect": await answer(settings, "force_detect"),
            "hold_later": await answer(settings, "hold_later", {"name": "late2"}),
        }
        status = await answer(settings, "status")
        ping = await answer(settings, "ping")
        again = await answer(settings, "shutdown")
        handler.release.set()
    assert handler.ran == ["first"]  # the item in flight ended in the drain; nothing else ran
    refused = ("error", ErrorCode.SHUTTING_DOWN)
    assert replies == dict.fromkeys(replies, refused)
    assert status[0] == "ok"
    assert status[1]["daemon"]["stopping"] is True
    assert ping == ("ok", {"pid": os.getpid()})
    assert again == ("ok", {"stopping": True})
    assert not settings.socket_path().exists()


@pytest.mark.parametrize("method", ["hold_later", "force_detect"])
async def test_a_request_in_flight_when_shutdown_begins_promises_nothing(
    settings: Settings, method: str
) -> None:
    """A request that came before the shutdown and queues work after it began (a handler's
    method, a forced detection) is refused too: what it queued would never run."""
    async with running(settings) as (daemon, handler):
        await answer(settings, "enqueue", FIRST)
        await handler.started.wait()
        handler.detecting = method == "force_detect"
        async with trio.open_nursery() as requests:
            replies: list[Any] = []

            async def ask() -> None:
                params = {"name": "late"} if method == "hold_later" else {}
                replies.append(await answer(settings, method, params))

            requests.start_soon(ask)
            await handler.entered.wait()
            await sigterm(daemon)
            handler.gate.set()
        handler.release.set()
    assert replies == [("error", ErrorCode.SHUTTING_DOWN)]
    assert handler.ran == ["first"]


async def test_what_is_queued_at_shutdown_is_not_dropped_silently(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """An item accepted before the shutdown but not started (the one slot is busy) is not
    run: the drain starts nothing new. The log names it, once, at exit."""
    caplog.set_level(logging.INFO, logger="ox_core")
    async with running(settings) as (daemon, handler):
        await answer(settings, "enqueue", FIRST)
        await handler.started.wait()
        waiting = await answer(
            settings, "enqueue", {"type": "hold", "payload": {"name": "second"}, "dedup_key": "k2"}
        )
        assert waiting[0] == "ok"
        assert waiting[1]["queued"] is True
        await sigterm(daemon)
        handler.release.set()
    assert handler.ran == ["first"]
    dropped = [r.getMessage() for r in caplog.records if "not run" in r.getMessage()]
    assert dropped == [
        "shutdown: 1 item(s) queued, not run: hold k2; the next start detects again what "
        "the ledger holds"
    ]


def hostile_clients(path: Path) -> list[socket.socket]:
    """Connections that hold a server task each: one silent, one half a request, one that
    sent a whole request and never reads (its reply is queued in the kernel)."""
    clients = []
    for data in (b"", b'{"method": "sta', json.dumps({"method": "ping"}).encode() + b"\n"):
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(str(path))
        if data:
            client.sendall(data)
        clients.append(client)
    return clients


async def test_silent_and_half_sent_clients_do_not_hold_the_shutdown(settings: Settings) -> None:
    """Clients that connect before or during the drain and never finish a request: the
    daemon still stops within the bound (far below the 10 s idle and request timeouts), and
    each such connection is closed, never left hanging."""
    path = settings.socket_path()
    began = 0.0
    async with running(settings) as (daemon, handler):
        await answer(settings, "enqueue", FIRST)
        await handler.started.wait()
        before = hostile_clients(path)
        await trio.to_thread.run_sync(lambda: call(path, "ping"))  # all of them admitted
        began = trio.current_time()
        await sigterm(daemon)
        during = hostile_clients(path)
        await trio.to_thread.run_sync(lambda: call(path, "ping"))
        handler.release.set()
    took = trio.current_time() - began
    assert took < STOP_BOUND
    for client in before + during:
        client.settimeout(10)
        rest = b""
        while chunk := client.recv(65536):  # EOF, not a hang: the daemon closed it
            rest += chunk
        client.close()
        assert rest.count(b"\n") <= 1  # at most the ping's reply
    assert not path.exists()
