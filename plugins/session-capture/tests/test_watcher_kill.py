"""Acceptance: exactly once across `kill -9`. A writer process appends to a claude-code session
file at ~1,000 lines/s while the watcher runs in its own process, SIGKILLed at 30 random
moments and restarted each time; at the end `raw.jsonl` holds every line once, in order.

Watcher processes are forked from a server that imported everything once (see
`watch_support.py forkserver`), so a restart costs milliseconds rather than a second of imports.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ox_session_capture.journal import Settled, settle_journal
from ox_session_capture.recording import create_recording
from ox_session_capture.records import JOURNAL, RAW, read_marker
from ox_session_capture.testing import claude_session_file
from ox_session_capture.transcript import read_raw

HELPER = Path(__file__).with_name("watch_support.py")
KILLS = int(os.environ.get("OX_KILLS", "30"))
RATE = 1000.0  # lines per second
WRITE_SECONDS = 12.0


class ForkServer:
    """The `forkserver` helper: spawns watcher processes and SIGKILLs them on request."""

    def __init__(self, ledger: Path, home: Path, log: Path) -> None:
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, str(HELPER), "forkserver", str(ledger), str(home)],
                env={**os.environ, "HOME": str(home)},
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=out,
                start_new_session=True,
            )

    def _ask(self, command: str) -> str:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(command.encode() + b"\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().decode().strip()
        assert answer, f"fork server died:\n{self.log.read_text()[-3000:]}"
        return answer

    def spawn(self) -> int:
        return int(self._ask("spawn"))

    def kill(self, pid: int) -> None:
        assert self._ask(f"kill {pid}") == "killed"

    def wait_following(self, pid: int) -> None:
        """Until watcher `pid` logs that it follows the file (bounded)."""
        needle = f"{pid} ox_session_capture.watcher watching".encode()
        deadline = time.monotonic() + 60
        while needle not in self.log.read_bytes():
            assert time.monotonic() < deadline, self.log.read_text()[-3000:]
            time.sleep(0.005)

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    home, ledger, logs = tmp_path / "home", tmp_path / "ledger", tmp_path / "logs"
    logs.mkdir()
    ledger.mkdir()
    src = claude_session_file(home)
    rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home)
    count = int(RATE * WRITE_SECONDS)
    seed = int(os.environ.get("OX_KILL_SEED", "0")) or random.randrange(1 << 30)
    rng = random.Random(seed)
    server = ForkServer(ledger, home, logs / "watchers.log")
    with open(logs / "writer.log", "ab") as out:
        writer = subprocess.Popen(
            [sys.executable, str(HELPER), "write", str(src), str(count), str(RATE)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    mid_append = 0
    offsets = []
    try:
        # Spread the kills over the writer's run: mostly while following, some at start-up.
        gap = WRITE_SECONDS / KILLS
        last = 0
        for n in range(KILLS):
            pid = server.spawn()
            if n % 5 != 4:
                server.wait_following(pid)
                # On a loaded machine a watcher may be killed before it captured anything:
                # wait (bounded) until this one has moved the offset, while there is more.
                deadline = time.monotonic() + 60
                while read_marker(rec.session_dir).source_offset <= last:
                    if writer.poll() is not None and last >= src.stat().st_size:
                        break
                    assert time.monotonic() < deadline, "a watcher made no progress"
                    time.sleep(0.005)
            time.sleep(rng.uniform(0.0, gap) if n % 5 != 4 else rng.uniform(0, 0.05))
            server.kill(pid)
            mid_append += (rec.session_dir / JOURNAL).exists()
            offsets.append(read_marker(rec.session_dir).source_offset)
            last = offsets[-1]
        assert writer.wait(timeout=60) == 0
        size = src.stat().st_size
        server.spawn()
        deadline = time.monotonic() + 30
        while read_marker(rec.session_dir).source_offset < size:
            assert time.monotonic() < deadline, "the restarted watcher did not catch up"
            time.sleep(0.02)
    finally:
        server.close()
        kill_group(writer)
    # The last watcher was killed too (SIGKILL, after it caught up): it may have died between
    # updating the marker and deleting the journal, a state that settling must keep as is.
    size_before = (rec.session_dir / RAW).stat().st_size
    assert settle_journal(rec.session_dir) in (Settled.NONE, Settled.KEPT)
    assert (rec.session_dir / RAW).stat().st_size == size_before
    raw = read_raw(rec.session_dir / RAW)
    assert raw.bad_lines == 0  # no torn batch survived a kill
    entries = raw.entries
    contents = [e.content for e in entries]
    info = f"seed {seed}, {mid_append} kills mid-append, offsets {offsets}"
    assert len(contents) == len(set(contents)), f"duplicates; {info}"
    assert contents == [f"message {n}" for n in range(count)], info
    assert read_marker(rec.session_dir).entry_count == count
    assert not (rec.session_dir / JOURNAL).exists()
    # The kills really interrupted watchers that were making progress (how many depends on
    # the machine's load, which the writer does not wait for).
    assert len(set(offsets)) >= 5, info
