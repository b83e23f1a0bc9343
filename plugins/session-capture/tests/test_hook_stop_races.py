"""A stop the daemon has decided (the agent died; the end hook of the process it follows) while
the agent's resumed process runs its start hook in its own process (the daemon busy: it
answers `busy` to a hook while the one request it serves here is in flight). That hook takes
the ledger's creation lock, not the daemon's hooks' lock: it gives the live part to the
resumed process between the daemon's decision and its stop. The stop must then not happen:
the resumed process's lines would be recorded by nothing (its own end hook finds no live
part).

Real parts: the agents are processes that run the real `ox-core hook` as their child, the
daemon's session capture (`SessionWatchService`, its watcher following the file) behind the
daemon's IPC server on a real Unix socket. The window the daemon's stop has between its
decision and the creation lock is held open by a step of its watcher in flight, waiting for
the raw file's lock, which the test holds (the stop waits for that step, as it must).
"""

# Conditions are polled while real processes run: the polling rule is for production code.
# ruff: noqa: ASYNC110

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio

from ox_core.fs import open_lock
from ox_core.ipc import IpcServer, call
from ox_core.testing import make_ledger
from ox_session_capture.records import (
    MARKER,
    RAW,
    RecordingMarker,
    ledger_cache_sessions,
    lock_path,
    read_model,
)
from ox_session_capture.service import SessionWatchService
from ox_session_capture.testing import append, claude_session_file, numbered_user

SID = "f04c7045-b614-40b5-816d-7256c84b37f6"

AGENT = """
import subprocess, sys
# An agent: runs its hook (`ox-core hook claude-code <event>`, the agent's JSON on stdin) for
# each event named on its stdin, says so, and lives until its stdin closes.
for line in sys.stdin:
    event, source = line.split()
    payload = '{"session_id": "%s", "transcript_path": "%s", "source": "%s"}' % (
        sys.argv[1], sys.argv[2], source)
    cmd = [sys.executable, "-m", "ox_core.cli", "hook", "claude-code", event]
    subprocess.run(cmd, input=payload.encode(), timeout=60, check=True)
    print("done", event, flush=True)
"""


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    return make_ledger(tmp_path / "ledger").path


@pytest.fixture
def socket_path() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="oxr") as runtime:
        os.chmod(runtime, 0o700)
        yield Path(runtime) / "sock" / "daemon.sock"


