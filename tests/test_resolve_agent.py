"""`resolve_agent` (the configured agent, else the usable runner of lowest priority) with
the three real runner classes, pointed at fake CLIs and fake HOMEs: claude over codex over
gemini among the usable ones, "none" when none is, and a configured name as is."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from ox_core.agents import resolve_agent
from ox_core.contracts import Runner
from ox_runner_claude import ClaudeRunner
from ox_runner_claude.runner import AUTH_ENV as CLAUDE_ENV
from ox_runner_codex import CodexRunner
from ox_runner_codex.runner import AUTH_ENV as CODEX_ENV
from ox_runner_gemini import GeminiRunner
from ox_runner_gemini.runner import AUTH_ENV as GEMINI_ENV
from ox_runner_gemini.runner import AUTH_FLAGS as GEMINI_FLAGS

LOGGED_IN = '{"loggedIn": true, "authMethod": "claude.ai"}'
LOGGED_OUT = '{"loggedIn": false, "authMethod": "none"}'


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in (*CLAUDE_ENV, *CODEX_ENV, *GEMINI_ENV, *GEMINI_FLAGS, "CODEX_HOME"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))


def fake(tmp_path: Path, name: str, status_args: str, stdout: str, code: int) -> Path:
    """A CLI that only answers its auth status subcommand."""
    folder = tmp_path / f"bin-{name}-{code}"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(
        f'#!/bin/sh\ncase "$*" in "{status_args}") echo \'{stdout}\'; exit {code};; esac\nexit 2\n'
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def claude(tmp_path: Path, *, installed: bool = True, logged_in: bool = True) -> Runner:
    if not installed:
        return ClaudeRunner(binary=tmp_path / "missing" / "claude")
    answer = LOGGED_IN if logged_in else LOGGED_OUT
    return ClaudeRunner(binary=fake(tmp_path, "claude", "auth status", answer, 0))


def codex(tmp_path: Path, *, installed: bool = True, logged_in: bool = True) -> Runner:
    if not installed:
        return CodexRunner(binary=tmp_path / "missing" / "codex")
    if logged_in:
        return CodexRunner(binary=fake(tmp_path, "codex", "login status", "Logged in", 0))
    return CodexRunner(binary=fake(tmp_path, "codex", "login status", "Not logged in", 1))


def gemini(tmp_path: Path, *, installed: bool = True, logged_in: bool = True) -> Runner:
    if not installed:
        return GeminiRunner(binary=tmp_path / "missing" / "gemini")
    binary = fake(tmp_path, "gemini", "--help", "", 0)
    return GeminiRunner(binary=binary, env={"GEMINI_API_KEY": "k"} if logged_in else {})


@pytest.mark.parametrize(
    ("claude_state", "codex_state", "gemini_state", "expected"),
    [
        ("ok", "ok", "ok", "claude"),
        ("logged-out", "ok", "ok", "codex"),
        ("missing", "ok", "ok", "codex"),
        ("missing", "logged-out", "ok", "gemini"),
        ("logged-out", "missing", "ok", "gemini"),
        ("ok", "missing", "missing", "claude"),
        ("missing", "ok", "logged-out", "codex"),
        ("missing", "missing", "missing", "none"),
        ("logged-out", "logged-out", "logged-out", "none"),
    ],
)
def test_auto_detection_prefers_claude_then_codex_then_gemini(
    tmp_path: Path, claude_state: str, codex_state: str, gemini_state: str, expected: str
) -> None:
    def make(factory: Callable[..., Runner], state: str) -> Runner:
        return factory(tmp_path, installed=state != "missing", logged_in=state == "ok")

    runners = [
        make(gemini, gemini_state),
        make(codex, codex_state),
        make(claude, claude_state),
    ]  # given in reverse: the order comes from each runner's priority
    assert resolve_agent("", runners) == expected


def test_configured_value_is_returned_as_is(tmp_path: Path) -> None:
    runners = [claude(tmp_path), codex(tmp_path), gemini(tmp_path)]
    assert resolve_agent("gemini", runners) == "gemini"
    nothing_usable = [claude(tmp_path, installed=False), codex(tmp_path, logged_in=False)]
    assert resolve_agent("codex", nothing_usable) == "codex"
    assert resolve_agent("some-other-agent", runners) == "some-other-agent"
    assert resolve_agent("none", runners) == "none"
