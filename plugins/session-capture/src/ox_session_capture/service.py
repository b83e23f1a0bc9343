"""The session watcher as a daemon service, and its IPC methods.

`SessionWatchService.serve` runs the `SessionWatcherManager` in the daemon's nursery, restarts
the watches of live tail recordings at start and, every `doctor_interval`, stops dead ones
and restarts missing ones; every `liveness_interval` it stops the recordings whose agent
process died (so they are finalized within seconds, not after the staleness grace).
`ipc_methods()` serves `session_watch_start` (start recording an agent's session file: tail
mode), `session_watch_stop` (stop it, close the raw file with its footer, then call
`on_stop(name)` so the session is finalized soon) and `session_hook` (an agent's hook: start,
continue or stop the recording of one agent session, see `identity`).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any, Literal

import trio
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ox_core.contracts import IpcMethod
from ox_core.errors import OxError
from ox_core.ipc import peer_pid
from ox_core.proc import pid_here, pid_max, read_stat, same_pid_namespace
from ox_session_capture.confined import SessionName
from ox_session_capture.identity import live_part
from ox_session_capture.liveness import agent_alive, agent_pid, agent_process
from ox_session_capture.parts import begin_part
from ox_session_capture.recording import (
    PartOf,
    Recording,
    RecordingRejected,
    StopResult,
    catch_up_before_stop,
    create_recording,
    creation_lock_of,
    finish_stop,
    stop_recording,
)
from ox_session_capture.records import (
    MARKER,
    RecordError,
    RecordingMarker,
    canonical_adapter,
    ledger_cache_sessions,
    read_model,
)
from ox_session_capture.redact import make_redactor
from ox_session_capture.watcher import DEFAULT_POLL_INTERVAL, SessionWatcherManager

log = logging.getLogger(__name__)

DOCTOR_INTERVAL = 60.0
LIVENESS_INTERVAL = 5.0
"""Seconds between two checks that the agents of live recordings still run."""

OnStop = Callable[[str], Awaitable[Any]]


PID_MAX = pid_max()


def _absolute_file(value: str) -> str:
    if "\x00" in value:
        raise ValueError("holds a NUL byte")
    if not value.startswith("/"):
        raise ValueError(f"must be an absolute path, got {value!r}")
    return value


class WatchStartParams(BaseModel):
    """`session_watch_start` params: the adapter name, the agent's session file (absolute),
    and the agent's PID (its `parent_pid`, counted in the caller's pid namespace; 0 or absent
    when unknown). The file's type and place are checked by `check_source` (a regular file
    under the adapter's folders)."""

    model_config = ConfigDict(extra="forbid")

    adapter: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    file: str = Field(min_length=1, max_length=4096)
    pid: int | None = Field(default=None, ge=0, le=PID_MAX)
    from_start: bool = False

    _file = field_validator("file")(lambda value: _absolute_file(value))


