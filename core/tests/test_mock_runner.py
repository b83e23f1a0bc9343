from __future__ import annotations

import pytest
import trio

from ox_core import MockRunner, RunRequest, RunResult


async def test_mock_runner_calls_sync_and_async_functions() -> None:
    runner = MockRunner()
    assert (await runner.run(RunRequest(prompt="p"))).output == "ok"

    async def slow(request: RunRequest) -> RunResult:
        await trio.sleep(1)
        return RunResult(output=request.prompt.upper(), tokens_in=3)

    runner = MockRunner(slow)
    result = await runner.run(RunRequest(prompt="hi"))
    assert (result.output, result.tokens_in, result.ok) == ("HI", 3, True)
    assert [c.prompt for c in runner.calls] == ["hi"]


async def test_mock_runner_tracks_overlap_and_cancellation(autojump_clock: trio.abc.Clock) -> None:
    async def slow(request: RunRequest) -> RunResult:
        await trio.sleep(10)
        return RunResult()

    runner = MockRunner(slow)
    async with trio.open_nursery() as nursery:
        for _ in range(3):
            nursery.start_soon(runner.run, RunRequest())
        await trio.sleep(1)
        assert runner.active == 3
        nursery.cancel_scope.cancel()
    assert (runner.active, runner.max_active, runner.cancelled) == (0, 3, 3)


async def test_mock_runner_propagates_errors() -> None:
    def broken(request: RunRequest) -> RunResult:
        raise RuntimeError("agent exploded")

    runner = MockRunner(broken)
    with pytest.raises(RuntimeError, match="agent exploded"):
        await runner.run(RunRequest())
    assert runner.active == 0


def test_run_result_ok() -> None:
    assert RunResult().ok
    assert not RunResult(exit_code=1).ok
    assert not RunResult(error="stderr: boom").ok
