"""A part of an agent session that finalization ended (its agent died; the daemon's first scan
after a restart comes before its liveness check) and published: the agent session's next part,
when the agent is resumed, starts where that part stopped reading, as after any stop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from ox_core import RunResult
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_session_capture import records, transcript
from ox_session_capture.parts import begin_part
from ox_session_capture.recording import stop_recording
from ox_session_capture.testing import append, claude_session_file, numbered_user

from .finalize_support import answer


async def test_a_resume_after_finalization_ended_a_part_starts_where_it_stopped(
    handler: SessionFinalizeHandler, ledger: Path, home: Path, dead_pid: int
) -> None:
    source = claude_session_file(home)
    sid = source.stem
    started = datetime.now(UTC) - timedelta(hours=1)
    first = begin_part(ledger, "claude-code", sid, str(source), pid=dead_pid, now=started)
    append(source, numbered_user(1) + numbered_user(2))
    ended_at = source.stat().st_size

    handler.keep_brief = True
    items = await handler.detect(ledger)  # stale: caught up and ended
    assert [i.payload["name"] for i in items] == [first.name]
    assert not (first.session_dir / records.MARKER).exists()
    await handler.build_prompt(items[0])
    outcome = await handler.process_result(items[0], RunResult(output=answer()))
    assert outcome.kind == "published"
    assert not first.session_dir.exists()  # the commit holds it: the cache copy went

    append(source, numbered_user(3))  # the resumed process writes before its hook runs
    second = begin_part(ledger, "claude-code", sid, str(source), pid=0, resumed=True)
    assert second.name != first.name
    assert second.start_offset == ended_at
    stop_recording(second.session_dir)
    entries = transcript.read_raw(second.session_dir / records.RAW).entries
    assert [e.content for e in entries] == ["message 3"]
