"""The session watcher wired into `SessionFinalizeHandler`: `serve` runs it, `ipc_methods`
serves `session_watch_start` / `session_watch_stop`, and a stop queues finalization."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import trio

from ox_core import WorkItem
from ox_core.contracts import HandlerContext
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_handler_session_finalize.records import MARKER

from .watch_support import append, claude_session_file, numbered_user


async def test_handler_serves_the_watcher_and_queues_finalization_on_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nursery: trio.Nursery
) -> None:
    home, ledger = tmp_path / "home", tmp_path / "ledger"
    monkeypatch.setenv("HOME", str(home))
    src = claude_session_file(home)
    handler = SessionFinalizeHandler(user_cache_dir=tmp_path / "cache")
    assert handler.ipc_methods() == {}  # not attached yet
    queued: list[WorkItem] = []
    handler.attach(HandlerContext(ledger=ledger, enqueue=lambda item: queued.append(item) or True))
    await nursery.start(handler.serve, ledger)
    methods = handler.ipc_methods()
    assert set(methods) == {"session_watch_start", "session_watch_stop"}
    reply = await methods["session_watch_start"](
        {"adapter": "claude-code", "file": str(src), "pid": os.getpid()}
    )
    manager = handler.watch_service().manager
    assert manager.active_sessions() == [reply["name"]]
    append(src, numbered_user(0) + numbered_user(1))
    with trio.fail_after(60):
        await manager.wait_synced(reply["name"])
    stopped = await methods["session_watch_stop"]({"name": reply["name"]})
    assert stopped == {"name": reply["name"], "entry_count": 2}
    assert not (Path(reply["session_dir"]) / MARKER).exists()
    assert [item.dedup_key for item in queued] == [f"session-finalize:{reply['name']}"]
    await manager.stop_all()
