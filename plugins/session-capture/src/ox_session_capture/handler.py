"""Session capture as a plugin the daemon runs: a handler with no work items of its own.

The daemon runs `serve` (the session watcher: it resumes live tail recordings, then a doctor
tick stops dead ones and restarts missing ones) and serves `ipc_methods()`
(`session_watch_start`, `session_watch_stop`). When a recording is stopped the handler
publishes `events.RECORDING_STOPPED`, so whichever handler finalizes sessions can queue it
at once; capture never imports finalization.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import trio

from ox_core import HandlerContext, RunRequest, RunResult, WorkHandler, WorkItem
from ox_core.contracts import IpcMethod
from ox_core.errors import OxError
from ox_session_capture.events import RECORDING_STOPPED
from ox_session_capture.records import ledger_cache_sessions
from ox_session_capture.service import SessionWatchService

TYPE = "session-capture"


def _no_items() -> NoReturn:
    raise OxError(
        f"{TYPE} takes no work items: it records agent sessions (`ox-core session start`)"
    )


class SessionCaptureHandler(WorkHandler):
    """The session watcher of the attached ledger, as a daemon service with IPC methods.

    `home` overrides `$HOME` for the adapters' roots (tests).
    """

    type = TYPE

    def __init__(self, *, home: Path | None = None) -> None:
        self.home = home
        self._watch: SessionWatchService | None = None

    def attach(self, context: HandlerContext) -> None:
        super().attach(context)
        self._watch = SessionWatchService(context.ledger, on_stop=self._stopped, home=self.home)

    def watch_service(self) -> SessionWatchService:
        """The session watcher (created by `attach`)."""
        if self._watch is None:
            raise OxError(f"{TYPE}: not attached to a ledger")
        return self._watch

    async def _stopped(self, name: str) -> None:
        if self.context is not None:
            folder = ledger_cache_sessions(self.context.ledger) / name
            await self.context.publish(
                RECORDING_STOPPED, {"name": name, "session_dir": str(folder)}
            )

    async def serve(
        self, ledger: Path, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Run the session watcher until cancelled (resumes live tail recordings first)."""
        await self.watch_service().serve(task_status=task_status)

    def ipc_methods(self) -> Mapping[str, IpcMethod]:
        """`session_watch_start` and `session_watch_stop`; none before `attach`."""
        return {} if self._watch is None else self._watch.ipc_methods()

    def doctor_checks(self) -> list[dict[str, Any]]:
        """Per agent installed for this user (its folder under `$HOME`), whether ox's hooks
        are in its user settings."""
        from ox_session_capture.hooks_install import installers, status

        rows: list[dict[str, Any]] = []
        for agent in installers().values():
            if not agent.installed_for_user(self.home):
                continue
            row = status(agent, agent.path(home=self.home), runnable=True)
            ok = bool(row["installed"])
            detail = row["error"] or (
                "in place" if ok else "not installed: `ox-core hooks install`"
            )
            if ok and agent.note:
                detail += f" ({agent.note})"
            rows.append({"check": f"{agent.adapter} hooks", "ok": ok, "detail": detail})
        return rows

    async def detect(self, ledger: Path) -> list[WorkItem]:
        """No work items; raises (so `status` shows it as a standing error) while a recording
        cannot be written (a full disk, a read-only folder, no file descriptor to spare: its
        capture waits), while followed folders cannot be watched for the inotify watch limit
        or inotify cannot be had at all (their files are polled), or while the agent hooks
        logged problems in the last hour."""
        from ox_session_capture.hook import log_path, recent_problems

        paused = self._watch.manager.write_errors() if self._watch is not None else {}
        if paused:
            name, error = next(iter(paused.items()))
            others = f" and {len(paused) - 1} more" if len(paused) > 1 else ""
            raise OxError(
                f"capture paused for {name}{others}: {error}; the lines wait in the agent's "
                "session file and are captured once that clears (retried every few seconds)"
            )
        manager = self._watch.manager if self._watch is not None else None
        feed = manager.statistics().feed if manager is not None else None
        if manager is not None and feed is not None and feed.over_limit:
            from ox_session_capture.changes import max_watches

            raise OxError(
                f"capture polls the files of {feed.over_limit} folder(s) every "
                f"{manager.poll_interval}s instead of waking on their changes: the inotify "
                f"watch limit ({max_watches()} watches) is reached; raise it (`sysctl "
                "fs.inotify.max_user_watches=…`) and they are watched within a second"
            )
        if manager is not None and feed is not None and feed.no_inotify:
            raise OxError(
                f"capture polls every followed file every {manager.poll_interval}s instead of "
                f"waking on their changes: {feed.no_inotify}; inotify is tried again every "
                "second"
            )
        problems = await trio.to_thread.run_sync(recent_problems)
        if problems:
            raise OxError(
                f"agent hooks: {len(problems)} problem(s) in the last hour, the last: "
                f"{problems[-1][21:]} (see {log_path()})"
            )
        return []

    def validate_payload(self, payload: dict[str, Any]) -> dict[str, Any]:
        _no_items()

    async def build_prompt(self, item: WorkItem) -> RunRequest:
        _no_items()

    async def process_result(self, item: WorkItem, result: RunResult) -> None:
        _no_items()
