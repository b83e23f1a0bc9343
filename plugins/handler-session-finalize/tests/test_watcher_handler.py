"""Capture and finalization meet only through core: the capture handler serves the watcher
and its IPC methods; stopping a recording publishes `session.recording-stopped`, and the
finalize handler, handed that event, queues the session's finalization."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import trio

from ox_core import WorkItem
from ox_core.contracts import HandlerContext, WorkHandler
from ox_core.errors import OxError
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_session_capture.events import RECORDING_STOPPED
from ox_session_capture.handler import SessionCaptureHandler
from ox_session_capture.records import MARKER
from ox_session_capture.testing import append, claude_session_file, numbered_user


async def test_a_stop_published_by_capture_queues_finalization(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nursery: trio.Nursery
) -> None:
    home, ledger = tmp_path / "home", tmp_path / "ledger"
    ledger.mkdir()
    monkeypatch.setenv("HOME", str(home))
    src = claude_session_file(home)
    capture = SessionCaptureHandler()
    finalize = SessionFinalizeHandler(user_cache_dir=tmp_path / "cache")
    assert capture.ipc_methods() == {}  # not attached yet
    queued: list[WorkItem] = []
    events: list[tuple[str, dict[str, Any]]] = []
    handlers: list[WorkHandler] = [capture, finalize]

    async def publish(event: str, data: Mapping[str, Any]) -> None:  # as the daemon does
        events.append((event, dict(data)))
        for handler in handlers:
            await handler.on_event(event, data)

    context = HandlerContext(
        ledger=ledger, enqueue=lambda item: queued.append(item) or True, publish=publish
    )
    for handler in handlers:
        handler.attach(context)
    await nursery.start(capture.serve, ledger)
    methods = capture.ipc_methods()
    assert set(methods) == {
        "session_watch_start",
        "session_watch_stop",
        "session_hook",
        "session_stopped",
    }
    assert set(finalize.ipc_methods()) == {"ledger_sync"}
    reply = await methods["session_watch_start"](
        {"adapter": "claude-code", "file": str(src), "pid": os.getpid()}
    )
    manager = capture.watch_service().manager
    assert manager.active_sessions() == [reply["name"]]
    append(src, numbered_user(0) + numbered_user(1))
    with trio.fail_after(60):
        await manager.wait_synced(reply["name"])
    stopped = await methods["session_watch_stop"]({"name": reply["name"]})
    assert stopped == {"name": reply["name"], "entry_count": 2}
    assert not (Path(reply["session_dir"]) / MARKER).exists()
    assert events == [
        (RECORDING_STOPPED, {"name": reply["name"], "session_dir": reply["session_dir"]})
    ]
    assert [item.dedup_key for item in queued] == [f"session-finalize:{reply['name']}"]
    await manager.stop_all()


async def test_finalize_ignores_other_events_and_bad_data(tmp_path: Path) -> None:
    finalize = SessionFinalizeHandler(user_cache_dir=tmp_path / "cache")
    queued: list[WorkItem] = []
    finalize.attach(HandlerContext(ledger=tmp_path, enqueue=lambda i: queued.append(i) or True))
    await finalize.on_event("other.event", {"name": "x"})
    await finalize.on_event(RECORDING_STOPPED, {"name": 3})
    await finalize.on_event(RECORDING_STOPPED, {"name": "../../etc"})
    assert queued == []


def test_capture_takes_no_work_items(tmp_path: Path) -> None:
    capture = SessionCaptureHandler()
    capture.attach(HandlerContext(ledger=tmp_path, enqueue=lambda _i: True))
    with pytest.raises(OxError, match="takes no work items"):
        capture.validate_payload({})
