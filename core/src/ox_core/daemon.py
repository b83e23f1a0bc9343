"""The daemon behind `ox-core serve`: ledger, plugins, manager, handlers' services and IPC.

Nurseries follow lifetimes. The outer one lives as long as the daemon: signals, the orphan
reaper, the IPC server and the handlers' supervised services. The inner one holds the work:
the manager and its workers. SIGINT/SIGTERM/SIGHUP or the IPC `shutdown` method stop the
work first: no new item starts, items in flight get `DRAIN_DEADLINE` seconds to end, then
they are cancelled (agent runs are killed with their process groups; every session stays on
disk as it was, found again by the next start); then the outer nursery is cancelled. From the
stop on, the socket takes no new work (`READ_ONLY_METHODS`): the queue is not kept.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import trio

from ox_core.daemon_lock import DaemonLock
from ox_core.daemon_setup import (
    ConfigReloader,
    make_handlers,
    make_runners,
    only_ox_error,
    raise_open_files_limit,
)
from ox_core.errors import OxError
from ox_core.ipc import ErrorCode, ForceDetectParams, IpcMethod, IpcServer, NoParams
from ox_core.ledger_setup import open_ledger
from ox_core.settings import Settings
from ox_core.supervise import Supervisor
from ox_core.sweep import reap_orphans

__all__ = ["Daemon", "make_handlers", "make_runners", "serve"]

# The manager, plugins and work records are imported in a worker thread once the socket
# answers (`Daemon._assemble`): `ox-core serve` is ready sooner.
if TYPE_CHECKING:
    from ox_core.config import AgentWorkerConfig
    from ox_core.contracts import Runner, WorkHandler
    from ox_core.manager import Manager, SyncSignal
    from ox_core.plugins import LoadedPlugins, PluginLoadError
    from ox_core.work import WorkItem

log = logging.getLogger("ox_core.daemon")

SHUTDOWN_GRACE = 0.2
"""Seconds between a `shutdown` request and cancelling, so its reply reaches the caller."""
DRAIN_DEADLINE = 1.0
"""Seconds items in flight get to end at shutdown before they are cancelled (short: an agent
run is killed anyway, and SIGTERM must stop the daemon promptly)."""
READ_ONLY_METHODS = ("status", "ping", "shutdown")
"""The IPC methods still served once shutdown began: they promise no work that would not
run. Every other request is refused with `shutting_down` (the agent hook then does its work
in its own process)."""
MAX_LISTED = 10
"""Items named in the shutdown's log line of what is left unrun (the rest are counted)."""
LEDGER_CHECK = 2.0
"""Seconds between two checks that the ledger is still the folder the daemon opened."""
SLOW_START_STEP = 10.0
"""Seconds a start-up step (a plugin's import or hook, the agents' checks) runs before the
log names it: a plugin that never returns must not leave the daemon starting in silence."""
START_STOP_GRACE = 5.0
"""Seconds a stop asked during start-up waits for the step in its thread to return; then the
step is abandoned (its thread ends with the process) and the daemon stops: SIGTERM must stop a
daemon that a plugin holds."""
SERVICE_START_DEADLINE = 30.0
"""Seconds the start waits for each handler service to report ready: one that never does
must not hold up the manager, and so every other handler's work (it keeps starting, and
`status` shows it `starting`)."""


