"""A third-party plugin whose import, hook, constructor or handler `attach` never returns: the
daemon says which plugin holds its start (`status`, and the log after `SLOW_START_STEP`), and
SIGTERM still stops it (the step is abandoned `START_STOP_GRACE` seconds after the stop). The
real `ox-core serve` runs, with the plugin installed as a distribution on its path."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ox_core import load_plugins
from ox_core.testing import install_runner_plugin, make_ledger, wait_until

HANGING_HOOK = """
import time
from ox_core import hookimpl

@hookimpl
def ox_register_runners(register):
    time.sleep(3600)
"""
HANGING_IMPORT = "import time\ntime.sleep(3600)\n"
HANGING_CONSTRUCTOR = """
import time
from ox_core import hookimpl
from ox_core.mock import MockRunner

class StuckRunner(MockRunner):
    name = "stuck-test-runner"

    def __init__(self) -> None:
        time.sleep(3600)  # a license server asked, say

@hookimpl
def ox_register_runners(register):
    register(StuckRunner)
"""
HANGING_ATTACH = """
import time
from ox_core import WorkHandler, hookimpl

class StuckHandler(WorkHandler):
    type = "stuck-test-handler"

    def attach(self, context):
        time.sleep(3600)  # a server it registers with, say

    async def detect(self, ledger):
        return []

    async def build_prompt(self, item):
        raise NotImplementedError

    async def process_result(self, item, result):
        return None

@hookimpl
def ox_register_handlers(register):
    register(StuckHandler)
"""
FINE = """
from ox_core import hookimpl
from ox_core.mock import MockRunner

class FineRunner(MockRunner):
    name = "fine-test-runner"

@hookimpl
def ox_register_runners(register):
    register(FineRunner)
"""


@pytest.fixture
def home() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="oxh") as d:  # short: the socket's path
        (Path(d) / "xdg").mkdir(mode=0o700)
        (Path(d) / "site").mkdir()
        yield Path(d)


def _test_path() -> list[str]:
    return [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]


def environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
    env.update(
        HOME=str(home),
        XDG_RUNTIME_DIR=str(home / "xdg"),
        PATH="/usr/bin:/bin",
        # The sources under test stay first after the plugins (a worktree's, not the venv's).
        PYTHONPATH=os.pathsep.join([str(home / "site"), *_test_path()]),
        OX_LEDGER=str(make_ledger(home / "team").path),
    )
    return env


def status(env: dict[str, str]) -> dict[str, object] | None:
    done = subprocess.run(
        [sys.executable, "-m", "ox_core.cli", "status", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return json.loads(done.stdout)["daemon"] if done.returncode == 0 else None


@contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`ox-core serve` in `env`, its output in `log`; killed if still running at the end."""
    with log.open("wb") as out:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "ox_core.cli", "serve"], env=env, stdout=out, stderr=out
        )
    try:
        yield daemon
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()


@pytest.mark.parametrize(
    ("code", "named"),
    [
        (HANGING_HOOK, "plugin ox-runner-stuck (ox-runner-stuck 1.0.0): ox_register_runners"),
        (HANGING_IMPORT, "plugin ox-runner-stuck (ox-runner-stuck 1.0.0): import"),
        (
            HANGING_CONSTRUCTOR,
            "runner stuck-test-runner (ox_test_stuck_plugin.StuckRunner): "
            "being made with its options",
        ),
        # `attach` ran on the event loop: the socket, `status` and SIGTERM froze with it.
        (
            HANGING_ATTACH,
            "handler stuck-test-handler (ox_test_stuck_plugin.StuckHandler): attach",
        ),
    ],
    ids=["hook", "import", "constructor", "handler-attach"],
)
def test_a_plugin_that_never_returns_is_named_and_sigterm_still_stops_the_daemon(
    home: Path, code: str, named: str
) -> None:
    install_runner_plugin(home / "site", "ox-runner-stuck", "ox_test_stuck_plugin", code)
    env = environment(home)
    log = home / "serve.log"
    with serving(env, log) as daemon:
        # The answer says what holds the start, not only that it is starting.
        answer = wait_until(
            "status naming the stuck plugin",
            lambda: (s := status(env)) and named in str(s.get("starting")) and s,
        )
        assert answer["ready"] is False
        screen = subprocess.run(
            [sys.executable, "-m", "ox_core.cli", "status"],
            env={**env, "COLUMNS": "200"},
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        assert named in screen
        wait_until(
            "the log naming the stuck plugin",
            lambda: f"start-up: {named} has not returned after 10 s" in log.read_text(),
        )
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=60) == 0
    text = log.read_text()
    assert f"start-up: abandoned at {named}" in text
    assert "it did not return within 5 s of the stop" in text
    assert "ox-core stopped" in text
    assert "Traceback" not in text


def test_a_stop_during_a_start_that_returns_waits_for_it(home: Path) -> None:
    """SIGTERM during a normal start abandons nothing: the start-up ends, then the daemon."""
    install_runner_plugin(home / "site", "ox-runner-fine", "ox_test_fine_plugin_start", FINE)
    env = environment(home)
    log = home / "serve.log"
    with serving(env, log) as daemon:
        wait_until("the socket to answer", lambda: status(env) is not None)
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=60) == 0
    text = log.read_text()
    assert "ox-core stopped" in text
    assert "abandoned" not in text
    assert "Traceback" not in text


def test_load_plugins_tells_each_step_before_it_runs(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_runner_plugin(home / "site", "ox-runner-fine", "ox_test_fine_plugin_steps", FINE)
    monkeypatch.syspath_prepend(str(home / "site"))
    steps: list[str] = []
    loaded = load_plugins(progress=steps.append)
    assert "fine-test-runner" in loaded.runners
    ours = [s for s in steps if "ox-runner-fine" in s]
    assert ours == [
        "plugin ox-runner-fine (ox-runner-fine 1.0.0): import",
        "plugin ox-runner-fine (ox-runner-fine 1.0.0): ox_register_runners",
    ]