class HookParams(BaseModel):
    """`session_hook` params: the adapter, `start` or `end`, the agent's own session id, its
    session file (absolute; it may not exist yet), the hook's parent pid (the agent, or a
    shell the agent ran the hook through) and whether the agent resumed the session."""

    model_config = ConfigDict(extra="forbid", strict=True)

    adapter: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    event: Literal["start", "end"]
    agent_session_id: str = Field(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")
    file: str = Field(min_length=1, max_length=4096)
    pid: int = Field(default=0, ge=0, le=PID_MAX)
    resumed: bool = False

    _file = field_validator("file")(lambda value: _absolute_file(value))
    # The parts of an agent session are found under its adapter's own name (the markers and
    # the index hold it): a hook naming an alias (`claude`) would find none to end or resume.
    _adapter = field_validator("adapter")(lambda value: canonical_adapter(value))


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
        liveness_interval: float = LIVENESS_INTERVAL,
    ) -> None:
        self.ledger = ledger
        self.on_stop = on_stop
        self.home = home
        self.doctor_interval = doctor_interval
        self.liveness_interval = liveness_interval
        # Per agent session (adapter, its session id): its start and end never interleave,
        # and another session's hooks never wait for them (`_session_lock`).
        self._hook_locks: dict[SessionKey, _HookLock] = {}
        self.manager = SessionWatcherManager(ledger, poll_interval=poll_interval, home=home)
        # Per recording folder: the marker file's identity, and its live agent (pid, start
        # time) or None (stopped). The liveness check parses a marker only when it changed:
        # live steps commit to the slot file, not the marker.
        self._liveness: dict[str, tuple[MarkerIdent, Agent | None]] = {}

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
            nursery.start_soon(_every, self.liveness_interval, self.stop_dead, "liveness check")
            task_status.started()
            await _every(self.doctor_interval, self.tick, "doctor tick")

    async def stop_dead(self) -> list[str]:
        """Stop (and so queue for finalization) every live recording whose agent process
        died. Returns their names."""
        cache = ledger_cache_sessions(self.ledger)
        known = self._liveness

        def dead() -> list[str]:
            found: list[str] = []
            try:
                folders = sorted(cache.iterdir())
            except OSError:
                return found
            seen = set()
            for folder in folders:
                seen.add(folder.name)
                agent = _agent_of(folder, known)
                if agent is not None and agent[0] > 0 and not agent_alive(*agent):
                    found.append(folder.name)
            for name in set(known) - seen:
                del known[name]
            return found

        def still_dead(name: str) -> bool:
            agent = _agent_of(cache / name, known)
            return agent is not None and agent[0] > 0 and not agent_alive(*agent)

        stopped = []
        for name in await trio.to_thread.run_sync(dead):
            key = await trio.to_thread.run_sync(_session_key, cache / name)
            if key is None:  # stopped meanwhile, or no marker to say whose it is
                continue
            # Decided and stopped under its agent session's hook lock, with the agent checked
            # again: a hook may have given the recording to the agent's resumed process since
            # the check (its start continues the live part), and that process's lines must
            # be recorded.
            async with self._session_lock(key):
                if not await trio.to_thread.run_sync(still_dead, name):
                    continue
                log.info("recording %s: its agent process died; stopping it", name)
                try:
                    if await self._stop_if(name, partial(still_dead, name)) is None:
                        log.info("recording %s: resumed or stopped meanwhile; not stopped", name)
                    else:
                        stopped.append(name)
                except OxError as exc:
                    log.error("recording %s: cannot stop it: %s", name, exc)
        return stopped

    async def tick(self) -> None:
        """One doctor tick: stop watches of ended recordings, restart missing live ones."""
        await self.manager.cleanup()
        await self.manager.detect_and_restart()

    def ipc_methods(self) -> Mapping[str, IpcMethod]:
        return {
            "session_watch_start": self.session_watch_start,
            "session_watch_stop": self.session_watch_stop,
            "session_hook": self.session_hook,
            "session_stopped": self.session_stopped,
        }

    async def session_watch_start(self, params: dict[str, Any]) -> dict[str, Any]:
        """`{adapter, file, pid?}` → create the recording (or find the live one of that file)
        and start watching it → `{name, session_dir}`. Raises `RecordingRejected` (an
        `OxError`) with the reason; a refused request leaves nothing behind."""
        p: WatchStartParams = _params(WatchStartParams, params)
        recording = await trio.to_thread.run_sync(
            lambda: create_recording(
                self.ledger,
                p.adapter,
                p.file,
                pid=caller_pid(p.pid or 0),
                home=self.home,
                part=PartOf(0 if p.from_start else None),
            )
        )
        return await self._watch(recording, p.file, p.adapter)

    async def _watch(self, recording: Recording, file: str, adapter: str) -> dict[str, Any]:
        result = {
            "name": recording.name,
            "session_dir": str(recording.session_dir),
            "start_offset": recording.start_offset,
            "continued": recording.continued,
            "watching": False,
        }
        if not self.manager.running:
            # Called in-process while no daemon runs: the recording is on disk with its start
            # offset, and the next daemon resumes it (`detect_and_restart`) from there, so
            # nothing the agent writes from now on is lost.
            return result
        # The file the recording follows, not the one the request named: a resumed part
        # follows the file its session was recorded from (`identity.next_part`).
        file = await trio.to_thread.run_sync(_followed_file, recording.session_dir, file)
        try:
            await self.manager.start_watch(recording.name, file, adapter)
        except OxError:
            if not recording.continued:  # made by this request: a refused request leaves nothing
                shutil.rmtree(recording.session_dir, ignore_errors=True)
            raise
        return {**result, "watching": True}

    async def session_hook(self, params: dict[str, Any]) -> dict[str, Any]:
        """An agent's hook. `start`: continue the live recording of the agent session, or
        start a new part of it (see `identity.next_part`) and watch it → the
        `session_watch_start` reply. `end`: stop the live part (finalization is queued) →
        `{name, entry_count}`, `{name: None}` when nothing records it for this process (a
        part that another, running process of the session continued is left to it). The
        agent's pid is the hook's parent, or the first ancestor that is not a shell."""
        p: HookParams = _params(HookParams, params)
        async with self._session_lock((p.adapter, p.agent_session_id)):
            if p.event == "end":
                name = await trio.to_thread.run_sync(
                    live_part, self.ledger, p.adapter, p.agent_session_id
                )
                if name is None:
                    return {"name": None}
                if p.pid > 0:
                    # Another process of the agent session may have resumed it since this one
                    # started (its start hook continued the part, which follows it now): this
                    # process's end is not that one's, whose lines would go unrecorded.
                    folder = ledger_cache_sessions(self.ledger) / name
                    ours = hook_agent(p.pid)
                    if await trio.to_thread.run_sync(_followed_by_another, folder, *ours):
                        return {"name": None}
                    ended = await self._stop_if(
                        name, lambda: not _followed_by_another(folder, *ours)
                    )
                    return {"name": None} if ended is None else ended
                return await self.session_watch_stop({"name": name})
            return await self._hook_start(p)

    @asynccontextmanager
    async def _session_lock(self, key: SessionKey) -> AsyncIterator[None]:
        """Hold the hook lock of agent session `key`. Its entry goes once no task holds or
        waits for it (a waiter cancelled too), so the table holds only sessions in a hook."""
        entry = self._hook_locks.get(key)
        if entry is None:
            entry = self._hook_locks[key] = _HookLock()
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._hook_locks[key]

    async def _hook_start(self, p: HookParams) -> dict[str, Any]:
        pid, start = hook_agent(p.pid)

        recording = await trio.to_thread.run_sync(
            lambda: begin_part(
                self.ledger,
                p.adapter,
                p.agent_session_id,
                p.file,
                pid=pid,
                start=start,
                resumed=p.resumed,
                home=self.home,
            )
        )
        return await self._watch(recording, p.file, p.adapter)

    async def session_stopped(self, params: dict[str, Any]) -> dict[str, Any]:
        """`{name}` of a recording another process stopped (a hook or `session stop` that did
        it without the daemon, which was busy or starting): stop watching it and call
        `on_stop` (finalization is queued now, not at the next periodic detection) →
        `{name}`. A recording that is not there, or still live (its marker there), is
        refused: this never stops one."""
        p: WatchStopParams = _params(WatchStopParams, params)
        folder = ledger_cache_sessions(self.ledger) / p.name
        if not await trio.to_thread.run_sync(os.path.isdir, folder):
            raise OxError(f"no recording {p.name}", code="not_found")
        if await trio.to_thread.run_sync(os.path.lexists, folder / MARKER):
            raise OxError(f"recording {p.name} is still live: session_watch_stop stops it")
        await self.manager.stop_watch(p.name)
        if self.on_stop is not None:
            await self.on_stop(p.name)
        return {"name": p.name}

    async def _stop_if(self, name: str, still: Callable[[], bool]) -> dict[str, Any] | None:
        """`session_watch_stop` of a stop the daemon decided (the agent died; the end hook of
        the process the part follows), with `still` (blocking) checked again under the
        ledger's creation lock. A start hook that ran in its own process (the daemon busy or
        starting) takes that lock, not the session's hook lock: since the first check (and
        while the stop waited for the watch's step in progress, or caught up) it may have
        given the part to the agent's resumed process, whose lines the stop would leave to
        nothing. Then the part is watched again and kept (None)."""
        session_dir = ledger_cache_sessions(self.ledger) / name
        await self.manager.stop_watch(name)
        redact = make_redactor(self.ledger)
        early = await trio.to_thread.run_sync(
            partial(catch_up_before_stop, session_dir, redact, self.home)
        )

        def stop() -> StopResult | None:
            with creation_lock_of(session_dir):
                return finish_stop(session_dir, redact, early) if still() else None

        result = await trio.to_thread.run_sync(stop)
        if result is None:
            if self.manager.running:
                await self.manager.detect_and_restart()
            return None
        if self.on_stop is not None:
            await self.on_stop(name)
        return {"name": result.name, "entry_count": result.entry_count}

    async def session_watch_stop(self, params: dict[str, Any]) -> dict[str, Any]:
        """`{name}` → stop the watch, drain what is in the file, write the footer, remove the
        marker, call `on_stop` (finalization is queued) → `{name, entry_count}`."""
        p: WatchStopParams = _params(WatchStopParams, params)
        name = p.name
        session_dir = ledger_cache_sessions(self.ledger) / name
        await self.manager.stop_watch(name)
        redact = make_redactor(self.ledger)
        result = await trio.to_thread.run_sync(
            lambda: stop_recording(session_dir, redact=redact, home=self.home)
        )
        if self.on_stop is not None:
            await self.on_stop(name)
        return {"name": result.name, "entry_count": result.entry_count}


