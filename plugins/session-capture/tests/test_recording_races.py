"""Requests to record one session at the same time (an agent's hooks, `session watch`; threads
of the daemon or CLIs running without one) make one recording: the ledger's creation lock.
Without it, two hooks of one session at once made two recordings of one file in 30 of 30
tries, and every line was captured and published twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from ox_core.fs import lock_file
from ox_session_capture import recording
from ox_session_capture.parts import begin_part
from ox_session_capture.recording import Recording, RecordingRejected, create_recording
from ox_session_capture.records import MARKER, read_marker
from ox_session_capture.testing import claude_session_file

THREADS = 4
ROUNDS = 8


def sessions(ledger: Path) -> list[Path]:
    folder = ledger / ".ox" / "cache" / "sessions"
    return sorted(folder.iterdir()) if folder.exists() else []


def at_once(calls: list[Callable[[], Recording]]) -> list[Recording]:
    """Each of `calls` in its own thread, all released together; their results (an exception
    in any fails the test)."""
    barrier = threading.Barrier(len(calls))
    results: list[Recording] = []
    errors: list[BaseException] = []

    def run(call: Callable[[], Recording]) -> None:
        barrier.wait()
        try:
            results.append(call())
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def test_hooks_of_one_agent_session_at_once_make_one_part(ledger: Path, home: Path) -> None:
    for _ in range(ROUNDS):
        sid = str(uuid.uuid4())
        src = claude_session_file(home, sid)

        def hook(sid: str = sid, src: Path = src) -> Recording:
            return begin_part(ledger, "claude-code", sid, str(src), pid=os.getpid())

        got = at_once([hook] * THREADS)
        assert len({r.name for r in got}) == 1
        assert [r.continued for r in got].count(False) == 1  # one made it, the others joined
    assert len(sessions(ledger)) == ROUNDS
    assert all((folder / MARKER).exists() for folder in sessions(ledger))


def test_watch_requests_and_hooks_of_one_file_at_once_make_one_recording(
    ledger: Path, home: Path
) -> None:
    for n in range(ROUNDS):
        sid = str(uuid.uuid4())
        src = claude_session_file(home, sid)

        def watch(src: Path = src) -> Recording:
            return create_recording(ledger, "claude-code", src, pid=os.getpid())

        def hook(sid: str = sid, src: Path = src) -> Recording:
            return begin_part(ledger, "claude-code", sid, str(src), pid=os.getpid())

        # Half the threads ask as `session watch` does, half as a hook does, in turn first.
        got = at_once([watch, hook] * (THREADS // 2) if n % 2 else [hook, watch] * (THREADS // 2))
        assert len({r.name for r in got}) == 1
    assert len(sessions(ledger)) == ROUNDS
    files = {read_marker(folder).session_file for folder in sessions(ledger)}
    assert len(files) == ROUNDS


HOOK_PROCESS = r"""
import json, os, sys
from pathlib import Path
from ox_session_capture.parts import begin_part
ledger, src_dir = Path(sys.argv[1]), Path(sys.argv[2])
print("ready", flush=True)
for arg in sys.argv[3:]:
    sid, gate = arg.split(":")
    os.read(int(gate), 1)  # EOF for every hook process at once, when the test closes the pipe
    rec = begin_part(ledger, "claude-code", sid, str(src_dir / f"{sid}.jsonl"), pid=os.getpid())
    print(json.dumps([sid, rec.name, rec.continued]), flush=True)
"""


def test_hooks_in_separate_processes_at_once_make_one_part(ledger: Path, home: Path) -> None:
    """What CLIs do with no daemon running: each hook records in its own process. Each round
    releases the processes together, by closing the write end of a pipe they all wait on once
    all have answered the round before."""
    sids = [str(uuid.uuid4()) for _ in range(ROUNDS)]
    src_dir = claude_session_file(home, sids[0]).parent
    for sid in sids:
        claude_session_file(home, sid)
    gates = [os.pipe() for _ in sids]
    argv = [sys.executable, "-c", HOOK_PROCESS, str(ledger), str(src_dir)]
    argv += [f"{sid}:{r}" for sid, (r, _) in zip(sids, gates, strict=True)]
    readers = [r for r, _ in gates]
    procs = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, pass_fds=readers)
        for _ in range(THREADS)
    ]
    answers = []
    try:
        for r in readers:
            os.close(r)
        assert [p.stdout.readline() for p in procs if p.stdout] == ["ready\n"] * THREADS
        for _, w in gates:
            os.close(w)  # this round's release
            answers += [json.loads(p.stdout.readline()) for p in procs if p.stdout]
        for proc in procs:
            proc.communicate(timeout=120)
    finally:
        for proc in procs:
            proc.kill()
    assert [proc.returncode for proc in procs] == [0] * THREADS
    assert len(answers) == THREADS * ROUNDS
    for sid in sids:
        mine = [(name, continued) for s, name, continued in answers if s == sid]
        assert len({name for name, _ in mine}) == 1
        assert [continued for _, continued in mine].count(False) == 1
    assert len(sessions(ledger)) == ROUNDS


def test_a_creation_lock_held_too_long_refuses_and_makes_nothing(
    ledger: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recording, "CREATION_LOCK_TIMEOUT", 0.2)
    src = claude_session_file(home)
    cache = ledger / ".ox" / "cache"
    cache.mkdir(parents=True)
    with lock_file(cache / recording.CREATION_LOCK):  # a stuck creation elsewhere
        with pytest.raises(RecordingRejected, match="cannot record now"):
            create_recording(ledger, "claude-code", src, pid=1)
        with pytest.raises(RecordingRejected, match="cannot record now"):
            begin_part(ledger, "claude-code", "s", str(src), pid=1)
    assert sessions(ledger) == []
    assert create_recording(ledger, "claude-code", src, pid=1).continued is False  # released


@pytest.mark.parametrize("what", ["a link to a file", "a FIFO"])
def test_a_creation_lock_that_is_not_a_plain_file_is_refused(
    ledger: Path, home: Path, tmp_path: Path, what: str
) -> None:
    """A lock file swapped for a link is never followed (nor written through), a FIFO never
    opened: the request is refused, nothing is made."""
    src = claude_session_file(home)
    cache = ledger / ".ox" / "cache"
    cache.mkdir(parents=True)
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    if what == "a FIFO":
        os.mkfifo(cache / recording.CREATION_LOCK)
    else:
        (cache / recording.CREATION_LOCK).symlink_to(target)
    with pytest.raises(RecordingRejected, match="refused"):
        create_recording(ledger, "claude-code", src, pid=1)
    assert target.read_text() == "keep"
    assert sessions(ledger) == []


def test_a_cache_folder_that_is_a_link_is_refused_before_any_lock(
    ledger: Path, home: Path, tmp_path: Path
) -> None:
    """A teammate may commit `.ox/cache` as a link: no lock file is made through it."""
    src = claude_session_file(home)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (ledger / ".ox").mkdir(parents=True)
    (ledger / ".ox" / "cache").symlink_to(elsewhere)
    for request in (
        lambda: create_recording(ledger, "claude-code", src, pid=1),
        lambda: begin_part(ledger, "claude-code", "s", str(src), pid=1),
    ):
        with pytest.raises(RecordingRejected):
            request()
    assert list(elsewhere.iterdir()) == []
