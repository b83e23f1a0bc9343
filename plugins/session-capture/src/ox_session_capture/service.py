"""The session watcher as a daemon service, and its IPC methods.

`SessionWatchService.serve` runs the `SessionWatcherManager` in the daemon's nursery, restarts
the watches of live tail recordings at start and, every `doctor_interval`, stops dead ones
and restarts missing ones. `ipc_methods()` serves `session_watch_start` (start recording an
agent's session file: tail mode) and `session_watch_stop` (stop it, close the raw file with
its footer, then call `on_stop(name)` so the session is finalized soon).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import trio
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ox_core.contracts import IpcMethod
from ox_core.errors import OxError
from ox_core.proc import pid_max
from ox_session_capture.confined import SessionName
from ox_session_capture.recording import (
    RecordingRejected,
    create_recording,
    stop_recording,
)
from ox_session_capture.records import ledger_cache_sessions
from ox_session_capture.redact import make_redactor
from ox_session_capture.watcher import DEFAULT_POLL_INTERVAL, SessionWatcherManager

log = logging.getLogger(__name__)

DOCTOR_INTERVAL = 60.0

OnStop = Callable[[str], Awaitable[Any]]


PID_MAX = pid_max()


class WatchStartParams(BaseModel):
    """`session_watch_start` params: the adapter name, the agent's session file (absolute),
    and the agent's PID (its `parent_pid`; 0 or absent when unknown). The file's type and
    place are checked by `check_source` (a regular file under the adapter's folders)."""

    model_config = ConfigDict(extra="forbid")

    adapter: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    file: str = Field(min_length=1, max_length=4096)
    pid: int | None = Field(default=None, ge=0, le=PID_MAX)

    @field_validator("file")
    @classmethod
    def _file(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("holds a NUL byte")
        if not value.startswith("/"):
            raise ValueError(f"must be an absolute path, got {value!r}")
        return value


class WatchStopParams(BaseModel):
    """`session_watch_stop` params: the recording's name (one session folder name)."""

    model_config = ConfigDict(extra="forbid")

    name: SessionName


def _params(model: type[BaseModel], params: dict[str, Any]) -> Any:
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "params"
        msg = str(first["msg"]).removeprefix("Value error, ")
        raise RecordingRejected(f"invalid params: {where}: {msg}") from None


class SessionWatchService:
    """The session watcher of one ledger, as a daemon service.

    `on_stop(name)` is awaited after a recording is stopped (the capture handler publishes
    the event that queues its finalization). `home` overrides `$HOME` for the adapters' roots.
    """

    def __init__(
        self,
        ledger: Path,
        *,
        on_stop: OnStop | None = None,
        home: Path | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        doctor_interval: float = DOCTOR_INTERVAL,
    ) -> None:
        self.ledger = ledger
        self.on_stop = on_stop
        self.home = home
        self.doctor_interval = doctor_interval
        self.manager = SessionWatcherManager(ledger, poll_interval=poll_interval, home=home)

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run until cancelled: the manager, the restart of live recordings, the doctor tick.

        Cancellation stops every watch; recordings stay on disk as they are, to be resumed
        from their persisted offsets by the next daemon.
        """
        async with trio.open_nursery() as nursery:
            await nursery.start(self.manager.run)
            restarted = await self.manager.detect_and_restart()
            if restarted:
                log.info("session watcher: resumed %s", ", ".join(restarted))
            task_status.started()
            while True:
                await trio.sleep(self.doctor_interval)
                try:
                    await self.tick()
                except Exception:
                    # One bad recording must never stop capture for every other session.
                    log.exception("session watcher: doctor tick failed; next tick as usual")

    async def tick(self) -> None:
        """One doctor tick: stop watches of ended recordings, restart missing live ones."""
        await self.manager.cleanup()
        await self.manager.detect_and_restart()

    def ipc_methods(self) -> Mapping[str, IpcMethod]:
        return {
            "session_watch_start": self.session_watch_start,
            "session_watch_stop": self.session_watch_stop,
        }

    async def session_watch_start(self, params: dict[str, Any]) -> dict[str, Any]:
        """`{adapter, file, pid?}` → create the recording (or find the live one of that file)
        and start watching it → `{name, session_dir}`. Raises `RecordingRejected` (an
        `OxError`) with the reason; a refused request leaves nothing behind."""
        p: WatchStartParams = _params(WatchStartParams, params)
        cache = ledger_cache_sessions(self.ledger)
        existed = set(cache.iterdir()) if cache.is_dir() else set()
        recording = await trio.to_thread.run_sync(
            lambda: create_recording(self.ledger, p.adapter, p.file, pid=p.pid or 0, home=self.home)
        )
        if not self.manager.running:
            # Called in-process while no daemon runs: the recording is on disk with its start
            # offset, and the next daemon resumes it (`detect_and_restart`) from there, so
            # nothing the agent writes from now on is lost.
            return {
                "name": recording.name,
                "session_dir": str(recording.session_dir),
                "watching": False,
            }
        try:
            await self.manager.start_watch(recording.name, p.file, p.adapter)
        except OxError:
            if recording.session_dir not in existed:
                shutil.rmtree(recording.session_dir, ignore_errors=True)
            raise
        return {"name": recording.name, "session_dir": str(recording.session_dir), "watching": True}

    async def session_watch_stop(self, params: dict[str, Any]) -> dict[str, Any]:
        """`{name}` → stop the watch, drain what is in the file, write the footer, remove the
        marker, call `on_stop` (finalization is queued) → `{name, entry_count}`."""
        p: WatchStopParams = _params(WatchStopParams, params)
        name = p.name
        session_dir = ledger_cache_sessions(self.ledger) / name
        await self.manager.stop_watch(name)
        redact = make_redactor(self.ledger)
        result = await trio.to_thread.run_sync(lambda: stop_recording(session_dir, redact=redact))
        if self.on_stop is not None:
            await self.on_stop(name)
        return {"name": result.name, "entry_count": result.entry_count}
