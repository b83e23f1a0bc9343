"""Runner overhead: 200 runs of a fake `claude` that prints one result line, through
`ClaudeRunner.run` (own process group, stdin prompt, line reader, stderr tail, group kill,
sweep of leftover processes through /proc, parsing) against a bare `trio.run_process` of the
same executable, and against the same bare call with `start_new_session=True` (what the
runner's spawn costs when ox has a terminal). A fourth path runs the runner without the sweep
of leftovers (`ox_core.sweep.RunSweep`), to show what that sweep costs per run.

Goal: the runner costs at most 1.2x the bare run. Run: uv run python benchmarks/runner.py
"""

from __future__ import annotations

import os
import stat
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import _stdlib_queue  # noqa: F401 - before trio: see that module
import trio

import ox_core.process
from ox_core import RunRequest
from ox_core.proc import scan
from ox_core.sweep import PID_RANGE_WITHIN, RunSweep
from ox_runner_claude import ClaudeRunner

RUNS = 200
PROMPT = "Summarise this session.\n" + "a line of the session transcript\n" * 64
RESULT = (
    '{"type":"result","subtype":"success","is_error":false,"result":"Hi! I am the fake LLM.",'
    '"usage":{"input_tokens":123,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,'
    '"output_tokens":45}}'
)


def write_fake(folder: Path) -> Path:
    path = folder / "claude"
    path.write_text(f"#!/bin/sh\ncat > /dev/null\necho '{RESULT}'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


async def bare(exe: Path, *, session: bool = False) -> None:
    done = await trio.run_process(
        [str(exe)],
        stdin=PROMPT.encode(),
        capture_stdout=True,
        capture_stderr=True,
        check=False,
        start_new_session=session,
    )
    assert b"fake LLM" in done.stdout


class NoSweep(RunSweep):
    """The sweep's bookkeeping without its /proc scans (for the comparison only)."""

    def kill(self) -> int:
        self.killed = True
        return 0

    def remember(self) -> None:
        pass


def through_runner(exe: Path, *, sweep: bool = True) -> Callable[[], Awaitable[None]]:
    runner = ClaudeRunner(binary=exe)

    async def one() -> None:
        ox_core.process.RunSweep = RunSweep if sweep else NoSweep  # type: ignore[misc]
        result = await runner.run(RunRequest(prompt=PROMPT))
        assert result.ok, result
        assert result.output == "Hi! I am the fake LLM."

    return one


def sweep_alone(exe: Path) -> float:
    """Seconds `RunSweep.kill()` takes after a run of `exe` that left nothing behind."""
    sweep = RunSweep()
    with open(os.devnull, "rb") as devnull:
        child = subprocess.Popen(
            [str(exe)], stdin=devnull, stdout=subprocess.DEVNULL, env=sweep.env(dict(os.environ))
        )
    sweep.started(child.pid)
    child.wait()
    start = time.perf_counter()
    sweep.kill()
    return time.perf_counter() - start


async def one_run(fn: Callable[[], Awaitable[None]]) -> float:
    start = time.perf_counter()
    await fn()
    return time.perf_counter() - start


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        exe = write_fake(Path(tmp))
        runner_one = through_runner(exe)

        async def bare_one() -> None:
            await bare(exe)

        async def bare_session_one() -> None:
            await bare(exe, session=True)

        paths: dict[str, Callable[[], Awaitable[None]]] = {
            "trio.run_process (bare)": bare_one,
            "  the same in a new session": bare_session_one,
            "ClaudeRunner.run": runner_one,
            "  the same without the sweep": through_runner(exe, sweep=False),
        }
        for fn in paths.values():
            await fn()  # warm up
        # Interleaved run by run, so that the machine's noise (other processes, CPU frequency)
        # hits every path alike; medians resist the outliers.
        times: dict[str, list[float]] = {name: [] for name in paths}
        order = list(paths)
        for i in range(RUNS):
            for name in order[i % len(order) :] + order[: i % len(order)]:
                times[name].append(await one_run(paths[name]))
        alone_ms = 1000 * statistics.median(sweep_alone(exe) for _ in range(50))
    print(f"{RUNS} runs each of a fake CLI printing one result line, interleaved")
    print(f"{'path':<30}{'total s':>9}{'runs/s':>9}{'median ms':>11}")
    for name, samples in times.items():
        total = sum(samples)
        median_ms = 1000 * statistics.median(samples)
        print(f"{name:<30}{total:>9.3f}{RUNS / total:>9.1f}{median_ms:>11.2f}")
    runner = times["ClaudeRunner.run"]
    for label, baseline in (
        ("bare", times["trio.run_process (bare)"]),
        ("bare in a new session", times["  the same in a new session"]),
    ):
        ratio = statistics.median(runner) / statistics.median(baseline)
        ratio_total = sum(runner) / sum(baseline)
        verdict = "ok" if ratio <= 1.2 else "OVER"
        print(
            f"ratio runner / {label}: {ratio:.2f}x by median, {ratio_total:.2f}x by total "
            f"(goal <= 1.20x): {verdict}"
        )
    sweep_ms = 1000 * (
        statistics.median(runner) - statistics.median(times["  the same without the sweep"])
    )
    start = time.perf_counter()
    for _ in range(RUNS):
        scan()
    scan_ms = 1000 * (time.perf_counter() - start) / RUNS
    print(
        f"sweep of leftovers: {sweep_ms:+.2f} ms per run (runner with / without it, by median); "
        f"the sweep alone after a short run: {alone_ms:.2f} ms; after a run of over "
        f"{PID_RANGE_WITHIN:g} s it reads all {len(scan())} processes: {scan_ms:.2f} ms"
    )
    print(
        "(the runner starts the CLI in a new process group, and in a new session only when ox "
        "has a controlling terminal: setsid() costs a few ms where the kernel's "
        "sched_autogroup is on, as the second line shows)"
    )


if __name__ == "__main__":
    trio.run(main)
    sys.exit(0)
