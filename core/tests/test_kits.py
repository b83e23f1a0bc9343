"""The two pytest kits plugin authors get with `ox-core[testing]`, run as a plugin author's
own test suite would be (`pytester`, in a subprocess): `ox_core.testing` for handlers and
`ox_core.testing_runners` for runners. Each kit's fixtures work, and a broken plugin fails."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

INI = """
[pytest]
trio_mode = true
addopts = -p no:cacheprovider
"""

HANDLER = '''
from pathlib import Path

import trio

from ox_core import HandlerOptions, Outcome, RunRequest, RunResult, WorkHandler, WorkItem


class Options(HandlerOptions):
    suffix: str = "!"


class Shout(WorkHandler):
    """Answers each `in/<name>.txt` with `out/<name>.txt`: the agent's answer, upper-cased."""

    type = "shout"
    Options = Options

    def __init__(self) -> None:
        self.options = Options()

    def configure(self, options: Options) -> None:
        self.options = options

    async def detect(self, ledger: Path) -> list[WorkItem]:
        out = ledger / "out"
        return [
            WorkItem(type=self.type, dedup_key=p.stem, payload={"path": str(p)})
            for p in sorted((ledger / "in").glob("*.txt"))
            if not (out / p.name).exists()
        ]

    async def build_prompt(self, item: WorkItem) -> RunRequest:
        text = await trio.Path(item.payload["path"]).read_text()
        return RunRequest(prompt=text.strip(), skip_llm=not text.strip())

    async def process_result(self, item: WorkItem, result: RunResult) -> Outcome:
        source = Path(item.payload["path"])
        out = source.parent.parent / "out"
        out.mkdir(exist_ok=True)
        (out / source.name).write_text(result.output.upper() + self.BANG + "\\n")
        return Outcome("shouted")

    BANG = "!"
'''

HANDLER_TESTS = """
import trio

from ox_core import MockRunner, RunResult
from ox_core.testing import detect_and_run, run_one_item
from shout import Shout


def _ask(ledger, name, text):
    (ledger.path / "in").mkdir(exist_ok=True)
    (ledger.path / "in" / f"{name}.txt").write_text(text)


async def test_through_the_mock_runner(ledger, mock_runner):
    mock_runner.fn = lambda request: RunResult(output="hi " + request.prompt)
    _ask(ledger, "a", "bob")
    [(item, result)] = await detect_and_run(Shout(), ledger.path, mock_runner)
    assert result.output == "hi bob"
    assert (ledger.path / "out" / "a.txt").read_text() == "HI BOB!\\n"
    assert await Shout().detect(ledger.path) == []


async def test_the_ledger_has_a_bare_remote(ledger, tmp_path):
    clone = ledger.clone_remote(tmp_path / "clone")
    assert (clone / ".gitignore").read_text() == ".ox/cache/\\n"


async def test_skip_llm_needs_no_runner(ledger):
    _ask(ledger, "e", "")
    [item] = await Shout().detect(ledger.path)
    assert (await run_one_item(Shout(), item)).output == ""


async def test_the_manager_runs_it(ledger, manager_factory, mock_clock):
    mock_clock.autojump_threshold = 0.05
    _ask(ledger, "m", "carol")
    done = trio.Event()
    async with manager_factory([Shout()], runner=MockRunner()) as manager:
        manager.on_complete(lambda _result: done.set())
        with trio.fail_after(24 * 3600):  # mock seconds: a tick per jump amid a thread's work
            await done.wait()
    assert (ledger.path / "out" / "m.txt").read_text() == "OK!\\n"
"""


def test_the_handler_kit_in_a_plugin_s_own_suite(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makeconftest('pytest_plugins = ["ox_core.testing"]\n')
    pytester.makepyfile(shout=HANDLER, test_shout=HANDLER_TESTS)
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(passed=4)


def test_the_handler_kit_reports_a_broken_handler(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makeconftest('pytest_plugins = ["ox_core.testing"]\n')
    pytester.makepyfile(shout=HANDLER.replace('BANG = "!"', 'BANG = "?"'), test_shout=HANDLER_TESTS)
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(["*HI BOB?*"])


def test_the_kit_is_opt_in(pytester: pytest.Pytester) -> None:
    """Installing ox-core adds no fixture to a project that did not ask for the kit."""
    pytester.makeini(INI)
    pytester.makepyfile(test_x="def test_x(mock_runner):\n    pass\n")
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'mock_runner' not found*"])


RUNNER_TESTS = """
import subprocess

import pytest

from ox_core import RunRequest
from ox_core.testing_runners import FakeCliFactory


def test_a_fake_cli_replays_and_records(fake_cli: FakeCliFactory) -> None:
    fake = fake_cli("agent", stdout="hello\\n", stderr="warn\\n", exit_code=3)
    proc = subprocess.run(
        [fake.path, "-p", "x y"], input="the prompt", capture_output=True, text=True
    )
    assert (proc.stdout, proc.stderr, proc.returncode) == ("hello\\n", "warn\\n", 3)
    assert fake.argv() == ["-p", "x y"]
    assert fake.stdin() == "the prompt"


def test_a_recorded_case(fake_cli: FakeCliFactory) -> None:
    fake = fake_cli("agent", case="ok")
    proc = subprocess.run([fake.path], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert (proc.stdout, proc.returncode) == ("recorded\\n", 0)


async def test_a_hanging_cli_is_killed_with_its_group(fake_cli, group_gone):
    from ox_core import run_agent_process

    fake = fake_cli("agent", hang=True, fork_child=True)
    outcome = await run_agent_process([str(fake.path)], timeout=3, grace=0.2)
    assert outcome.timed_out
    assert await group_gone(int((fake.dir / "pid").read_text()))
"""


def test_the_runner_kit_in_a_plugin_s_own_suite(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makeconftest(
        "from ox_core.testing_runners import fake_cli, group_gone, wait_dead  # noqa: F401\n"
    )
    pytester.makepyfile(test_runner=RUNNER_TESTS)
    case = pytester.mkdir("data") / "ok"
    case.mkdir()
    (case / "stdout").write_text("recorded\n")
    (case / "stderr").write_text("")
    (case / "exit_code").write_text("0\n")
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(passed=3)
