"""Shared parts of the end-to-end tests: a user's home, a ledger with a bare remote, a fake
`claude` executable and `ox-core serve` as a real subprocess.

Everything is real except the agent's model: git repositories on disk, the daemon process, its
Unix socket, the CLI as a subprocess, a fake `claude` script that prints a recorded stream-json
answer (from the fixtures) whose `result` is a valid summary.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest.mock
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ox_core.errors import OxError
from ox_core.ipc import call
from ox_core.settings import load_settings
from ox_core.testing import TempLedger, make_ledger, stop_process

DATA = Path(__file__).parent / "data"

SUMMARY = {
    "title": "Fix leap-year date parsing in the parser",
    "summary": "The user asked why the date parser rejected February 29; the assistant found a "
    "fixed 28-day February, switched to calendar.monthrange and added a regression test.",
    "key_actions": [
        "Explained the leap-year bug in parse_date",
        "Changed parse_date to use calendar.monthrange",
        "Added test_leap_day to tests/test_parser.py",
    ],
    "outcome": "success",
    "topics_found": ["python", "dates", "testing"],
    "quality_category": "share",
    "quality_score": 0.85,
    "score_reason": "A real bug fixed with a test; useful to the team.",
}


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` and return its stdout (raises on failure)."""
    return subprocess.run(
        ["git", "-C", str(cwd), *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
    ).stdout


def stream_json_answer(text: str) -> str:
    """The recorded `claude -p --output-format stream-json` stdout, answering `text`."""
    lines = []
    for line in (DATA / "claude_stream_json.stdout").read_text().splitlines():
        event = json.loads(line)
        if event.get("type") == "assistant":
            event["message"]["content"] = [{"type": "text", "text": text}]
        elif event.get("type") == "result":
            event["result"] = text
        lines.append(json.dumps(event))
    return "\n".join(lines) + "\n"


@dataclass
class FakeClaude:
    """A `claude` executable: `auth status` answers logged in; a run reads the prompt, notes
    its pid in `started`, waits while `block` exists, then prints the stream-json answer."""

    path: Path
    state: Path

    @property
    def started(self) -> Path:
        return self.state / "started"

    @property
    def block(self) -> Path:
        return self.state / "block"

    @property
    def prompts(self) -> list[str]:
        return sorted(p.read_text() for p in self.state.glob("prompt-*"))


def make_fake_claude(where: Path, answer: str) -> FakeClaude:
    where.mkdir(parents=True)
    state = where / "state"
    state.mkdir()
    (state / "stdout").write_text(stream_json_answer(answer))
    (state / "auth").write_text((DATA / "claude_auth_status.stdout").read_text())
    script = where / "claude"
    script.write_text(
        "#!/bin/sh\n"
        f'STATE="{state}"\n'
        'if [ "$1" = "auth" ]; then cat "$STATE/auth"; exit 0; fi\n'
        'cat > "$STATE/prompt-$$"\n'
        'echo $$ > "$STATE/started"\n'
        'while [ -e "$STATE/block" ]; do sleep 0.05; done\n'
        'cat "$STATE/stdout"\n'
    )
    script.chmod(0o755)
    return FakeClaude(script, state)


@dataclass
class Daemon:
    """One `ox-core serve` subprocess and the way to reach it."""

    proc: subprocess.Popen[bytes]
    socket: Path
    log: Path

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        return call(self.socket, method, params, timeout=30)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"the daemon exited: {self.log.read_text()}")
            try:
                if self.call("status")["daemon"]["ready"]:
                    return
            except OxError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the daemon is not ready: {self.log.read_text()}")
            time.sleep(0.02)

    def stop(self) -> int:
        return stop_process(self.proc)


@dataclass
class OxWorld:
    """A user's machine for one test: HOME, environment, ledger clone and its bare remote."""

    home: Path
    env: dict[str, str]
    ledger: Path
    remote: Path
    claude: FakeClaude
    daemons: list[Daemon] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=lambda: dict(SUMMARY))
    data: Path = DATA

    @staticmethod
    def git(cwd: Path, *args: str) -> str:
        return git(cwd, *args)

    def serve(self) -> Daemon:
        log = self.home / f"daemon-{len(self.daemons)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "ox_core.cli", "serve"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        daemon = Daemon(proc, self.socket(), log)
        self.daemons.append(daemon)
        daemon.wait_ready()
        return daemon

    def socket(self) -> Path:
        with unittest.mock.patch.dict(os.environ, self.env, clear=True):
            return load_settings().socket_path()

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "ox_core.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"ox-core {' '.join(args)}: {result.stderr}")
        return result

    def fresh_clone(self, name: str = "check") -> Path:
        return TempLedger(self.ledger, self.remote).clone_remote(self.home / name)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[OxWorld]:
    home = tmp_path / "home"
    home.mkdir()
    team = make_ledger(tmp_path / "team")  # a clone with `.ox/cache/` ignored, a bare remote
    ledger, remote = team.path, team.remote
    claude = make_fake_claude(tmp_path / "fake-claude", json.dumps(SUMMARY))
    with tempfile.TemporaryDirectory(prefix="oxe") as runtime:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
        env.update(
            HOME=str(home),
            USER="dev",
            XDG_RUNTIME_DIR=runtime,
            PATH="/usr/bin:/bin",  # no real agent CLI can be found
            OX_LEDGER=str(ledger),
            OX_RUNNERS__CLAUDE__BINARY=str(claude.path),
            OX_AGENT_WORK__AGENT="claude",
        )
        w = OxWorld(home, env, ledger, remote, claude)
        try:
            yield w
        finally:
            for daemon in w.daemons:
                if daemon.proc.poll() is None:
                    daemon.proc.kill()
                    daemon.proc.wait()
                # Shown by pytest only when the test failed: what the daemon did meanwhile.
                with contextlib.suppress(OSError):
                    print(f"--- {daemon.log.name}, last 200 lines")
                    print("\n".join(daemon.log.read_text(errors="replace").splitlines()[-200:]))
            if claude.started.exists():
                # a fake claude orphaned by a killed daemon
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(claude.started.read_text()), signal.SIGKILL)


@pytest.fixture
def pid_holder() -> Iterator[int]:
    """A live process standing for the agent (its pid keeps the recording open)."""
    proc = subprocess.Popen(["sleep", "600"])
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()
