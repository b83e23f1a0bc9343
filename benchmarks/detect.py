"""Benchmark: session-finalize `detect` against a bare `os.scandir` + `stat` walk of the same tree.

    uv run python benchmarks/detect.py

Builds a ledger with N finished, committed sessions plus 100 that need work (50 recordings in
the ledger cache without artifacts, 50 committed sessions with `.needs-summary`), then times:

- baseline: `os.scandir` of each place and of every session folder, `stat` of every file;
- detect (cold): the handler's scan with an empty summary cache (reads every `summary.json`);
- detect (warm): the same scanner again (the daemon's steady state: `summary.json` unchanged);
- handler.detect: the async method as the manager calls it (scan in a worker thread).

Best of 3 runs each; prints seconds and the ratio to the baseline, for N = 10,000 and 20,000.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import _stdlib_queue  # noqa: F401 - before trio: see that module
import trio

from ox_handler_session_finalize.detect import Scanner
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_session_capture import records

NEED_WORK = 100
RUNS = 3

RAW = (
    json.dumps({"_meta": {"schema_version": "1", "agent_id": "a1", "agent_type": "claude-code"}})
    + "\n"
    + json.dumps({"ts": "2026-11-25T10:00:00Z", "type": "user", "content": "refactor it " * 20})
    + "\n"
    + json.dumps({"ts": "2026-11-25T10:01:00Z", "type": "assistant", "content": "done " * 40})
    + "\n"
)
SUMMARY = json.dumps({"title": "Refactor the parser", "summary": "x" * 200, "summary_attempts": 1})
META = json.dumps({"session_name": "x", "title": "Refactor the parser", "files": {}})


def build(root: Path, finished: int) -> Path:
    ledger = root / "ledger"
    committed = records.committed_sessions(ledger)
    cache = records.ledger_cache_sessions(ledger)
    for i in range(finished + NEED_WORK // 2):
        folder = committed / f"2026-11-25T10-00-dev-{i:06d}"
        folder.mkdir(parents=True)
        (folder / "raw.jsonl").write_text(RAW)
        (folder / "summary.json").write_text(SUMMARY)
        (folder / "summary.md").write_text("# Refactor the parser\n")
        (folder / "session.md").write_text("# Session\n")
        (folder / "meta.json").write_text(META)
        if i >= finished:
            (folder / ".needs-summary").touch()
    for i in range(NEED_WORK // 2):
        folder = cache / f"2026-11-25T11-00-dev-{i:06d}"
        folder.mkdir(parents=True)
        (folder / "raw.jsonl").write_text(RAW)
    return ledger


def baseline(ledger: Path, user_cache: Path) -> int:
    """The least any scan must do: list each place and each folder, stat each file."""
    count = 0
    roots = [
        records.ledger_cache_sessions(ledger),
        records.committed_sessions(ledger),
        records.user_cache_sessions(ledger, user_cache),
    ]
    for root in roots:
        try:
            it = os.scandir(root)
        except FileNotFoundError:
            continue
        with it:
            for entry in it:
                if not entry.is_dir(follow_symlinks=False):
                    continue
                with os.scandir(entry.path) as files:
                    for f in files:
                        f.stat(follow_symlinks=False)
                        count += 1
    return count


def best(fn: Callable[[], object]) -> tuple[float, object]:
    times, result = [], None
    for _ in range(RUNS):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def measure(finished: int) -> list[tuple[str, float, int]]:
    # tmpfs when there is one: building 100,000 files on a slow disk would dominate the run.
    shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    root = Path(tempfile.mkdtemp(prefix="ox-bench-detect-", dir=shm))
    try:
        ledger = build(root, finished)
        user_cache = root / "usercache"
        base, _ = best(lambda: baseline(ledger, user_cache))

        def cold() -> int:
            return len(Scanner(ledger, user_cache).scan())

        warm_scanner = Scanner(ledger, user_cache)
        warm_scanner.scan()
        cold_t, cold_n = best(cold)
        warm_t, warm_n = best(lambda: len(warm_scanner.scan()))
        handler = SessionFinalizeHandler(user_cache_dir=user_cache)

        async def via_handler() -> int:
            return len(await handler.detect(ledger))

        trio.run(via_handler)  # fill its summary cache, as the daemon's first cycle does
        handler_t, handler_n = best(lambda: trio.run(via_handler))
        for n in (cold_n, warm_n, handler_n):
            assert n == NEED_WORK, n
        return [
            ("baseline scandir+stat", base, NEED_WORK),
            ("detect (cold)", cold_t, int(cold_n)),  # type: ignore[call-overload]
            ("detect (warm)", warm_t, int(warm_n)),  # type: ignore[call-overload]
            ("handler.detect (warm)", handler_t, int(handler_n)),  # type: ignore[call-overload]
        ]
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 20_000]
    print(f"{'sessions':>9}  {'measure':<24}{'seconds':>9}  {'x baseline':>10}  {'found':>6}")
    per_size: dict[int, dict[str, float]] = {}
    for size in sizes:
        rows = measure(size)
        base = rows[0][1]
        per_size[size] = {name: t for name, t, _ in rows}
        for name, seconds, found in rows:
            print(f"{size:>9}  {name:<24}{seconds:>9.3f}  {seconds / base:>10.2f}  {found:>6}")
    if len(sizes) >= 2:
        a, b = sizes[0], sizes[-1]
        print(f"\ngrowth from {a} to {b} sessions ({b / a:.1f}x the sessions):")
        for name in per_size[a]:
            print(f"  {name:<24}{per_size[b][name] / per_size[a][name]:>6.2f}x the time")


if __name__ == "__main__":
    main()
