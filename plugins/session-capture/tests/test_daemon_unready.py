"""A daemon that cannot take a recording's start or end now (still starting, shutting down,
busy): `ox-core session start|stop` then do it in their own process, as the agent hook does,
and an end done there still has its finalization queued at once when the daemon is up.

Real parts: the `ox-core` CLI and hook as subprocesses, the daemon's IPC server on a real Unix
socket (in the state the daemon's is in), and a real daemon (`serve`) with session capture.
"""

# The daemon's counters are polled while a subprocess runs: the polling rule is for
# production code.
# ruff: noqa: ASYNC110

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio

from ox_core import RunRequest, RunResult, WorkHandler, WorkItem
from ox_core.contracts import IpcMethod
from ox_core.daemon import READ_ONLY_METHODS, Daemon, serve
from ox_core.errors import OxError
from ox_core.ipc import IpcServer, call
from ox_core.settings import load_settings
from ox_core.testing import make_ledger, plugins_of
from ox_session_capture.events import RECORDING_STOPPED
from ox_session_capture.handler import SessionCaptureHandler
from ox_session_capture.records import MARKER, RAW, ledger_cache_sessions, read_marker
from ox_session_capture.testing import append, claude_session_file, claude_text, numbered_user

SESSION_ID = "f04c7045-b614-40b5-816d-7256c84b37f6"
WHY = {
    "starting": "the daemon is still starting",
    "shutting_down": "the daemon is shutting down",
    "busy": "the daemon is busy",
}


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    return make_ledger(tmp_path / "repo").path


@pytest.fixture
def socket_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The daemon's socket, in a private runtime dir short enough for a socket path; no
    `OX_*`/`XDG_*` setting of the caller's leaks in."""
    for key in list(os.environ):
        if key.startswith(("OX_", "XDG_")):
            monkeypatch.delenv(key)
    with tempfile.TemporaryDirectory(prefix="oxu") as runtime:
        monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
        yield Path(runtime) / "sock" / "daemon.sock"


