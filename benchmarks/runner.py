"""Runner overhead: 200 runs of a fake `claude` that prints one result line, through
`ClaudeRunner.run` (process group, stdin prompt, line reader, stderr tail, group kill,
parsing) against a bare `trio.run_process` of the same executable.

Goal: the runner costs at most 1.2x the bare run. Run: uv run python benchmarks/runner.py
"""

from __future__ import annotations

import stat
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

# This folder is sys.path[0] and holds `queue.py`, which would shadow the standard library's
# `queue` that trio imports.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import trio  # noqa: E402

from ox_core import RunRequest  # noqa: E402
from ox_runner_claude import ClaudeRunner  # noqa: E402

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


async def bare(exe: Path) -> None:
    done = await trio.run_process(
        [str(exe)], stdin=PROMPT.encode(), capture_stdout=True, capture_stderr=True, check=False
    )
    assert b"fake LLM" in done.stdout


def through_runner(exe: Path) -> Callable[[], Awaitable[None]]:
    runner = ClaudeRunner(binary=exe)

    async def one() -> None:
        result = await runner.run(RunRequest(prompt=PROMPT))
        assert result.ok, result
        assert result.output == "Hi! I am the fake LLM."

    return one


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

        await bare_one()  # warm up both paths
        await runner_one()
        # Interleaved run by run, so that the machine's noise (other processes, CPU frequency)
        # hits both sides alike; medians resist the outliers.
        bare_times: list[float] = []
        runner_times: list[float] = []
        for i in range(RUNS):
            pair = [(bare_one, bare_times), (runner_one, runner_times)]
            for fn, times in pair if i % 2 == 0 else pair[::-1]:
                times.append(await one_run(fn))
    print(f"{RUNS} runs each of a fake CLI printing one result line, interleaved")
    print(f"{'path':<26}{'total s':>9}{'runs/s':>9}{'median ms':>11}")
    for name, times in (
        ("trio.run_process (bare)", bare_times),
        ("ClaudeRunner.run", runner_times),
    ):
        total = sum(times)
        print(
            f"{name:<26}{total:>9.3f}{RUNS / total:>9.1f}{1000 * statistics.median(times):>11.2f}"
        )
    ratio = statistics.median(runner_times) / statistics.median(bare_times)
    ratio_total = sum(runner_times) / sum(bare_times)
    verdict = "ok" if ratio <= 1.2 else "OVER"
    print(
        f"ratio runner/bare: {ratio:.2f}x by median, {ratio_total:.2f}x by total "
        f"(goal <= 1.20x): {verdict}"
    )


if __name__ == "__main__":
    trio.run(main)
    sys.exit(0)
