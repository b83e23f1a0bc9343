"""Session info (the model, the agent version) is the source's text, so hostile: a commit
slot must hold it whatever its characters, or the step goes through the marker instead.
Real files, real capture thread; every wait bounded."""

from __future__ import annotations

import json
import os
from pathlib import Path

import trio

from ox_session_capture.recording import create_recording
from ox_session_capture.records import RAW, read_marker
from ox_session_capture.testing import append, claude_text, numbered_user
from ox_session_capture.transcript import read_raw
from ox_session_capture.watcher import SessionWatcherManager

LIMIT = 60  # seconds: generous bound on any wait; a healthy run takes ms


def control_named(uid: str, text: str) -> bytes:
    """An assistant line whose model and CLI version are 64 control characters each: short
    ASCII text, six bytes each once escaped in JSON."""
    line = json.loads(claude_text(uid, text))
    line["message"]["model"] = "\x01" * 64
    line["version"] = "\x1f" * 64
    return (json.dumps(line) + "\n").encode()


async def test_control_characters_in_session_info_never_stop_live_capture(
    manager: SessionWatcherManager, ledger: Path, src: Path
) -> None:
    rec = create_recording(ledger, "claude-code", src, pid=os.getpid())
    assert await manager.start_watch(rec.name, src, "claude-code")
    written = numbered_user(0) + control_named("a1", "hello") + numbered_user(1)
    append(src, written[: -len(numbered_user(1))])
    with trio.fail_after(LIMIT):
        await manager.wait_synced(rec.name)
    append(src, written[-len(numbered_user(1)) :])
    with trio.fail_after(LIMIT):
        await manager.wait_synced(rec.name)
    assert manager.active_sessions() == [rec.name]
    assert manager.statistics().failed == 0
    marker = read_marker(rec.session_dir)
    assert marker.source_offset == len(written)
    assert marker.entry_count == 3
    assert marker.model == "\x01" * 64  # type: ignore[attr-defined]  # extra key
    entries = read_raw(rec.session_dir / RAW).entries
    assert [e.content for e in entries] == ["message 0", "hello", "message 1"]
