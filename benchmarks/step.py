"""Benchmark: the CPU of one live capture step, back to back and at the pace of N = 500.

    uv run python benchmarks/step.py [--recordings 300] [--rounds 10] [--gap-ms 4]

In one process, `--recordings` claude-code session files (each begun with 64 KB, so that a
fingerprint spans a real file's head and tail) are appended one line at a time, round-robin,
and the appended line is captured at once. Three capturers take turns, recording by
recording, so that they share the machine's state:

- **copy**: `pread` the new bytes, append them to a raw file, `fsync`, `pwrite` a 512-byte
  commit slot (what the inotify and stat baselines of `capture.py` do, plus the slot);
- **minimal pipeline**: the same, with the line converted by the claude-code adapter,
  redacted (`LedgerRedactor.many`) and serialised (`pydantic_core.to_json`) on the way: the
  least Python a capturer that stores redacted entries does;
- **ox**: `SourceTail.step` (source checks, fingerprint, lock, slot commit...).

Each is measured back to back (the next line at once) and paced: `--gap-ms` of sleep before
each step, the interval between lines of 500 recordings at 1 line / 2 s. CPU is
`time.process_time` around the step. On a virtual machine an idle gap costs the next
instructions their caches, so every capturer pays more per line when paced: the table shows
how much, and how ox compares with the minimal pipeline in the same conditions.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import _stdlib_queue  # noqa: F401 - before trio: see that module
import pydantic_core

from ox_session_capture.adapters import load_adapter
from ox_session_capture.recording import create_recording
from ox_session_capture.redact import LedgerRedactor
from ox_session_capture.tail import SourceTail
from ox_session_capture.testing import claude_user

PROJECT = ".claude/projects/-home-dev-step"
SEED_BYTES = 64 * 1024
SLOT = b"x" * 512


class Copier:
    """The copy and the minimal pipeline: fds kept open, no checks, nothing but the work."""

    def __init__(self, src: Path, folder: Path, convert: bool, redactor: LedgerRedactor) -> None:
        folder.mkdir(parents=True)
        self.src = os.open(src, os.O_RDONLY)
        self.raw = os.open(folder / "raw.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self.slot = os.open(folder / "slots", os.O_RDWR | os.O_CREAT, 0o600)
        self.offset = os.fstat(self.src).st_size
        self.adapter = load_adapter("claude-code") if convert else None
        self.redactor = redactor

    def step(self) -> None:
        size = os.fstat(self.src).st_size
        data = os.pread(self.src, size - self.offset, self.offset)
        if self.adapter is not None:
            entries = [e for line in data.splitlines() for e in self.adapter.parse_fields(line)]
            texts = [e["content"] for e in entries if e.get("content")]
            self.redactor.many(texts)
            data = b"\n".join([*map(pydantic_core.to_json, entries), b""])
        os.write(self.raw, data)
        os.fsync(self.raw)
        os.pwrite(self.slot, SLOT, 0)
        self.offset = size

    def close(self) -> None:
        for fd in (self.src, self.raw, self.slot):
            os.close(fd)


def build(tmp: Path, n: int) -> tuple[list[Path], dict[str, list[Callable[[], object]]]]:
    home, ledger = tmp / "home", tmp / "ledger"
    (home / PROJECT).mkdir(parents=True)
    ledger.mkdir()
    redactor = LedgerRedactor()
    seed = b"".join(claude_user(str(uuid.uuid4()), "y" * 500) for _ in range(SEED_BYTES // 600))
    sources: list[Path] = []
    steps: dict[str, list[Callable[[], object]]] = {"copy": [], "minimal pipeline": [], "ox": []}
    for i in range(n):
        src = home / PROJECT / f"{uuid.uuid4()}.jsonl"
        src.write_bytes(seed)
        sources.append(src)
        steps["copy"].append(Copier(src, tmp / "copy" / str(i), False, redactor).step)
        steps["minimal pipeline"].append(Copier(src, tmp / "min" / str(i), True, redactor).step)
        rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home)
        tail = SourceTail(rec.session_dir, load_adapter("claude-code"), src, redact=redactor)
        tail.resume()
        steps["ox"].append(tail.step)
    return sources, steps


def run(
    sources: list[Path], steps: dict[str, list[Callable[[], object]]], rounds: int, gap: float
) -> dict[str, tuple[float, float]]:
    """(CPU ms per step, of it in the kernel ms) per capturer."""
    cpu = dict.fromkeys(steps, 0.0)
    sys_ms = dict.fromkeys(steps, 0.0)
    count = 0
    for _ in range(rounds):
        for i, src in enumerate(sources):
            for name, of in steps.items():
                # Each capturer gets its own line: the others have read the previous ones.
                with open(src, "ab") as f:
                    f.write(claude_user(str(uuid.uuid4()), f"line for {name} " * 8))
                if gap:
                    time.sleep(gap)
                r0, c0 = resource.getrusage(resource.RUSAGE_SELF), time.process_time()
                of[i]()
                c1, r1 = time.process_time(), resource.getrusage(resource.RUSAGE_SELF)
                cpu[name] += c1 - c0
                sys_ms[name] += r1.ru_stime - r0.ru_stime
            count += 1
    return {k: (1000 * cpu[k] / count, 1000 * sys_ms[k] / count) for k in steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recordings", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--gap-ms", type=float, default=4.0, help="sleep before a paced step")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ox-bench-step-"))
    try:
        sources, steps = build(tmp, args.recordings)
        run(sources, steps, 1, 0)  # first steps: caches, slot files, kept prefixes
        results = {
            "back to back": run(sources, steps, args.rounds, 0),
            f"paced ({args.gap_ms:g} ms)": run(sources, steps, args.rounds, args.gap_ms / 1000),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}; "
          f"{args.recordings} recordings x {args.rounds} rounds")  # fmt: skip
    print(f"{'mode':>16} {'capturer':>17} {'CPU ms/step':>12} {'kernel ms':>10} {'vs minimal':>11}")
    for mode, table in results.items():
        floor = table["minimal pipeline"][0]
        for name, (cpu, kernel) in table.items():
            print(f"{mode:>16} {name:>17} {cpu:12.3f} {kernel:10.3f} {cpu / floor:10.2f}x")
    print("target (issue 17): capture CPU per line <= 0.5 ms")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