class Agent:
    """An agent process of session `sid` writing `file`; its hooks talk to the daemon at
    `socket` (or do the work in their own process when it cannot take them)."""

    def __init__(self, home: Path, ledger: Path, socket: Path, file: Path, sid: str = SID) -> None:
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
        environ.update(HOME=str(home), OX_LEDGER=str(ledger), OX_SOCKET=str(socket),
                       XDG_RUNTIME_DIR=str(socket.parent.parent))  # fmt: skip
        self.proc = subprocess.Popen(
            [sys.executable, "-c", AGENT, sid, str(file)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=environ, text=True,
        )  # fmt: skip
        self.pid = self.proc.pid
        self.file = file

    async def hook(self, event: str, source: str = "startup") -> None:
        """Run the agent's hook of `event` and wait for it to end."""
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(f"{event} {source}\n")
        self.proc.stdin.flush()
        line = await trio.to_thread.run_sync(self.proc.stdout.readline)
        assert line == f"done {event}\n"

    def exit(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            self.proc.communicate(timeout=60)


@asynccontextmanager
async def daemon(
    svc: SessionWatchService, path: Path, nursery: trio.Nursery
) -> AsyncIterator[trio.Event]:
    """The daemon's IPC server for `svc` on `path`, serving one request at a time; setting the
    event yielded makes it busy from then on (a request held in flight)."""
    held, release, entered = trio.Event(), trio.Event(), trio.Event()

    async def hold(params: dict[str, Any]) -> dict[str, Any]:
        entered.set()
        await release.wait()
        return {}

    async def keep_busy() -> None:
        await held.wait()
        await trio.to_thread.run_sync(lambda: call(path, "hold", timeout=120))

    server = IpcServer({**svc.ipc_methods(), "hold": hold}, max_total=1)
    await nursery.start(server.serve, path)
    nursery.start_soon(keep_busy)
    yield held
    release.set()


def lock_waiters(path: Path) -> int:
    """How many processes or threads wait for the flock of `path` (`/proc/locks`)."""
    inode = os.stat(path).st_ino
    count = 0
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if len(fields) > 6 and fields[1] == "->" and int(fields[6].split(":")[-1]) == inode:
            count += 1
    return count


async def until(condition: Any) -> None:
    with trio.fail_after(60):
        while not condition():
            await trio.sleep(0.01)


def texts(session_dir: Path) -> list[str]:
    lines = [json.loads(line) for line in (session_dir / RAW).read_text().splitlines()]
    return [str(e.get("content")) for e in lines if e.get("type") == "user"]


def marker_of(session_dir: Path) -> RecordingMarker:
    return read_model(session_dir / MARKER, RecordingMarker)


async def step_held(svc: SessionWatchService, session_dir: Path, src: Path, line: bytes) -> int:
    """Hold the raw file's lock, write `line` and wait until the watcher's step of it waits for
    that lock. Returns the lock's fd (closing it lets the step go on)."""
    fd = open_lock(lock_path(session_dir / RAW))
    append(src, line)
    await until(lambda: lock_waiters(lock_path(session_dir / RAW)) == 1)
    return fd


def unwatched(svc: SessionWatchService) -> bool:
    """Whether the watcher's one followed file was taken off its feed (a stop began)."""
    feed = svc.manager.statistics().feed
    assert feed is not None
    assert feed.inotify
    return feed.folders == 0


async def test_a_dead_agent_resumed_by_its_hook_during_the_stop_keeps_its_recording(
    ledger: Path, home: Path, socket_path: Path, nursery: trio.Nursery
) -> None:
    """The liveness check finds the agent dead and begins stopping its part; the agent's
    resumed process runs its start hook in its own process (the daemon busy), which continues
    that part and gives it to the new process. The stop must leave it to that process."""
    svc = SessionWatchService(ledger, home=home, poll_interval=0.02,
                              liveness_interval=3600, doctor_interval=3600)  # fmt: skip
    await nursery.start(svc.serve)
    src = claude_session_file(home, SID)
    first = Agent(home, ledger, socket_path, src)
    second = Agent(home, ledger, socket_path, src)
    try:
        async with daemon(svc, socket_path, nursery) as busy:
            await first.hook("SessionStart")
            (session_dir,) = ledger_cache_sessions(ledger).iterdir()
            append(src, numbered_user(1))
            await svc.manager.wait_synced(session_dir.name)
            first.exit()  # the agent dies
            lock = await step_held(svc, session_dir, src, numbered_user(2))
            stopped: list[list[str]] = []

            async def check() -> None:
                stopped.append(await svc.stop_dead())

            nursery.start_soon(check)
            await until(lambda: unwatched(svc))  # found dead: the stop waits for the step
            busy.set()
            await second.hook("SessionStart", "resume")  # done in the hook's own process
            assert marker_of(session_dir).parent_pid == second.pid
            os.close(lock)
            await until(lambda: stopped)
            assert stopped == [[]]
            assert marker_of(session_dir).stopped_at is None
            assert svc.manager.active_sessions() == [session_dir.name]  # followed again
        append(src, numbered_user(3))  # the resumed process goes on
        await second.hook("SessionEnd")  # the daemon takes it now
        assert not (session_dir / MARKER).exists()
        assert texts(session_dir) == ["message 1", "message 2", "message 3"]
    finally:
        first.exit()
        second.exit()


async def test_the_end_of_a_process_racing_its_resume_by_a_hook_keeps_the_recording(
    ledger: Path, home: Path, socket_path: Path, nursery: trio.Nursery
) -> None:
    """The agent's end hook reaches the daemon, which finds the part its own and begins the
    stop; the agent resumed at once in a new process, whose start hook the daemon cannot take
    (busy with that end) and runs in its own process: it continues the part. The end must
    then leave the part to the resumed process."""
    svc = SessionWatchService(ledger, home=home, poll_interval=0.02,
                              liveness_interval=3600, doctor_interval=3600)  # fmt: skip
    await nursery.start(svc.serve)
    src = claude_session_file(home, SID)
    first = Agent(home, ledger, socket_path, src)
    second = Agent(home, ledger, socket_path, src)
    try:
        async with daemon(svc, socket_path, nursery):
            await first.hook("SessionStart")
            (session_dir,) = ledger_cache_sessions(ledger).iterdir()
            append(src, numbered_user(1))
            await svc.manager.wait_synced(session_dir.name)
            lock = await step_held(svc, session_dir, src, numbered_user(2))
            async with trio.open_nursery() as ending:
                ending.start_soon(first.hook, "SessionEnd")
                await until(lambda: unwatched(svc))  # the part found its own: being stopped
                # The daemon serves that end: busy for this one, done in the hook's process.
                await second.hook("SessionStart", "resume")
                assert marker_of(session_dir).parent_pid == second.pid
                os.close(lock)
            assert marker_of(session_dir).stopped_at is None
            assert svc.manager.active_sessions() == [session_dir.name]  # followed again
            first.exit()
            append(src, numbered_user(3))  # the resumed process goes on
            await second.hook("SessionEnd")
        assert not (session_dir / MARKER).exists()
        assert texts(session_dir) == ["message 1", "message 2", "message 3"]
    finally:
        first.exit()
        second.exit()


OTHER_SID = "0b1c5e7d-2f4a-4c3b-9d8e-7a6b5c4d3e2f"
HOOK_DEADLINE = 15.0
"""Seconds another session's hook gets while a stop is held: far more than it takes, and less
than the hook's wait for the daemon (`hook.CALL_TIMEOUT`), after which it would do the start
in its own process instead."""


async def started_meanwhile(
    agent: Agent, ledger: Path, svc: SessionWatchService, nursery: trio.Nursery
) -> Path:
    """Run `agent`'s start hook and wait (at most `HOOK_DEADLINE`) until it ended and the daemon
    watches the part it started. Returns that part's folder. The hook runs in `nursery`: one
    that waits for the stop held goes on once the caller lets the stop go."""
    before = set(ledger_cache_sessions(ledger).iterdir())
    done = trio.Event()

    async def start() -> None:
        await agent.hook("SessionStart")
        done.set()

    nursery.start_soon(start)
    with trio.fail_after(HOOK_DEADLINE):
        await done.wait()
    (part,) = set(ledger_cache_sessions(ledger).iterdir()) - before
    assert part.name in svc.manager.active_sessions()
    return part


async def service_with_daemon(
    ledger: Path, home: Path, socket_path: Path, nursery: trio.Nursery
) -> SessionWatchService:
    """The daemon's session capture, served on `socket_path` as the daemon serves it."""
    svc = SessionWatchService(ledger, home=home, poll_interval=0.02,
                              liveness_interval=3600, doctor_interval=3600)  # fmt: skip
    await nursery.start(svc.serve)
    await nursery.start(IpcServer(svc.ipc_methods()).serve, socket_path)
    return svc


@attrs.frozen
class TwoAgents:
    """A daemon's capture, the first agent's part with one line captured, another agent."""

    svc: SessionWatchService
    first: Agent
    other: Agent
    src: Path
    session_dir: Path


@asynccontextmanager
async def two_agents(
    ledger: Path, home: Path, socket_path: Path, nursery: trio.Nursery
) -> AsyncIterator[TwoAgents]:
    svc = await service_with_daemon(ledger, home, socket_path, nursery)
    src = claude_session_file(home, SID)
    first = Agent(home, ledger, socket_path, src)
    other = Agent(home, ledger, socket_path, claude_session_file(home, OTHER_SID), OTHER_SID)
    try:
        await first.hook("SessionStart")
        (session_dir,) = ledger_cache_sessions(ledger).iterdir()
        append(src, numbered_user(1))
        await svc.manager.wait_synced(session_dir.name)
        yield TwoAgents(svc, first, other, src, session_dir)
    finally:
        first.exit()
        other.exit()


async def other_started_in_the_drain(
    agents: TwoAgents,
    ledger: Path,
    stop: Callable[[], Awaitable[object]],
    while_held: Callable[[], None] = lambda: None,
) -> Path:
    """Run `stop` (of the first agent's part) with the raw file's lock held, so its drain
    waits; once it does, append a backlog for it and start the other agent's part, which
    must not wait (`started_meanwhile`); `while_held` checks what holds then. Returns the
    other part's folder, once the stop is let go and ended."""
    raw_lock = lock_path(agents.session_dir / RAW)
    async with trio.open_nursery() as tasks:
        lock = open_lock(raw_lock)
        try:
            tasks.start_soon(stop)
            await until(lambda: unwatched(agents.svc) and lock_waiters(raw_lock) == 1)  # the drain
            append(agents.src, numbered_user(2))  # the backlog it records
            other_dir = await started_meanwhile(agents.other, ledger, agents.svc, tasks)
            while_held()
        finally:
            os.close(lock)
    return other_dir


async def test_a_stop_held_in_its_drain_never_holds_another_sessions_start_hook(
    ledger: Path, home: Path, socket_path: Path, nursery: trio.Nursery
) -> None:
    """One agent session's end hook stops its part, and the stop's drain takes long (a large
    backlog; here the raw file's lock, which the test holds). Another agent's start hook,
    inside its own agent's time budget, must not wait for it: that session's start needs
    nothing the stop holds while it catches up."""
    async with two_agents(ledger, home, socket_path, nursery) as agents:
        session_dir = agents.session_dir

        def still_held() -> None:
            assert marker_of(session_dir).stopped_at is None  # the stop is still held

        other_dir = await other_started_in_the_drain(
            agents, ledger, lambda: agents.first.hook("SessionEnd"), still_held
        )
        assert not (session_dir / MARKER).exists()
        assert texts(session_dir) == ["message 1", "message 2"]
        append(agents.other.file, numbered_user(3))
        await agents.other.hook("SessionEnd")
        assert texts(other_dir) == ["message 3"]
        assert agents.svc._hook_locks == {}  # no lock is kept for a session no hook is in


async def test_a_dead_agents_stop_held_in_its_drain_never_holds_another_sessions_start_hook(
    ledger: Path, home: Path, socket_path: Path, nursery: trio.Nursery
) -> None:
    """The liveness check stops the part of an agent that died, and the stop's drain takes
    long. Another agent's start hook must not wait for it either."""
    async with two_agents(ledger, home, socket_path, nursery) as agents:
        agents.first.exit()  # the agent dies
        stopped: list[list[str]] = []

        async def check() -> None:
            stopped.append(await agents.svc.stop_dead())

        await other_started_in_the_drain(agents, ledger, check)
        assert stopped == [[agents.session_dir.name]]
        assert texts(agents.session_dir) == ["message 1", "message 2"]
        assert agents.svc._hook_locks == {}
