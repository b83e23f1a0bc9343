"""A recording being stopped while another actor works on its agent session: an agent's start
hook (a resumed process; from a CLI without a daemon, or the daemon while `session stop`
runs). The hook lands at the exact point through the stop's own drain, and must decide as if
the stop had finished: the new part starts where the stopped one stopped reading."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ox_session_capture import recording
from ox_session_capture.parts import begin_part
from ox_session_capture.recording import Recording, RecordingRejected, creation_lock
from ox_session_capture.records import RAW, read_marker
from ox_session_capture.recover import CatchUpResult
from ox_session_capture.service import SessionWatchService
from ox_session_capture.tail import SourceTail
from ox_session_capture.testing import append, claude_session_file, numbered_user


def texts(session_dir: Path) -> list[str]:
    lines = [json.loads(line) for line in (session_dir / RAW).read_text().splitlines()]
    return [str(e.get("content")) for e in lines if e.get("type") == "user"]


def hook_when_free(ledger: Path, call: threading.Thread) -> None:
    """Run the hook `call` now when nothing holds the ledger's creation lock; else start it,
    to decide once the holder (the stop) lets go."""
    try:
        with creation_lock(ledger, timeout=0):
            pass
    except RecordingRejected:
        call.start()
        return
    call.run()


def test_a_start_hook_during_a_stop_starts_the_next_part_where_the_stop_ended(
    ledger: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stop has set `stopped_at` and drained the file; the agent's resumed process writes a
    line and its start hook runs before the stop wrote where it stopped into the agent
    session's index. The new part must record that line (start at the stopped offset), not
    begin after it at the file's end."""
    source = claude_session_file(home)
    sid = source.stem
    first = begin_part(ledger, "claude-code", sid, str(source), pid=0)
    append(source, numbered_user(1))
    real_drain = recording.drain
    got: list[Recording] = []

    def resume() -> None:
        got.append(begin_part(ledger, "claude-code", sid, str(source), pid=0, resumed=True))

    hook = threading.Thread(target=resume)

    def drain_then_resume(tail: SourceTail) -> CatchUpResult:
        result = real_drain(tail)
        append(source, numbered_user(2))  # the resumed process's first line, before its hook
        hook_when_free(ledger, hook)
        return result

    monkeypatch.setattr(recording, "drain", drain_then_resume)
    stopped = recording.stop_recording(first.session_dir)
    if hook.ident is not None:
        hook.join()
    monkeypatch.setattr(recording, "drain", real_drain)
    assert stopped.entry_count == 1
    (second,) = got
    assert second.name != first.name
    assert second.start_offset == len(numbered_user(1))
    recording.stop_recording(second.session_dir)
    assert texts(first.session_dir) == ["message 1"]
    assert texts(second.session_dir) == ["message 2"]


def sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])


async def test_the_end_hook_of_a_process_that_gave_its_part_on_leaves_it_recording(
    ledger: Path, home: Path
) -> None:
    """Two processes of one agent session: the second resumed it while the first still ran
    (its start hook continued the live part, which now follows it). The first one's end hook
    must not stop the part the second one goes on writing to: the second's lines would be
    recorded by nothing. The second's own end hook stops it."""
    source = claude_session_file(home)

    def hook(event: str, pid: int) -> dict[str, object]:
        return {"adapter": "claude-code", "event": event, "agent_session_id": source.stem,
                "file": str(source), "pid": pid, "resumed": pid == second.pid}  # fmt: skip

    svc = SessionWatchService(ledger)
    first, second = sleeper(), sleeper()
    try:
        a = await svc.session_hook(hook("start", first.pid))
        b = await svc.session_hook(hook("start", second.pid))
        assert (b["name"], b["continued"]) == (a["name"], True)
        append(source, numbered_user(1))
        assert (await svc.session_hook(hook("end", first.pid)))["name"] is None
        session_dir = Path(str(a["session_dir"]))
        assert read_marker(session_dir).stopped_at is None
        append(source, numbered_user(2))  # the second process goes on
        ended = await svc.session_hook(hook("end", second.pid))
        assert (ended["name"], ended["entry_count"]) == (a["name"], 2)
        assert texts(session_dir) == ["message 1", "message 2"]
    finally:
        for p in (first, second):
            p.kill()
            p.wait()