MarkerIdent = tuple[int, int, int]
Agent = tuple[int, object]
SessionKey = tuple[str, str]
"""An agent session: (adapter, the agent's own session id)."""


class _HookLock:
    """The hook lock of one agent session, and how many tasks hold or wait for it."""

    def __init__(self) -> None:
        self.lock = trio.Lock()
        self.users = 0


def _session_key(folder: Path) -> SessionKey | None:
    """The agent session the live recording in `folder` is a part of; None when it has no
    readable marker (stopped, gone)."""
    try:
        marker = read_model(folder / MARKER, RecordingMarker)
    except (FileNotFoundError, NotADirectoryError, RecordError, OSError):
        return None
    return marker.adapter_name, marker.agent_session_id


def _followed_file(session_dir: Path, named: str) -> str:
    """The session file the recording in `session_dir` follows (its marker's); `named` when
    the marker cannot say (`start_watch` then refuses the recording itself)."""
    try:
        return read_model(session_dir / MARKER, RecordingMarker).session_file or named
    except (FileNotFoundError, NotADirectoryError, RecordError, OSError):
        return named


def hook_agent(claimed: int) -> tuple[int, int | None]:
    """(pid, start time) of the agent that ran the hook whose request is served now
    (`agent_process`); (0, None) when no process here can be named. The hook gives its
    parent's pid (`claimed`), counted in its own pid namespace; the kernel says which process
    the hook is, counted in the daemon's (`peer_pid`). A hook in the daemon's namespace is
    taken at its word: its parent when it started, the agent even if the hook outlived it. A
    hook in another one (an agent in a sandbox or a container that shares this home) is
    followed from the hook's process as seen from here: its number there names another
    process here, or none. A hook the daemon cannot see, or whose namespace cannot be told,
    names none: its recording ends by the agent's end hook, or goes stale."""
    peer = peer_pid()
    if peer is None:  # called in-process, not through the socket: the caller's word
        return agent_process(claimed) if claimed > 0 else (0, None)
    same = same_pid_namespace(peer) if peer > 0 else None
    if same is None:
        return 0, None
    if same:
        return agent_process(claimed) if claimed > 0 else (0, None)
    stat = read_stat(peer)
    if stat is None or stat.ppid <= 0:  # gone, or its parent is not in this namespace's view
        return 0, None
    return agent_process(stat.ppid)


