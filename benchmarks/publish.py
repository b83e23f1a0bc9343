"""Benchmark: publishing 50 finished sessions, against plain git committing and pushing each.

    uv run python benchmarks/publish.py [--sessions 50]

Builds a bare remote and a ledger clone holding N finished sessions in its cache (summaries and
exports written: upload-only items), then, best of 3 each:

- baseline: a plain git loop, per session: copy its files into `sessions/<name>/`, `git add`,
  `git commit`, `git push` (3 git processes a session);
- ox: the session-finalize handler as the daemon runs it: its sync service running, every
  item's `process_result` with four at a time (the manager's default `max_concurrent`), until
  the sync service has pushed the last commit. Sessions ready together are committed together
  (one commit and one push per batch; remote, branch, LFS facts learnt once; one conflict check
  per batch); every git process ox starts is counted.

Prints seconds, the ratio to the baseline (the bar: at most 1.0) and git processes a session
(the bar: at most 4 on average).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import _stdlib_queue  # noqa: F401 - before trio: see that module
import trio

from ox_core import HandlerContext, RunResult
from ox_core.sync_signal import SyncConfig, SyncSignal
from ox_core.testing import wait_for
from ox_handler_session_finalize.git import GIT_PROCESSES
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_handler_session_finalize.testing import (
    GIT_SAFE_ENV,
    bare_remote,
    finished_session,
    plain_git_publish,
    run,
)
from ox_session_capture import records

RUNS = 3
CONCURRENT = 4
IDENTITY = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}


def setup(root: Path, count: int) -> tuple[Path, Path, list[str]]:
    remote = bare_remote(root / "remote.git")
    ledger = root / "ledger"
    run(["git", "clone", "-q", str(remote), str(ledger)])
    cache = records.ledger_cache_sessions(ledger)
    names = [f"2026-11-25T10-{i // 60:02d}-dev-a{i:04d}" for i in range(count)]
    for name in names:
        finished_session(cache, name)
    return remote, ledger, names


def baseline(root: Path, count: int) -> float:
    """Plain git: add, commit, push per session (the files copied from ox's cache first)."""
    _remote, ledger, names = setup(root, count)
    cache = records.ledger_cache_sessions(ledger)
    env = {**os.environ, **GIT_SAFE_ENV, **IDENTITY}
    started = time.perf_counter()
    plain_git_publish(ledger, cache, names, env)
    return time.perf_counter() - started


async def ox(root: Path, count: int) -> tuple[float, int]:
    remote, ledger, names = setup(root, count)
    handler = SessionFinalizeHandler(user_cache_dir=root / "usercache")
    handler.attach(
        HandlerContext(
            ledger=ledger,
            enqueue=lambda item: True,
            sync_signal=SyncSignal(),
            sync_config=lambda: SyncConfig(interval=3600, jitter=0),
        )
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(handler.serve, ledger)
        syncer = handler.syncer(ledger)
        await wait_for("the first sync", lambda: syncer.state.last_ok is not None)
        before = GIT_PROCESSES.started
        started = time.perf_counter()
        items = await handler.detect(ledger)
        assert len(items) == count, len(items)
        limiter = trio.CapacityLimiter(CONCURRENT)

        async def one(item: object) -> None:
            async with limiter:
                await handler.process_result(item, RunResult())  # type: ignore[arg-type]

        async with trio.open_nursery() as work:
            for item in items:
                work.start_soon(one, item)
        head = run(["git", "-C", str(ledger), "rev-parse", "HEAD"])
        await wait_for(
            "the push", lambda: run(["git", "-C", str(remote), "rev-parse", "HEAD"]) == head
        )
        elapsed = time.perf_counter() - started
        processes = GIT_PROCESSES.started - before
        nursery.cancel_scope.cancel()
    published = run(["git", "-C", str(remote), "ls-tree", "--name-only", "HEAD", "sessions/"])
    assert len(published.split()) == count == len(names)
    return elapsed, processes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    args = parser.parse_args()
    count = args.sessions
    os.environ.update(GIT_SAFE_ENV)
    os.environ.update(IDENTITY)
    base_times, ox_times, processes = [], [], []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory(prefix="ox-bench-publish-") as tmp:
            base_times.append(baseline(Path(tmp), count))
        with tempfile.TemporaryDirectory(prefix="ox-bench-publish-") as tmp:
            elapsed, started = trio.run(ox, Path(tmp), count)
            ox_times.append(elapsed)
            processes.append(started)
    base, best = min(base_times), min(ox_times)
    per_session = min(processes) / count
    print(f"publishing {count} finished sessions (best of {RUNS})")
    print(f"{'':32} {'seconds':>8} {'ratio':>6} {'git/session':>12}")
    print(f"{'plain git add/commit/push each':32} {base:8.2f} {1.0:6.2f} {3.0:12.2f}")
    print(f"{'ox (batched, sync pushes)':32} {best:8.2f} {best / base:6.2f} {per_session:12.2f}")
    ok = best <= base and per_session <= 4
    print("within the bar (ratio <= 1.0, <= 4 git processes a session):", "yes" if ok else "NO")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