class Daemon:
    """One running daemon: its ledger, plugins, manager and IPC methods.

    Built by `serve`; tests use `serve(..., task_status=...)` to get it once ready.
    """

    def __init__(
        self, settings: Settings, ledger: Path, socket: Path, plugins: LoadedPlugins | None = None
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self.socket = socket
        self.plugins = plugins
        self.started_at = datetime.now(UTC)
        # Filled by `_assemble` once the socket answers: plugins load and agents are asked
        # for their usability (up to 2 s a runner) in a thread meanwhile.
        self.runners: list[Runner] = []
        self.handlers: list[WorkHandler] = []
        self.errors: list[PluginLoadError] = []
        self.agent = "(starting)"
        # The start-up step in progress and when it began (`time.monotonic`), set by the
        # assembling thread: `status` and the log name a step that does not return.
        self._start_step: tuple[str, float] | None = None
        self._assembly: trio.CancelScope | None = None
        self.runner: Runner | None = None
        self.manager: Manager | None = None
        # Fired by whatever syncs the ledger (a plugin's service), after each integration.
        self.sync_signal: SyncSignal | None = None
        self._sync_config = settings.sync
        self._config_source = ConfigReloader(settings, self._reconfigure_handlers)
        self.methods: dict[str, IpcMethod] = {
            "status": self._ipc_status,
            "enqueue": self._ipc_enqueue,
            "force_detect": self._ipc_force_detect,
            "shutdown": self._ipc_shutdown,
            "ping": self._ipc_ping,
        }
        self._stop = trio.Event()
        self._drain_config: AgentWorkerConfig | None = None
        self._starting_scope: trio.CancelScope | None = None
        self.services: list[Supervisor] = []
        self.server: IpcServer | None = None
        # Set when the ledger folder was moved or removed under the daemon: why it stopped.
        self.lost_ledger: str | None = None

    def _assemble(self) -> None:
        """Load plugins, build runners and handlers, resolve the agent, attach the handlers.
        Blocking (a thread: each of these runs a plugin's code, which may never return)."""
        from ox_core.agents import resolve_agent
        from ox_core.manager import SyncSignal  # imported here, off the trio thread
        from ox_core.plugins import load_plugins

        step = self._starting
        plugins = self.plugins if self.plugins is not None else load_plugins(progress=step)
        self.plugins = plugins
        runners, runner_errors = make_runners(plugins, self.settings.runners, progress=step)
        handlers, handler_errors = make_handlers(plugins, self.settings.handlers, progress=step)
        self.errors = [*plugins.errors, *runner_errors, *handler_errors]
        step("asking the runners whether their agent is usable")
        agent = resolve_agent(self.settings.agent_work.agent, runners)
        self.runner = next((r for r in runners if r.name == agent), None)
        if agent != "none" and self.runner is None:
            log.warning("agent %r is configured but no such runner is installed", agent)
        self.runners, self.handlers, self.agent = runners, handlers, agent
        self.sync_signal = SyncSignal()
        self._attach_handlers(step)
        self._start_step = None

    def _starting(self, what: str) -> None:
        self._start_step = (what, time.monotonic())

    def starting_step(self) -> str | None:
        """The start-up step in progress and how long it has run (None when none is)."""
        step = self._start_step
        if step is None or self._starting_scope is None:
            return None
        return f"{step[0]}, for {time.monotonic() - step[1]:.0f} s"

    async def _assemble_unless_stopped(self) -> None:
        """`_assemble` in a thread. A stop waits `START_STOP_GRACE` for it, then abandons it
        (a plugin's code cannot be cancelled) and the daemon stops without it."""
        await trio.lowlevel.checkpoint()  # stopped already: not started at all
        with trio.CancelScope(shield=True) as assembly:
            self._assembly = assembly
            await trio.to_thread.run_sync(self._assemble, abandon_on_cancel=True)
        self._assembly = None
        if assembly.cancelled_caught:
            log.error(
                "start-up: abandoned at %s: it did not return within %g s of the stop",
                self.starting_step() or "a plugin step",
                START_STOP_GRACE,
            )
        await trio.lowlevel.checkpoint()  # the stop cancelled the start-up: ends it here

    async def _watch_start(self) -> None:
        """Name, once each, the start-up steps that run longer than `SLOW_START_STEP`."""
        named = None
        while self._starting_scope is not None:
            step = self._start_step
            if (
                step is not None
                and step is not named
                and time.monotonic() - step[1] >= (SLOW_START_STEP)
            ):
                log.warning(
                    "start-up: %s has not returned after %g s; the daemon waits for it "
                    "(`ox-core status` shows it; SIGTERM stops the daemon)",
                    step[0],
                    SLOW_START_STEP,
                )
                named = step
            await trio.sleep(1.0)

    def _attach_handlers(self, step: Callable[[str], None]) -> None:
        """Attach each handler and take its IPC methods, telling `step` each one first. A
        handler whose `attach` raises is not used (it has no context to work with); each
        refusal is a plugin error, so `status` and the log name the plugin."""
        from ox_core.agent_gate import describe
        from ox_core.contracts import HandlerContext
        from ox_core.plugins import PluginLoadError

        def refuse(handler: WorkHandler, error: str) -> None:
            self.errors.append(PluginLoadError(handler.type, "ox.handlers", "?", "?", error))
            log.error("handler %s: %s", handler.type, error)

        owners = dict.fromkeys(self.methods, "ox-core")
        attached: list[WorkHandler] = []
        for handler in self.handlers:
            cls = type(handler)
            step(f"handler {handler.type} ({cls.__module__}.{cls.__qualname__}): attach")
            try:
                handler.attach(
                    HandlerContext(
                        ledger=self.ledger,
                        enqueue=self.enqueue,
                        publish=self.publish,
                        sync_signal=self.sync_signal,
                        sync_config=lambda: self._sync_config,
                    )
                )
            except Exception as exc:
                refuse(handler, f"attach failed: {describe(exc)}")
                continue
            attached.append(handler)
            step(f"handler {handler.type} ({cls.__module__}.{cls.__qualname__}): ipc_methods")
            try:
                methods = dict(handler.ipc_methods())
            except Exception as exc:
                refuse(handler, f"ipc_methods() failed: {describe(exc)}")
                continue
            for name, method in methods.items():
                if name in owners:
                    refuse(handler, f"IPC method {name!r} is already taken by {owners[name]}")
                    continue
                owners[name] = f"handler {handler.type}"
                self.methods[name] = method
        self.handlers = attached

    def _reconfigure_handlers(self, settings: Settings) -> None:
        """Hand each handler its options again after a config edit; an invalid table is
        logged and that handler keeps its options."""
        from ox_core.config import validate_options

        self._sync_config = settings.sync
        for handler in self.handlers:
            raw = settings.handlers.get(handler.type, {})
            try:
                where = f"handlers.{handler.type}"
                handler.configure(validate_options(type(handler).Options, raw, where))
            except Exception as exc:
                log.warning("handler %s keeps its options: %s", handler.type, exc)

    def enqueue(self, item: WorkItem) -> bool:
        """Queue `item` with the manager (what handlers get as `HandlerContext.enqueue`).

        Raises `OxError` while the daemon is still starting (before the manager exists) and
        once it is stopping (`shutting_down`): nothing new starts then, and the queue is not
        kept, so an item accepted now would never run.
        """
        if self.stopping:
            raise OxError(
                "the daemon is shutting down and takes no new work; try again once it is back",
                code=ErrorCode.SHUTTING_DOWN,
            )
        if self.manager is None:
            raise OxError("the daemon is still starting; try again in a moment", code="starting")
        return self.manager.enqueue(item)

    async def publish(self, event: str, data: Mapping[str, Any]) -> None:
        """Hand `event` to every handler's `on_event` (what handlers get as
        `HandlerContext.publish`); one handler's failure is logged and never stops the rest."""
        for handler in self.handlers:
            try:
                await handler.on_event(event, data)
            except OxError as exc:
                if exc.code != ErrorCode.SHUTTING_DOWN:
                    log.exception("handler %s: on_event(%r) failed", handler.type, event)
                else:  # what the event asks for is left to the next start's detection
                    log.info("handler %s: %s not acted on: %s", handler.type, event, exc)
            except Exception:
                log.exception("handler %s: on_event(%r) failed", handler.type, event)

    def _config(self) -> AgentWorkerConfig:
        # Draining at shutdown: no new item starts (workers stop after their current one).
        return self._drain_config or self._config_source()

    # -- IPC methods ---------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """The daemon part of `status`: pid, ledger, socket, start time, `ready` (plugins
        loaded, services and manager running), agent, handlers, plugin errors, `services`
        (each handler service's state, restarts and last error) and `ipc` (connections)."""
        ipc = self.server.statistics() if self.server is not None else None
        return {
            "pid": os.getpid(),
            "ledger": str(self.ledger),
            "socket": str(self.socket),
            "started_at": self.started_at.isoformat(),
            "ready": self.manager is not None and self._starting_scope is None,
            "starting": self.starting_step(),
            "stopping": self.stopping,
            "agent": self.agent,
            "handlers": [h.type for h in self.handlers],
            "runners": [r.name for r in self.runners],
            "plugin_errors": [f"{e.name}: {e.error}" for e in self.errors],
            "services": [s.state().as_json() for s in self.services],
            "ipc": attrs.asdict(ipc) if ipc is not None else None,
        }

    async def _ipc_status(self, params: dict[str, Any]) -> dict[str, Any]:
        NoParams.model_validate(params)
        work = self.manager.status().to_json() if self.manager is not None else None
        return {"daemon": self.info(), "agent_work": work}

    async def _ipc_ping(self, params: dict[str, Any]) -> dict[str, Any]:
        NoParams.model_validate(params)
        return {"pid": os.getpid()}

    async def _ipc_enqueue(self, params: dict[str, Any]) -> dict[str, Any]:
        from pydantic import ValidationError

        from ox_core.ipc import EnqueueParams
        from ox_core.work import WorkItem

        p = EnqueueParams.model_validate(params)
        handler = next((h for h in self.handlers if h.type == p.type), None)
        if handler is None:
            known = ", ".join(sorted(h.type for h in self.handlers)) or "none"
            raise OxError(
                f"no handler for work type {p.type!r} (installed: {known})", code="not_found"
            )
        # The payload is the caller's: the handler checks it (paths, names, ledger) before
        # anything is queued, and a refusal queues and touches nothing.
        try:
            payload = handler.validate_payload(dict(p.payload))
        except OxError:
            raise
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "payload"
            raise OxError(
                f"invalid {p.type} payload: {where}: {first['msg']}", code="invalid_request"
            ) from None
        except (ValueError, TypeError) as exc:
            raise OxError(f"invalid {p.type} payload: {exc}", code="invalid_request") from None
        item = WorkItem(type=p.type, priority=p.priority, payload=payload, dedup_key=p.dedup_key)
        queued = self.enqueue(item)
        return {"queued": queued, "id": item.id}

    async def _ipc_force_detect(self, params: dict[str, Any]) -> dict[str, Any]:
        p = ForceDetectParams.model_validate(params)
        if self.manager is None:
            raise OxError("the daemon is still starting; try again in a moment", code="starting")
        queued = await self.manager.force_detect(resume=p.resume)
        if self.stopping:  # it began before: what it queued will not start before the exit
            raise OxError(
                "the daemon is shutting down: what this detection found is found again at "
                "its next start",
                code=ErrorCode.SHUTTING_DOWN,
            )
        # What is waiting and running right after the scan (detected items may have started).
        waiting = [
            {"type": i.type, "key": i.dedup_key or i.id, "priority": i.priority}
            for i in self.manager.queue.items()
        ]
        running = [{"type": p.work_type, "key": p.target} for p in self.manager.status().active]
        return {"queued": queued, "waiting": waiting, "running": running}

    async def _ipc_shutdown(self, params: dict[str, Any]) -> dict[str, Any]:
        NoParams.model_validate(params)
        log.info("shutdown requested over IPC")
        self.stop()
        return {"stopping": True}

    # -- lifetime ------------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        """Whether shutdown began (`stop()`, a signal, IPC `shutdown`): no new work is taken."""
        return self._stop.is_set()

    def stop(self) -> None:
        """Ask the daemon to stop (idempotent, callable from any trio task).

        Before the daemon is ready this cancels the start-up at once (a plugin step already
        running in its thread is waited for up to `START_STOP_GRACE`, then abandoned); after,
        running work is cancelled and the sockets closed within a short grace period.
        """
        self._stop.set()
        if self._starting_scope is not None:
            self._starting_scope.cancel()
        if self._assembly is not None:
            self._assembly.deadline = min(
                self._assembly.deadline, trio.current_time() + START_STOP_GRACE
            )

    async def _serve_handler(
        self, handler: WorkHandler, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """A handler's service, restarted with backoff when it fails (never taking the
        daemon down, never left dead); its state is in `status` (`services`)."""
        supervisor = Supervisor(f"{handler.type}", functools.partial(handler.serve, self.ledger))
        self.services.append(supervisor)
        await supervisor.run(task_status=task_status)

    async def _start_service(self, nursery: trio.Nursery, handler: WorkHandler) -> None:
        """Start `handler`'s service in `nursery` and wait until it reports ready, at most
        `SERVICE_START_DEADLINE` seconds (after that it goes on starting on its own)."""
        ready = _Ready()
        nursery.start_soon(functools.partial(self._serve_handler, handler, task_status=ready))
        with trio.move_on_after(SERVICE_START_DEADLINE):
            await ready.event.wait()
        if not ready.event.is_set():
            log.warning(
                "handler %s: its service is not ready after %g s; starting without it",
                handler.type,
                SERVICE_START_DEADLINE,
            )

    async def _watch_ledger(self) -> None:
        """Stop the daemon once the ledger is no longer the folder it opened (moved, removed,
        or replaced): everything it writes goes by path, so it would make a ghost ledger at
        the old path and record, summarise and fail to commit sessions there."""
        opened = _identity(self.ledger)
        while True:
            await trio.sleep(LEDGER_CHECK)
            if _identity(self.ledger) != opened:
                break
        self.lost_ledger = (
            f"the ledger {self.ledger} was moved or removed while the daemon ran; start "
            "`ox-core serve` again once it is back (or set `ledger` to where it is now)"
        )
        log.error("%s: stopping", self.lost_ledger)
        self.stop()

    async def _watch_signals(self) -> None:
        # SIGHUP too: closing the terminal of a foreground daemon stops it cleanly; unless
        # it was started with SIGHUP ignored (`nohup ox-core serve &`): asked to outlive it.
        stopping = [signal.SIGINT, signal.SIGTERM]
        if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
            stopping.append(signal.SIGHUP)
        with trio.open_signal_receiver(*stopping) as signals:
            async for signum in signals:
                log.info("%s: stopping", signal.Signals(signum).name)
                self.stop()

    async def run(
        self,
        *,
        handle_signals: bool = True,
        task_status: trio.TaskStatus[Daemon] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Run until `stop()`, a signal, or cancellation.

        The IPC socket answers first (methods that need the manager say the daemon is
        starting); then plugins load and agents are checked in a worker thread, handlers are
        attached and their services started, and the manager runs. `task_status.started(self)`
        once all of that is up. `stop()` drains the work (see the module), then cancels the
        services and the IPC server; what is on disk stays as it is.
        """
        async with trio.open_nursery() as outer:  # the daemon's lifetime
            self._starting_scope = outer.cancel_scope
            if handle_signals:
                outer.start_soon(self._watch_signals)
            outer.start_soon(self._watch_ledger)
            await outer.start(reap_orphans)  # agent runs' orphans come to us: killed, reaped
            # Until ready, an unknown method may be a handler's that is not attached yet.
            server = IpcServer(
                self.methods,
                starting=lambda: self._starting_scope is not None,
                stopping=lambda: self.stopping,
                read_only=READ_ONLY_METHODS,
                # A configured socket's folder is the user's (their home, a team folder):
                # only ox's own runtime folder is made private.
                tighten_dir=self.settings.socket is None,
            )
            self.server = server
            await outer.start(server.serve, self.socket)
            outer.start_soon(self._watch_start)
            await self._assemble_unless_stopped()
            from ox_core.manager import Manager

            self.manager = Manager(
                self.runner, self.handlers, self._config, self.sync_signal, self.ledger
            )
            for handler in self.handlers:
                if has_service(handler):
                    await self._start_service(outer, handler)
            async with trio.open_nursery() as work:  # the work's lifetime: manager, workers
                await work.start(self.manager.run)
                self._starting_scope = None
                self._log_ready()
                task_status.started(self)
                await self._stop.wait()
                await self._drain(self.manager)
                work.cancel_scope.cancel()
            await trio.sleep(SHUTDOWN_GRACE)
            outer.cancel_scope.cancel()
        log.info("ox-core stopped")

    async def _drain(self, manager: Manager) -> None:
        """Start no new item (the manager now reads agent work as disabled) and give the
        items in flight `DRAIN_DEADLINE` seconds to end."""
        current = self._config_source.current
        self._drain_config = current.model_copy(update={"enabled": False})
        with trio.move_on_after(DRAIN_DEADLINE):
            await manager.wait_idle()
        # Nothing is lost on disk (the next start's detection finds that work again), but an
        # item only a request described is gone: say what this daemon leaves unrun.
        left = {
            f"still running after {DRAIN_DEADLINE:g} s, cancelled": [
                f"{p.work_type} {p.target}" for p in manager.status().active
            ],
            "queued, not run": [f"{i.type} {i.dedup_key or i.id}" for i in manager.queue.items()],
        }
        for what, names in left.items():
            if names:
                log.warning(
                    "shutdown: %d item(s) %s: %s; the next start detects again what the "
                    "ledger holds",
                    len(names),
                    what,
                    _listed(names),
                )

    def _log_ready(self) -> None:
        if self.agent == "none":
            log.warning(
                "no usable agent: sessions are recorded and uploaded; summaries wait "
                "until one is installed and logged in (see `ox-core doctor`)"
            )
        log.info(
            "ox-core ready: ledger %s, agent %s, handlers %s, socket %s",
            self.ledger,
            self.agent,
            ", ".join(h.type for h in self.handlers) or "none",
            self.socket,
        )


class _Ready:
    """The `task_status` of a service started without waiting on it: `event` is set once
    it reports ready."""

    def __init__(self) -> None:
        self.event = trio.Event()

    def started(self, value: object = None) -> None:
        self.event.set()


def _identity(path: Path) -> tuple[int, int] | None:
    """The device and inode of the folder at `path`, None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _listed(names: list[str]) -> str:
    shown = ", ".join(name[:100] for name in names[:MAX_LISTED])  # a key may be 1000 long
    return shown if len(names) <= MAX_LISTED else f"{shown}, and {len(names) - MAX_LISTED} more"


def has_service(handler: WorkHandler) -> bool:
    """Whether `handler` has a long-running service of its own (overrides `serve`): only
    those are supervised and listed in `status`; the default `serve` does nothing."""
    from ox_core.contracts import WorkHandler

    return getattr(type(handler), "serve", None) is not WorkHandler.serve


async def serve(
    settings: Settings,
    *,
    plugins: LoadedPlugins | None = None,
    handle_signals: bool = True,
    task_status: trio.TaskStatus[Daemon] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the daemon for `settings` until stopped (see `Daemon.run`).

    Opens the ledger (creating the default one), takes the ledger's daemon lock (raises
    `DaemonRunningError` when another daemon holds it), discovers plugins unless `plugins`
    is given, and serves. `ConfigError` for a missing or invalid ledger; `OxError` once it
    stopped because the ledger was moved or removed under it.
    """
    ledger = open_ledger(settings.ledger_path(), default=settings.uses_default_ledger())
    socket = settings.socket_path()
    raise_open_files_limit()
    with DaemonLock(ledger, socket):
        daemon = Daemon(settings, ledger, socket, plugins)
        try:
            await daemon.run(handle_signals=handle_signals, task_status=task_status)
        except BaseExceptionGroup as group:
            # A start-up failure (e.g. the socket path is taken) is one clear OxError.
            ox_error = only_ox_error(group)
            if ox_error is None:
                raise
            raise ox_error from None
        if daemon.lost_ledger is not None:  # a failure for the service manager to see
            raise OxError(daemon.lost_ledger)
