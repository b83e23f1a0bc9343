"""The echo runner, tested with ox's runner kit (`ox_core.testing_runners`) and for real."""

from __future__ import annotations

import pytest

from ox_core import RunRequest, load_plugins
from ox_core.errors import ConfigError
from ox_core.testing_runners import FakeCliFactory
from ox_runner_echo import EchoRunner
from ox_runner_echo.agent import main as agent_main


def test_discovered_through_its_entry_point() -> None:
    loaded = load_plugins()
    assert loaded.runners["echo"] is EchoRunner
    assert not [e for e in loaded.errors if e.name == "echo"]


def test_its_options_are_typed() -> None:
    assert EchoRunner(prefix="> ").echo_options.prefix == "> "
    with pytest.raises(ConfigError, match="runner echo: invalid options: colour"):
        EchoRunner(colour="red")


async def test_a_real_run_of_the_fake_agent() -> None:
    runner = EchoRunner(prefix="> ")
    assert runner.usability().usable
    result = await runner.run(RunRequest(prompt="hi there"))
    assert result.ok, result.error
    assert (result.output, result.tokens_in, result.tokens_out) == ("> hi there", 2, 2)


async def test_an_empty_prompt_is_the_agent_s_error() -> None:
    result = await EchoRunner().run(RunRequest(prompt=""))
    assert not result.ok
    assert "exited with status 2" in result.error
    assert "empty prompt" in result.error


def test_the_agent_prints_its_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert agent_main(["--version"]) == 0
    assert capsys.readouterr().out == "ox-echo-agent 0.1.0\n"


async def test_a_garbled_answer_is_an_error_not_a_crash(fake_cli: FakeCliFactory) -> None:
    fake = fake_cli("ox-echo-agent", stdout="not json at all\n")
    runner = EchoRunner(binary=fake.path, prefix="> ", model="m2")
    result = await runner.run(RunRequest(prompt="hello"))
    assert result.error == "echo: no result line in the output (not json at all)"
    assert fake.argv() == ["--prefix", "> ", "--model", "m2"]
    assert fake.stdin() == "hello"