def caller_pid(claimed: int) -> int:
    """`claimed`, a pid the request being served gives (counted in its sender's pid
    namespace), as this daemon counts pids (`pid_here`): 0 when no process here is that one,
    or the sender is one the daemon cannot see (`peer_pid` 0)."""
    peer = peer_pid()
    if peer is None:  # called in-process, not through the socket: the caller's word
        return claimed
    return pid_here(claimed, peer) if peer > 0 else 0


def _followed_by_another(folder: Path, pid: int, start: int | None) -> bool:
    """Whether the live recording in `folder` follows an agent process other than `pid`
    (started at `start`, when known), one that still runs. An unreadable marker, or one
    without a pid, follows no other process."""
    try:
        marker = read_model(folder / MARKER, RecordingMarker)
    except (FileNotFoundError, NotADirectoryError, RecordError, OSError):
        return False
    theirs, their_start = agent_pid(marker), (marker.model_extra or {}).get("parent_start")
    if theirs <= 0:
        return False
    same_start = start is None or not isinstance(their_start, int) or their_start == start
    if theirs == pid and same_start:
        return False
    return agent_alive(theirs, their_start)


def _agent_of(folder: Path, known: dict[str, tuple[MarkerIdent, Agent | None]]) -> Agent | None:
    """The live agent `(pid, start)` of the recording in `folder`, None when it has none
    (stopped, no marker, unreadable)."""
    try:
        st = os.lstat(folder / MARKER)
    except OSError:
        known.pop(folder.name, None)
        return None
    ident = (st.st_ino, st.st_size, st.st_mtime_ns)
    cached = known.get(folder.name)
    if cached is not None and cached[0] == ident:
        return cached[1]
    try:
        marker = read_model(folder / MARKER, RecordingMarker)
    except (FileNotFoundError, NotADirectoryError, RecordError, OSError):
        known.pop(folder.name, None)
        return None
    start = (marker.model_extra or {}).get("parent_start")
    agent = (agent_pid(marker), start) if marker.stopped_at is None else None
    known[folder.name] = (ident, agent)
    return agent


async def _every(interval: float, check: Callable[[], Awaitable[object]], what: str) -> None:
    """Run `check` every `interval` seconds, for ever: one that fails is logged and the next
    runs as usual (one bad recording must never stop capture for every other session)."""
    while True:
        await trio.sleep(interval)
        try:
            await check()
        except Exception:
            log.exception("session watcher: %s failed; the next one runs as usual", what)
