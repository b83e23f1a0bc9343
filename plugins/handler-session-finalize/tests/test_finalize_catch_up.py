"""A recording whose watcher died: detect catches the raw file up from the agent's own session
file (the watcher's `recover.catch_up`), ends the recording, and the session is published."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ox_core import RunResult
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_session_capture import records, transcript
from ox_session_capture.testing import append, claude_session_file, claude_text, claude_user

from .finalize_support import answer, clone, write_raw

NAME = "2026-11-25T08-00-dev-a1"


async def test_stale_recording_is_caught_up_then_published(
    handler: SessionFinalizeHandler,
    ledger: Path,
    remote: Path,
    home: Path,
    tmp_path: Path,
    dead_pid: int,
) -> None:
    source = claude_session_file(home)
    prompt = (
        "Please add retries with exponential backoff to the HTTP client and cover them with tests."
    )
    append(source, claude_user("11111111-1111-4111-8111-111111111111", prompt))
    append(source, claude_text("22222222-2222-4222-8222-222222222222", "Added retries and tests."))
    folder = records.ledger_cache_sessions(ledger) / NAME
    write_raw(folder, [])  # the header only: the watcher died before its first batch
    marker = {
        "agent_id": "a1",
        "session_id": "ses_0192",
        "started_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "adapter_name": "claude",
        "session_file": str(source),
        "parent_pid": dead_pid,
        "watch_mode": "tail",
        "source_offset": 0,
        "start_offset": 0,
    }
    (folder / records.MARKER).write_text(json.dumps(marker))

    items = await handler.detect(ledger)
    assert [i.payload["kind"] for i in items] == ["full"]
    assert not (folder / records.MARKER).exists()
    captured = transcript.read_raw(folder / records.RAW).entries
    assert [(e.type, e.content) for e in captured] == [
        ("user", prompt),
        ("assistant", "Added retries and tests."),
    ]
    await handler.build_prompt(items[0])
    await handler.process_result(items[0], RunResult(output=answer()))
    check = clone(remote, tmp_path / "check")
    assert prompt in (check / "sessions" / NAME / "session.md").read_text()


def test_ending_a_stale_recording_removes_its_commit_slots(tmp_path: Path) -> None:
    from ox_handler_session_finalize.staleness import end_recording
    from ox_session_capture.commit_slots import SLOTS
    from ox_session_capture.journal import MarkerFile, append_committed, set_committed

    folder = tmp_path / NAME
    write_raw(folder, [])
    marker = records.RecordingMarker(source_offset=0)
    set_committed(marker, (folder / records.RAW).stat().st_size)
    records.atomic_write_model(folder / records.MARKER, marker)
    markers = MarkerFile(folder)
    assert append_committed(markers, markers.current(), b'{"type":"user"}\n', 16, 1, "f")
    assert (folder / SLOTS).exists()
    assert end_recording(folder, records.read_marker(folder), lambda *_: None)
    assert not (folder / records.MARKER).exists()
    assert not (folder / SLOTS).exists()
    assert (folder / records.RAW).read_bytes().endswith(b'{"type":"user"}\n')


def test_a_stale_recording_that_a_resumed_agent_continued_is_left_to_it(
    tmp_path: Path, home: Path, dead_pid: int
) -> None:
    """The scan judged the recording stale (its agent died); while it caught the file up, the
    agent's resumed process ran its start hook and continued that part. Ending it now would
    leave the running agent unrecorded: it is left, and judged again by the next scan."""
    import sys

    from ox_handler_session_finalize.staleness import end_recording
    from ox_session_capture.parts import begin_part

    ledger = tmp_path / "ledger"
    ledger.mkdir()
    source = claude_session_file(home)
    sid = source.stem
    rec = begin_part(ledger, "claude-code", sid, str(source), pid=dead_pid)
    judged = records.read_marker(rec.session_dir)
    resumed = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:

        def resumed_meanwhile(folder: Path, marker: object) -> None:
            again = begin_part(ledger, "claude-code", sid, str(source), pid=resumed.pid,
                               resumed=True)  # fmt: skip
            assert (again.name, again.continued) == (rec.name, True)

        assert not end_recording(rec.session_dir, judged, resumed_meanwhile)
        marker = records.read_marker(rec.session_dir)
        assert (marker.parent_pid, marker.stopped_at) == (resumed.pid, None)
        # Judged with the agent it has now (as the next scan would, once that one is gone).
        assert end_recording(rec.session_dir, marker, lambda *_: None)
        assert not (rec.session_dir / records.MARKER).exists()
    finally:
        resumed.kill()
        resumed.wait()
