"""`Supervisor`: a failing service is restarted with backoff and its state reported.

Pure trio logic on a `MockClock`: the restart times are exact.
"""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing

from ox_core.supervise import Supervisor


class Flaky:
    """A service that fails `failures` times (after `run_for` seconds each), then serves."""

    def __init__(self, failures: int, run_for: float = 0.0) -> None:
        self.failures = failures
        self.run_for = run_for
        self.starts: list[float] = []
        self.serving = trio.Event()

    async def __call__(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        self.starts.append(trio.current_time())
        task_status.started()
        if len(self.starts) <= self.failures:
            await trio.sleep(self.run_for)
            raise OverflowError("Python int too large to convert to C int")
        self.serving.set()
        await trio.sleep_forever()


@pytest.fixture
def clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0)


async def test_restarts_with_doubling_delays_up_to_the_cap(
    clock: trio.testing.MockClock,
) -> None:
    service = Flaky(failures=8)
    supervisor = Supervisor("watcher", service, base=1, cap=10, stable_after=60)
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        await service.serving.wait()
        gaps = [b - a for a, b in zip(service.starts, service.starts[1:], strict=False)]
        assert gaps == [1, 2, 4, 8, 10, 10, 10, 10]
        state = supervisor.state()
        assert state.state == "running"
        assert state.restarts == 8
        assert state.last_error == "OverflowError: Python int too large to convert to C int"
        assert state.last_error_at is not None
        nursery.cancel_scope.cancel()


async def test_state_while_waiting_to_restart(clock: trio.testing.MockClock) -> None:
    service = Flaky(failures=1)
    supervisor = Supervisor("watcher", service, base=5, cap=60)
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)  # released by the first failure too
        await trio.sleep(2)
        state = supervisor.state()
        assert state.state == "restarting"
        assert state.restarts == 0
        assert state.restart_in == pytest.approx(3)
        await service.serving.wait()
        assert trio.current_time() == pytest.approx(5)
        assert supervisor.state().state == "running"
        assert supervisor.state().restart_in is None
        nursery.cancel_scope.cancel()


async def test_a_service_that_ran_long_enough_starts_its_backoff_over(
    clock: trio.testing.MockClock,
) -> None:
    service = Flaky(failures=3, run_for=100)
    supervisor = Supervisor("watcher", service, base=1, cap=60, stable_after=60)
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        await service.serving.wait()
        gaps = [b - a for a, b in zip(service.starts, service.starts[1:], strict=False)]
        assert gaps == [101, 101, 101]  # 100 s running + 1 s, never doubling
        nursery.cancel_scope.cancel()


async def test_a_service_that_returns_is_done_and_not_restarted(
    clock: trio.testing.MockClock,
) -> None:
    calls = 0

    async def once(*, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        nonlocal calls
        calls += 1
        task_status.started()

    supervisor = Supervisor("noop", once)
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        await trio.sleep(1000)
    assert calls == 1
    assert supervisor.state().state == "done"


async def test_cancellation_is_not_a_failure(clock: trio.testing.MockClock) -> None:
    service = Flaky(failures=0)
    supervisor = Supervisor("watcher", service)
    with trio.move_on_after(5):
        await supervisor.run()
    assert supervisor.state().restarts == 0
    assert supervisor.state().last_error == ""
    assert service.starts == [0]


async def test_a_failure_before_started_does_not_block_the_caller(
    clock: trio.testing.MockClock,
) -> None:
    attempts = 0

    async def broken(*, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise RuntimeError("x" * 1000 + "\nsecond line")
        task_status.started()
        await trio.sleep_forever()

    supervisor = Supervisor("broken", broken, base=1)
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        assert trio.current_time() == 0  # released by the first failure
        await trio.sleep(10)
        state = supervisor.state()
        assert state.state == "running"
        assert state.restarts == 2
        assert len(state.last_error) == 300
        assert "\n" not in state.last_error
        nursery.cancel_scope.cancel()
