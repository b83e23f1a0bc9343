"""Benchmark: the session watcher's append latency and catch-up throughput.

    uv run python benchmarks/tail.py

1. Latency: a writer process appends 1,000 claude-code lines, one every 2-18 ms (random),
   to a session file followed by a running `SessionWatcherManager`; for each line, the time
   from its append to the end of the watcher step that made it durable in `raw.jsonl` (fsync,
   marker advanced). Prints p50 / p99 / max. Goal: p50 <= 100 ms, p99 <= 250 ms.
2. Catch-up: a ~100 MB claude-code session file (the real fixture's line kinds, plus tool
   calls and tool results, fresh ids per line) brought into `raw.jsonl` by `catch_up`,
   against a baseline that only reads each line and `json.loads` it. Best of 4 (interleaved);
   prints MB/s and the ratio (goal, issue 17: >= 0.8 x baseline), and the CPU time of both,
   the catch-up's helper processes included (`ox_session_capture.blocks`: two of them
   convert the blocks while the tail folds them in, so the wall time is less than the CPU
   time).
3. Redaction alone: `LedgerRedactor.many` over the benign corpus (ordinary code and prose)
   and over the secrets corpus (every shape, as written and inside a JSON tool input), in
   batches of 64 texts as the watcher sends them; prints MB/s.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import _stdlib_queue  # noqa: F401 - before trio: see that module
import trio

from ox_session_capture.commit_slots import set_committed
from ox_session_capture.recording import create_recording
from ox_session_capture.records import RAW, RecordingMarker, read_marker, update_marker
from ox_session_capture.recover import catch_up
from ox_session_capture.redact import LedgerRedactor
from ox_session_capture.watcher import SessionWatcherManager

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_TESTS = ROOT / "plugins/session-capture/tests"
FIXTURE = PLUGIN_TESTS / "data/sessions/claude-ok-resume.jsonl"
PROJECT = ".claude/projects/-home-dev-demo-project"
APPENDS = 1000
TARGET_BYTES = 100 * 1024 * 1024
RUNS = 4

WRITER = r"""
import json, os, random, sys, time
path, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = random.Random(7)
fd = os.open(path, os.O_WRONLY | os.O_APPEND)
stamps = []
for n in range(count):
    line = json.dumps({"type": "user", "uuid": f"lat-{n}", "timestamp": "2026-11-24T00:38:26Z",
                       "message": {"role": "user", "content": f"message {n}"}}) + "\n"
    stamps.append(time.monotonic())
    os.write(fd, line.encode())
    time.sleep(rng.uniform(0.002, 0.018))
with open(out, "w") as f:
    json.dump(stamps, f)
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latency(tmp: Path) -> list[float]:
    home, ledger = tmp / "home", tmp / "ledger"
    ledger.mkdir(parents=True)
    src = home / PROJECT / "latency.jsonl"
    src.parent.mkdir(parents=True)
    src.touch()
    rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home)
    stamps_file = tmp / "stamps.json"
    durable: list[float] = []

    async def main() -> None:
        manager = SessionWatcherManager(ledger, home=home)
        async with trio.open_nursery() as nursery:
            await nursery.start(manager.run)
            await manager.start_watch(rec.name, src, "claude-code")
            writer = await trio.lowlevel.open_process(
                [sys.executable, "-c", WRITER, str(src), str(APPENDS), str(stamps_file)]
            )
            seen = 0
            while seen < APPENDS:
                await manager.wait_step(rec.name)
                now = time.monotonic()
                count = read_marker(rec.session_dir).entry_count
                durable.extend([now] * (count - seen))
                seen = count
            await writer.wait()
            await manager.stop_all()
            nursery.cancel_scope.cancel()

    trio.run(main)
    stamps = json.loads(stamps_file.read_text())
    return [(d - s) * 1000 for d, s in zip(durable, stamps, strict=True)]


def synthetic_lines() -> list[dict[str, object]]:
    """One "turn" pattern: the real fixture's lines (attachments, API records, two prompts and
    answers), then 40 tool rounds in claude's format (assistant text + `tool_use`, a user
    `tool_result`), as a working session has."""
    lines = [json.loads(line) for line in FIXTURE.read_bytes().splitlines()]
    for n in range(40):
        lines.append(
            {
                "type": "assistant",
                "uuid": "x",
                "timestamp": "2026-11-24T00:38:27Z",
                "message": {
                    "role": "assistant",
                    "model": "claude-opus-5-5",
                    "content": [
                        {"type": "text", "text": f"Step {n}: let me check the failing test " * 3},
                        {
                            "type": "tool_use",
                            "id": f"toolu_{n}",
                            "name": "Bash",
                            "input": {"command": "uv run pytest -q -x", "description": "tests"},
                        },
                    ],
                },
            }
        )
        lines.append(
            {
                "type": "user",
                "uuid": "x",
                "timestamp": "2026-11-24T00:38:28Z",
                "message": {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": f"toolu_{n}",
                            "content": "collected 120 items\n" + "." * 1500 + "\n120 passed",
                        }
                    ],
                },
            }
        )
    return lines


