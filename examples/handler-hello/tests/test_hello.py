"""The hello handler, tested with ox's plugin-author kit (`ox_core.testing`)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import trio
import trio.testing

from ox_core import ConfigError, MockRunner, OxError, RunRequest, RunResult, load_plugins
from ox_core.commands import CommandContext
from ox_core.config import validate_options
from ox_core.testing import ManagerFactory, TempLedger, detect_and_run, run_one_item
from ox_handler_hello import HelloHandler
from ox_handler_hello.command import command
from ox_handler_hello.options import HelloOptions


def _request(ledger: Path, name: str, text: str) -> Path:
    folder = ledger / "hello"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.txt"
    path.write_text(text)
    return path


async def test_detect_finds_unanswered_requests(ledger: TempLedger) -> None:
    handler = HelloHandler()
    assert await handler.detect(ledger.path) == []
    _request(ledger.path, "alice", "Alice")
    _request(ledger.path, "bob", "Bob").with_suffix(".reply").write_text("done\n")
    items = await handler.detect(ledger.path)
    assert [i.dedup_key for i in items] == ["hello:alice"]


async def test_one_item_through_the_agent(ledger: TempLedger, mock_runner: MockRunner) -> None:
    mock_runner.fn = lambda request: RunResult(output=f"Hi! ({request.prompt})")
    request = _request(ledger.path, "alice", "Alice")
    handler = HelloHandler()
    [item] = await handler.detect(ledger.path)
    result = await run_one_item(handler, item, mock_runner)
    assert result.output.startswith("Hi!")
    assert mock_runner.calls[0].prompt == "Write a one-line friendly greeting for Alice."
    reply = request.with_suffix(".reply").read_text()
    assert reply == "Hi! (Write a one-line friendly greeting for Alice.)\n"
    assert await handler.detect(ledger.path) == []


async def test_empty_request_needs_no_agent(ledger: TempLedger, mock_runner: MockRunner) -> None:
    request = _request(ledger.path, "nobody", "")
    done = await detect_and_run(HelloHandler(), ledger.path, mock_runner)
    assert len(done) == 1
    assert mock_runner.calls == []
    assert request.with_suffix(".reply").read_text() == "Hello, whoever you are!\n"


async def test_the_manager_runs_it(
    ledger: TempLedger,
    manager_factory: ManagerFactory,
    mock_clock: trio.testing.MockClock,
) -> None:
    # The handler does its file I/O in threads: jump the clock only once the whole test has
    # been idle for 50 ms of real time, so a jump never lands while a thread is working.
    mock_clock.autojump_threshold = 0.05

    async def answer(request: RunRequest) -> RunResult:
        await trio.sleep(2)  # an agent takes time (on the mock clock)
        return RunResult(output="Hello there")

    runner = MockRunner(answer)
    request = _request(ledger.path, "carol", "Carol")
    finished = trio.Event()
    async with manager_factory([HelloHandler()], runner=runner) as manager:
        manager.on_complete(lambda _result: finished.set())
        # Mock seconds cost no real time; a jump that lands while a thread works (a loaded
        # machine) costs a doctor tick (300 s) each: room for many of them.
        with trio.fail_after(24 * 3600):
            await finished.wait()
        stats = manager.status().stats
        assert (stats.successes, stats.failures) == (1, 0)
        assert [c.prompt for c in runner.calls] == ["Write a one-line friendly greeting for Carol."]
    assert request.with_suffix(".reply").read_text() == "Hello there\n"


def test_discovered_through_its_entry_point() -> None:
    loaded = load_plugins()
    assert loaded.handlers.get("hello") is HelloHandler


async def test_its_options_shape_the_reply(ledger: TempLedger, mock_runner: MockRunner) -> None:
    handler = HelloHandler()
    handler.configure(HelloOptions(greeting="Howdy", max_requests=1))
    _request(ledger.path, "a", "")
    _request(ledger.path, "b", "")
    done = await detect_and_run(handler, ledger.path, mock_runner)
    assert len(done) == 1  # max_requests
    assert (ledger.path / "hello" / "a.reply").read_text() == "Howdy, whoever you are!\n"


def test_bad_options_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"^invalid settings: handlers\.hello\.greeting: "):
        validate_options(HelloOptions, {"greeting": ""}, "handlers.hello")


def test_the_command_writes_a_request(ledger: TempLedger, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OX_LEDGER", str(ledger.path))
    monkeypatch.setenv("OX_SOCKET", str(ledger.path.parent / "none.sock"))
    printed: list[str] = []
    ctx = CommandContext()
    monkeypatch.setattr(ctx, "print", lambda *a: printed.append(" ".join(map(str, a))))
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    assert command.run(parser.parse_args(["zoe", "--text", "Zoë"]), ctx) == 0
    assert (ledger.path / "hello" / "zoe.txt").read_text() == "Zoë\n"
    assert printed == [
        "asked: hello/zoe.txt",
        "the daemon is not running: it answers at its next start",
    ]
    with pytest.raises(OxError, match="is not a plain name"):
        command.run(parser.parse_args(["../x"]), ctx)
