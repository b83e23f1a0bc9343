"""Benchmark: how long a stop holds the ledger's creation lock, for a large recording.

    uv run python benchmarks/stop.py [--mb 100] [--runs 2]

Every agent hook of a ledger (each session's start and end) waits on its creation lock, so
what a stop does under it is time other agents wait inside their hooks' budgets. A recording
of `--mb` of claude-code session file (caught up, as its watcher leaves it) gets one more
line, then `stop_recording`: printed are the whole stop and the time under the lock, against
the baseline of reading the recording's `raw.jsonl` for the ids it holds (`captured_ids`,
what a stop did under the lock before it went on with its catch-up's tail) in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import _stdlib_queue  # noqa: F401 - before trio: see that module

from ox_core.testing import make_ledger
from ox_session_capture import recording
from ox_session_capture.raw_lines import captured_ids
from ox_session_capture.recording import create_recording, stop_recording
from ox_session_capture.records import RAW
from ox_session_capture.recover import catch_up
from ox_session_capture.testing import claude_user


def one_run(tmp: Path, megabytes: int) -> tuple[float, float, float]:
    """(whole stop, under the creation lock, reading raw.jsonl's ids) in seconds."""
    home = tmp / "home"
    folder = home / ".claude/projects/-home-dev-stop"
    folder.mkdir(parents=True)
    src = folder / f"{uuid.uuid4()}.jsonl"
    src.touch()
    ledger = make_ledger(tmp / "team").path
    rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home)
    with open(src, "ab") as f:
        while f.tell() < megabytes << 20:
            f.write(b"".join(claude_user(str(uuid.uuid4()), "a prompt " * 40) for _ in range(500)))
    catch_up(rec.session_dir, home=home)  # as the watcher leaves a live recording
    raw = rec.session_dir / RAW
    start = time.perf_counter()
    captured_ids(raw, set(), raw.stat().st_size, {})
    baseline = time.perf_counter() - start
    with open(src, "ab") as f:
        f.write(claude_user(str(uuid.uuid4()), "the last prompt"))
    held: list[float] = []
    real = recording.creation_lock_of

    @contextlib.contextmanager
    def timed(session_dir: Path, timeout: float | None = None) -> Iterator[None]:
        with real(session_dir, timeout):
            start = time.perf_counter()
            try:
                yield
            finally:
                held.append(time.perf_counter() - start)

    recording.creation_lock_of = timed  # type: ignore[assignment]
    try:
        start = time.perf_counter()
        stop_recording(rec.session_dir, home=home)
        whole = time.perf_counter() - start
    finally:
        recording.creation_lock_of = real
    return whole, held[0], baseline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=100, help="session file size")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    rows = []
    for run in range(args.runs):
        tmp = Path(tempfile.mkdtemp(prefix=f"ox-bench-stop-{run}-"))
        try:
            rows.append(one_run(tmp, args.mb))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    whole, held, baseline = (min(r[i] for r in rows) for i in range(3))
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}; "
          f"{args.mb} MB session file, best of {args.runs}")  # fmt: skip
    print(f"{'':44} {'ms':>8}")
    print(f"{'stop_recording, whole':44} {whole * 1000:8.0f}")
    print(f"{'of it under the creation lock':44} {held * 1000:8.0f}")
    print(f"{'baseline: reading raw.jsonl for its ids':44} {baseline * 1000:8.0f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