def ox(home: Path, ledger: Path, socket: Path, *argv: str, stdin: bytes = b"") -> Any:
    """`ox-core <argv>` as a subprocess of the user whose HOME is `home`."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
    environ.update(HOME=str(home), OX_LEDGER=str(ledger), OX_SOCKET=str(socket),
                   XDG_RUNTIME_DIR=str(socket.parent.parent))  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "ox_core.cli", *argv],
        input=stdin, env=environ, capture_output=True, timeout=60,
    )  # fmt: skip


def hooks_log(home: Path) -> list[str]:
    log = home / ".local" / "state" / "ox" / "hooks.log"
    return log.read_text().splitlines() if log.exists() else []


@asynccontextmanager
async def refusing(code: str, path: Path, methods: Mapping[str, IpcMethod]) -> AsyncIterator[None]:
    """The daemon's IPC server on `path`, in the state that answers `code` to a capture
    request: its plugins not attached yet (`starting`), stopping (`shutting_down`), or as
    many requests in flight as it serves at once (`busy`: here one, held by the test)."""
    entered, release, released = trio.Event(), trio.Event(), trio.Event()

    async def hold(params: dict[str, Any]) -> dict[str, Any]:
        entered.set()
        await release.wait()
        return {}

    async def busy() -> None:  # the one request the server serves at once
        await trio.to_thread.run_sync(lambda: call(path, "hold", timeout=120))
        released.set()

    if code == "starting":  # the plugins' methods are not known yet
        server = IpcServer({}, starting=lambda: True)
    elif code == "shutting_down":
        server = IpcServer(methods, stopping=lambda: True, read_only=READ_ONLY_METHODS)
    else:
        server = IpcServer({**methods, "hold": hold}, max_total=1)
    async with trio.open_nursery() as nursery:
        await nursery.start(server.serve, path)
        if code == "busy":
            nursery.start_soon(busy)
            await entered.wait()
        else:
            released.set()
        yield
        release.set()
        await released.wait()
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize("code", sorted(WHY))
async def test_session_start_and_stop_are_done_here_when_the_daemon_cannot_take_them(
    ledger: Path, home: Path, socket_path: Path, code: str
) -> None:
    """`session start` and `session stop` while the daemon refuses them with `code`: a
    session the user asked to record is recorded (and stopped) by the command itself, as
    when no daemon runs, instead of an error and exit 1."""
    asked: list[str] = []

    def method(name: str) -> IpcMethod:
        async def refused_before(params: dict[str, Any]) -> Any:
            asked.append(name)  # the server must refuse before any method runs
            raise OxError("unreachable")

        return refused_before

    methods = {
        m: method(m) for m in ("session_watch_start", "session_watch_stop", "session_stopped")
    }
    async with refusing(code, socket_path, methods):
        await record_and_stop(home, ledger, socket_path, code)
    assert asked == []


def said(code: str, out: str) -> bool:
    """Whether `out` gives the daemon's refusal as the reason it was done here (a `busy` line
    sent as the connection is accepted and closed at once included: the client reads it even
    when its request then meets a broken pipe)."""
    return WHY[code] in out


async def record_and_stop(home: Path, ledger: Path, socket_path: Path, code: str) -> None:
    """`session start` on a claude-code file, a line written, `session stop`: both done here,
    saying why, and the recording holds what was written after the start."""
    src = claude_session_file(home)
    append(src, numbered_user(0))

    def run(*argv: str) -> Any:
        return trio.to_thread.run_sync(lambda: ox(home, ledger, socket_path, *argv))

    started = await run("session", "start", "--adapter", "claude-code", "--file", str(src))
    assert started.returncode == 0, started.stderr
    out = started.stdout.decode()
    assert said(code, out), out
    match = re.match(r"recording (\S+) created for ", out)
    assert match, out
    folder = ledger_cache_sessions(ledger) / match[1]
    assert read_marker(folder).session_file == str(src)
    append(src, numbered_user(1) + claude_text("a1", "written after the start"))
    stopped = await run("session", "stop", match[1])
    assert stopped.returncode == 0, stopped.stderr
    assert f"recording {match[1]} stopped with 2 entries" in stopped.stdout.decode()
    assert said(code, stopped.stdout.decode())
    assert not (folder / MARKER).exists()
    raw = (folder / RAW).read_text()
    assert "written after the start" in raw
    assert "message 0" not in raw  # what the file held before the start is not captured


# ------------------------------------------------------------------ a real daemon


class Finalizer(WorkHandler):
    """What a finalizer does, in little: an item per stopped recording of the ledger cache,
    from its detection or at once from `session.recording-stopped`; `done` lists the names
    of the items it ran."""

    type = "finalize-test"

    def __init__(self) -> None:
        self.done: list[str] = []
        self.detections = 0

    def _item(self, name: str) -> WorkItem:
        return WorkItem(type=self.type, dedup_key=f"{self.type}:{name}", payload={"name": name})

    async def detect(self, ledger: Path) -> list[WorkItem]:
        self.detections += 1
        cache = ledger_cache_sessions(ledger)
        folders = sorted(cache.iterdir()) if cache.is_dir() else []
        return [self._item(f.name) for f in folders if not (f / MARKER).exists()]

    async def on_event(self, event: str, data: Mapping[str, Any]) -> None:
        if event == RECORDING_STOPPED and self.context is not None:
            self.context.enqueue(self._item(str(data["name"])))

    async def build_prompt(self, item: WorkItem) -> RunRequest:
        return RunRequest(skip_llm=True)

    async def process_result(self, item: WorkItem, result: RunResult) -> None:
        self.done.append(item.payload["name"])


def plugins() -> Any:
    return plugins_of([SessionCaptureHandler, Finalizer])


@asynccontextmanager
async def running(ledger: Path, socket: Path) -> AsyncIterator[tuple[Daemon, Finalizer]]:
    """A real daemon on `ledger` (detection every 300 s, the default), once its first
    detection ran; stopped when the block ends."""
    settings = load_settings(ledger=ledger, socket=socket)
    async with trio.open_nursery() as nursery:
        daemon: Daemon = await nursery.start(
            lambda task_status: serve(
                settings, plugins=plugins(), handle_signals=False, task_status=task_status
            )
        )
        finalizer = next(h for h in daemon.handlers if isinstance(h, Finalizer))
        with trio.fail_after(60):
            while not finalizer.detections:
                await trio.sleep(0.01)
        yield daemon, finalizer
        daemon.stop()


@pytest.mark.parametrize("code", ["busy", "starting"])
async def test_an_end_done_by_the_hook_is_finalized_at_once(
    ledger: Path, home: Path, socket_path: Path, code: str
) -> None:
    """The daemon is up but cannot take a session's end hook now (`busy`; or `starting`,
    then up by the time the hook stopped the recording in its own process, after the
    daemon's first detection). The hook then tells the daemon (`session_stopped`): the
    session is queued for finalization in seconds, by the stop as when the daemon stops one
    itself, not at the next periodic detection (300 s)."""
    src = claude_session_file(home)
    hook_input = json.dumps({"session_id": SESSION_ID, "transcript_path": str(src)}).encode()

    def hook(event: str) -> Any:
        argv = ("hook", "claude-code", event)
        return trio.to_thread.run_sync(
            lambda: ox(home, ledger, socket_path, *argv, stdin=hook_input)
        )

    async with running(ledger, socket_path) as (daemon, finalizer):
        assert (await hook("SessionStart")).returncode == 0
        (folder,) = ledger_cache_sessions(ledger).iterdir()
        assert (folder / MARKER).exists()  # recorded by the daemon
        append(src, numbered_user(0) + claude_text("a0", "the answer"))
        served = daemon.methods["session_hook"]
        refused: list[dict[str, Any]] = []

        async def session_hook(params: dict[str, Any]) -> Any:
            if params.get("event") == "end" and not refused:
                refused.append(params)
                raise OxError("not now", code=code)
            return await served(params)

        daemon.methods["session_hook"] = session_hook
        before = finalizer.detections
        ended = await hook("SessionEnd")
        assert ended.returncode == 0
        # The refusal was answered (a call that waited out its timeout notes it in
        # hooks.log, asserted empty below), and the hook stopped the recording itself.
        assert len(refused) == 1
        assert not (folder / MARKER).exists()  # stopped by the hook itself
        assert "the answer" in (folder / RAW).read_text()
        with trio.fail_after(60):  # far below the 300 s of the periodic detection
            while folder.name not in finalizer.done:
                await trio.sleep(0.01)
        assert finalizer.detections == before  # queued by the stop, no detection
    assert hooks_log(home) == []


async def test_session_stopped_never_stops_a_live_recording_nor_invents_one(
    ledger: Path, home: Path
) -> None:
    """`session_stopped` is a notice, from any local client: it refuses a recording that is
    still live (only `session_watch_stop` stops one) and a name with no recording."""
    from ox_session_capture.recording import create_recording
    from ox_session_capture.service import SessionWatchService

    src = claude_session_file(home)
    rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home)
    stopped: list[str] = []

    async def on_stop(name: str) -> None:
        stopped.append(name)

    method = SessionWatchService(ledger, on_stop=on_stop, home=home).ipc_methods()
    with pytest.raises(OxError, match="still live"):
        await method["session_stopped"]({"name": rec.name})
    with pytest.raises(OxError, match="no recording"):
        await method["session_stopped"]({"name": "2026-12-02T00-00-nobody"})
    with pytest.raises(OxError):
        await method["session_stopped"]({"name": "../escape"})
    assert (rec.session_dir / MARKER).exists()
    assert stopped == []
