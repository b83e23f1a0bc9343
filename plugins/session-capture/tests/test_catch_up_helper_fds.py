"""A catch-up's helper is forked from a threaded daemon and keeps every descriptor the daemon
had open at that moment: a lock (`flock`) another thread held then stays held by the helper
after that thread closes its descriptor, until the helper ends (up to `HELPER_TIMEOUT`, 120 s,
for a stuck one). Other recordings' steps and the hooks' in-process fallbacks wait on it."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ox_session_capture import blocks
from ox_session_capture import tail as tail_mod
from ox_session_capture.adapters import load_adapter
from ox_session_capture.recording import create_recording
from ox_session_capture.records import update_marker
from ox_session_capture.recover import drain
from ox_session_capture.tail import SourceTail
from ox_session_capture.testing import claude_user
from ox_session_capture.testing.fixtures import home as home
from ox_session_capture.testing.fixtures import src as src

pytestmark = pytest.mark.skipif(not blocks.helpers_possible(), reason="needs fork and 2 cores")


def _reset(marker: Any) -> None:
    marker.source_offset = marker.start_offset = 0


def _hanging(marks: Path) -> Any:
    def hang(*args: object) -> blocks.Block:
        (marks / str(os.getpid())).touch()  # past its set-up: converting (forever)
        time.sleep(3600)
        raise AssertionError("unreachable")

    return hang


def test_a_lock_released_by_another_thread_is_not_kept_by_a_helper(
    home: Path, src: Path, ledger: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src.write_bytes(b"".join(claude_user(f"u{n}", "text " * 20) for n in range(400)))
    monkeypatch.setattr(tail_mod, "HELPED_MIN_BYTES", 1)
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setattr(blocks, "convert_next", _hanging(marks))  # stuck: the worst case
    monkeypatch.setattr(blocks, "HELPER_TIMEOUT", 5.0)
    rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home)
    update_marker(rec.session_dir, _reset)
    tail = SourceTail(
        rec.session_dir, load_adapter("claude-code"), src, batch_bytes=4000, commit_bytes=1 << 30
    )
    tail._helped = True
    tail.resume()

    lock_file = tmp_path / "other-recording.lock"
    held = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(held, fcntl.LOCK_EX)  # another thread's step holds its recording's lock
    worker = threading.Thread(target=drain, args=(tail,))
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while len(list(marks.iterdir())) < tail_mod.HELPERS and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(list(marks.iterdir())) == tail_mod.HELPERS, "no helpers converting"
        os.close(held)  # that step ends: its lock is released
        again = os.open(lock_file, os.O_RDWR | os.O_CLOEXEC)
        try:
            fcntl.flock(again, fcntl.LOCK_EX | fcntl.LOCK_NB)
            taken = True
        except BlockingIOError:
            taken = False
        finally:
            os.close(again)
        assert taken, "the helper still holds the released lock"
    finally:
        worker.join(60)
