"""A quota from the real `claude` through a real daemon: the model API answers 429 with a
message saying when to retry; the pause is what it said, `status` shows it with its reason,
it survives a restart of the daemon, and `ox-core detect --force` lifts it.

The real claude (2.1.330) gives up at once on a 429 whose `retry-after` is long and passes on
only the API's message text, so that text is what ox reads the pause from. The daemon runs
in-process (`ox_core.daemon.serve`: its real Unix socket, ledger and plugins, the real claude
runner plugin, and a small probe handler); the CLI is called as a user would.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import trio

from ox_core import Outcome, RunRequest, RunResult, WorkHandler, WorkItem, hookimpl
from ox_core.cli import main
from ox_core.daemon import Daemon, serve
from ox_core.plugins import load_plugins
from ox_core.quota_store import PAUSE_FILE
from ox_core.settings import load_settings
from ox_core.testing import make_ledger
from ox_core.testing_npm import read_pin
from ox_runner_claude.runner import AUTH_ENV
from ox_runner_claude.testing import message_stream, text_block

pytestmark = pytest.mark.slow

PIN = read_pin(Path(__file__).parent / "real-cli.json")
SAID = "Rate limit exceeded: 5 requests per minute. Please try again in 2 minutes."
PAUSE = 120.0  # what SAID says: the more specific "try again in 2 minutes", not "per minute"


class ProbeHandler(WorkHandler):
    """Asks the agent one question per item; says what it answered."""

    type = "probe"

    async def detect(self, ledger: Path) -> list[WorkItem]:
        return []

    async def build_prompt(self, item: WorkItem) -> RunRequest:
        assert self.context is not None
        return RunRequest(prompt="Say hi.", work_dir=self.context.ledger, timeout_override=120)

    async def process_result(self, item: WorkItem, result: RunResult) -> Outcome:
        return Outcome("answered", result.output)


class ProbePlugin:
    @hookimpl
    def ox_register_handlers(self, register: Callable[[type[Any]], None]) -> None:
        register(ProbeHandler)


class Api:
    """The fake Messages API: a 429 with SAID (and a long `retry-after`), or a short answer."""

    def __init__(self, kit: Any) -> None:
        self.kit = kit
        self.limited = True
        self.calls = 0

    def __call__(self, path: str, body: dict[str, Any]) -> tuple[Any, ...]:
        route = path.split("?")[0]
        if route.endswith("/count_tokens"):
            return 200, "application/json", b'{"input_tokens": 1}'
        self.calls += 1
        if self.limited:
            error = {"type": "error", "error": {"type": "rate_limit_error", "message": SAID}}
            return 429, "application/json", json.dumps(error).encode(), {"retry-after": "120"}
        return message_stream(body, [text_block("hi")])


@pytest.fixture(scope="module")
def claude_binary(real_cli_kit: Any) -> Path:
    # Module scope: resolved before `user` clears the OX_* variables (OX_TESTS_OFFLINE=1 must
    # skip this test, not be cleared away by it).
    path: Path = real_cli_kit.npm_cli(PIN)
    return path


@pytest.fixture
def user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A new user's environment: HOME is `tmp_path`, no OX_/XDG_ settings or agent keys, a
    short private runtime dir for the socket, a wide terminal (no wrapped lines to match)."""
    for key in list(os.environ):
        if key.startswith(("OX_", "XDG_")) or key in AUTH_ENV:
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "120")
    with tempfile.TemporaryDirectory(prefix="oxq") as runtime:
        monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
        yield tmp_path


def toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = await trio.to_thread.run_sync(main, list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return code, out


async def test_a_429_from_the_real_claude_pauses_for_what_it_said(
    claude_binary: Path, user: Path, real_cli_kit: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    binary = claude_binary
    ledger = make_ledger(user / "team").path
    api = Api(real_cli_kit)
    with real_cli_kit.FakeModelApi(api) as server:
        env = {
            **real_cli_kit.offline_env(user),
            "ANTHROPIC_BASE_URL": server.url,
            "ANTHROPIC_API_KEY": "sk-ant-fake",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_AUTOUPDATER": "1",
        }
        config = user / ".config" / "ox" / "config.toml"
        config.parent.mkdir(parents=True)
        config.write_text(
            f"ledger = {toml_string(str(ledger))}\n"
            '[agent_work]\nagent = "claude"\n'
            f"[runners.claude]\nbinary = {toml_string(str(binary))}\n"
            "[runners.claude.env]\n" + "".join(f"{k} = {toml_string(v)}\n" for k, v in env.items())
        )
        plugins = load_plugins(extra=[("probe", ProbePlugin())])

        async def daemon_run(check: Callable[[Daemon], Any]) -> None:
            async with trio.open_nursery() as nursery:
                daemon: Daemon = await nursery.start(
                    lambda task_status: serve(
                        load_settings(),
                        plugins=plugins,
                        handle_signals=False,
                        task_status=task_status,
                    )
                )
                try:
                    await check(daemon)
                finally:
                    daemon.stop()

        seen: dict[str, Any] = {}

        async def first_run(daemon: Daemon) -> None:
            assert daemon.agent == "claude"
            await cli(capsys, "enqueue", "probe", "--key", "probe:1")
            with trio.fail_after(120):  # claude answers the 429 within seconds
                while daemon.manager is None or daemon.manager.status().quota is None:  # noqa: ASYNC110
                    await trio.sleep(0.05)
            _, out = await cli(capsys, "status", "--json")
            work = json.loads(out)["agent_work"]
            quota = work["quota"]
            until = datetime.fromisoformat(quota["until"])
            since = datetime.fromisoformat(quota["since"])
            assert abs((until - since).total_seconds() - PAUSE) < 1.0  # what was said
            assert SAID in quota["message"]
            assert quota["basis"] == "try again in 2 minutes"
            [hold] = [h for h in work["holds"] if h["kind"] == "quota"]
            assert hold["until"] == quota["until"]
            assert hold["reason"].endswith("(read from 'try again in 2 minutes')")
            assert work["queue_depth"] == 1  # the item waits; it did not fail
            assert work["stats"]["runs_quota"] == 1
            _, text = await cli(capsys, "status")
            flat = " ".join(text.split())
            assert "quota pause claude " + until.astimezone(UTC).strftime("%H:%M UTC") in flat
            assert "Please try again in 2 minutes. (read from 'try again in 2 minutes')" in flat
            seen["until"], seen["calls"] = until, api.calls
            assert (ledger / PAUSE_FILE).is_file()

        async def after_restart(daemon: Daemon) -> None:
            _, out = await cli(capsys, "status", "--json")
            quota = json.loads(out)["agent_work"]["quota"]
            assert quota is not None  # the pause survived the restart
            until = datetime.fromisoformat(quota["until"])
            assert abs((until - seen["until"]).total_seconds()) < 1.0
            assert quota["basis"] == "try again in 2 minutes"
            _, text = await cli(capsys, "status")
            assert "quota pause claude" in text
            await cli(capsys, "enqueue", "probe", "--key", "probe:2")
            await trio.sleep(1.0)
            assert api.calls == seen["calls"]  # paused: claude was not asked again
            assert daemon.manager is not None
            assert daemon.manager.status().queue_depth == 1

            api.limited = False
            _, out = await cli(capsys, "detect", "--force")
            assert out.startswith("lifted any quota pause, parked item and paused work type")
            with trio.fail_after(120):
                while daemon.manager.status().stats.outcomes.get("answered", 0) < 1:  # noqa: ASYNC110
                    await trio.sleep(0.05)
            _, out = await cli(capsys, "status", "--json")
            work = json.loads(out)["agent_work"]
            assert work["quota"] is None
            assert not [h for h in work["holds"] if h["kind"] == "quota"]
            assert [(p["outcome"], p["reason"]) for p in work["recent"]][-1] == ("answered", "hi")
            assert not (ledger / PAUSE_FILE).exists()

        await daemon_run(first_run)
        await daemon_run(after_restart)