def build_big_file(path: Path) -> int:
    templates = synthetic_lines()
    size = 0
    with open(path, "wb") as f:
        while size < TARGET_BYTES:
            for obj in templates:
                if "uuid" in obj:
                    obj = {**obj, "uuid": str(uuid.uuid4())}
                data = (json.dumps(obj) + "\n").encode()
                f.write(data)
                size += len(data)
    return size


def baseline(path: Path) -> tuple[float, float]:
    """(wall, CPU) seconds to read and `json.loads` every line."""
    start, cpu = time.perf_counter(), time.process_time()
    with open(path, "rb") as f:
        for line in f:
            json.loads(line)
    return time.perf_counter() - start, time.process_time() - cpu


def _cpu_with_helpers() -> float:
    """CPU seconds of this process and of its reaped children: the catch-up's helper."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def missed_everything(raw: Path) -> Callable[[RecordingMarker], None]:
    """A recording begun with the file (offset 0) that the watcher never followed: its
    commit point names the header alone, as `create_recording` writes it for an empty file."""

    def reset(marker: RecordingMarker) -> None:
        marker.source_offset = marker.start_offset = 0
        marker.source_fingerprint = None  # type: ignore[attr-defined]  # extra key
        set_committed(marker, raw.stat().st_size)

    return reset


def ours(tmp: Path, big: Path, run: int) -> tuple[float, float, int]:
    """(wall, CPU) seconds of `catch_up` over `big`, and the entries it appended."""
    home = tmp / "home"
    src = home / PROJECT / f"catchup-{run}.jsonl"
    os.replace(big, src)
    ledger = tmp / f"ledger-{run}"
    ledger.mkdir()
    rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home)
    # A recording that began with the file and missed all of it (the watcher never ran).
    update_marker(rec.session_dir, missed_everything(rec.session_dir / RAW))
    try:
        start, cpu = time.perf_counter(), _cpu_with_helpers()
        result = catch_up(rec.session_dir, home=home)
        elapsed, cpu = time.perf_counter() - start, _cpu_with_helpers() - cpu
    finally:
        os.replace(src, big)
    assert result.offset == big.stat().st_size, "catch-up stopped early"
    assert (rec.session_dir / RAW).stat().st_size > 0
    shutil.rmtree(ledger)
    return elapsed, cpu, result.entries


def redaction_alone() -> list[tuple[str, float]]:
    from ox_session_capture.testing.corpus.benign import LINES
    from ox_session_capture.testing.corpus.secrets import SHAPES, in_json

    corpora = {
        "benign corpus": LINES * 50,
        "secrets corpus": [t for s in SHAPES for t in (s.text, in_json(s))] * 5,
    }
    redactor = LedgerRedactor()
    results = []
    for name, texts in corpora.items():
        size = sum(len(t.encode()) for t in texts)
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for n in range(0, len(texts), 64):
                redactor.many(texts[n : n + 64])
            best = min(best, time.perf_counter() - start)
        results.append((name, size / 1e6 / best))
    return results


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="ox-bench-tail-"))
    try:
        lat = latency(tmp / "lat")
        print(f"Append -> durable raw entry latency, {len(lat)} appends (poll 100 ms):")
        print(f"  {'p50':>6} {'p99':>8} {'max':>8} {'mean':>8}   goal p50<=100 p99<=250")
        print(
            f"  {percentile(lat, 0.5):5.1f}ms {percentile(lat, 0.99):6.1f}ms "
            f"{max(lat):6.1f}ms {statistics.fmean(lat):6.1f}ms"
        )
        (tmp / "home" / PROJECT).mkdir(parents=True)
        big = tmp / "big.jsonl"
        size = build_big_file(big)
        mb = size / 1e6
        # Interleaved, best of each: the machine's load shifts over a run.
        bases, runs = [], []
        for n in range(RUNS):
            bases.append(baseline(big))
            runs.append(ours(tmp, big, n))
        base = min(b for b, _ in bases)
        best = min(t for t, _, _ in runs)
        base_cpu = min(c for _, c in bases)
        best_cpu = min(c for _, c, _ in runs)
        entries = runs[0][2]
        print(f"\nCatch-up of a {mb:.0f} MB claude-code file ({entries} entries), best of {RUNS}:")
        print(f"  {'':32} {'seconds':>8} {'MB/s':>8}")
        print(f"  {'baseline (read + json.loads)':32} {base:8.2f} {mb / base:8.1f}")
        print(f"  {'catch_up (convert, redact, fsync)':32} {best:8.2f} {mb / best:8.1f}")
        print(f"  ratio catch_up / baseline throughput: {base / best:.2f} (issue 17: >= 0.8)")
        # CPU time is what a loaded machine (other processes on the cores) does not distort;
        # catch_up's fsyncs are not in it, its helper process's CPU is.
        print(
            f"  CPU time, helper included: {base_cpu:.2f} s / {best_cpu:.2f} s = "
            f"{base_cpu / best_cpu:.2f} (the work done, not the wait)"
        )
        print("\nRedaction alone (LedgerRedactor.many, batches of 64 texts):")
        for name, rate in redaction_alone():
            print(f"  {name:32} {rate:8.1f} MB/s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
