"""End to end with the real `claude` from npm against a fake model API: `ox-core hooks
install` in a temporary HOME, a daemon serving a ledger with a bare remote, and sessions that
are recorded, finalized and pushed without any `session` command.

The daemon summarises with the same real `claude` (its runs set
`OX_SESSION_RECORDING=disabled`, so the user's hooks that fire in them record nothing).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ox_core.testing import wait_until
from ox_core.testing_npm import npm_cli, read_pin
from ox_core.testing_runners import FakeModelApi, offline_env, sse
from ox_runner_claude.testing import message_stream, side_answer, text_block, tool_block

if TYPE_CHECKING:
    from conftest import OxWorld

pytestmark = pytest.mark.slow

PIN = read_pin(Path(__file__).parents[1] / "plugins" / "runner-claude" / "tests" / "real-cli.json")
RUN_TOOL = "RUN_TOOL"


class ScriptedClaudeApi:
    """A scripted fake Anthropic Messages API: a prompt holding `RUN_TOOL` gets a `Bash` tool
    call first, then a text answer; the summary prompt (it asks for `quality_score`) gets
    `summary` as JSON; every other prompt a short text answer."""

    def __init__(self, summary: dict[str, Any]) -> None:
        self.summary = summary
        self.summaries = 0
        self.turns = 0
        self.stall = False  # hold the answers after a tool result (a turn in progress)
        self.stalled = 0

    def __call__(self, path: str, body: dict[str, Any]) -> tuple[int, str, bytes]:
        if (side := side_answer(path)) is not None:
            return side
        text = json.dumps(body.get("messages", []))
        users = [m for m in body.get("messages") or [] if m.get("role") == "user"]
        last_text = json.dumps(users[-1].get("content")) if users else ""
        if "quality_score" in text:
            self.summaries += 1
            return self._text(json.dumps(self.summary), body)
        self.turns += 1
        if '"tool_result"' in last_text:
            deadline = time.monotonic() + 120
            while self.stall and time.monotonic() < deadline:
                self.stalled += 1
                time.sleep(0.05)
            return self._text("The command printed hello-from-the-tool; all done.", body)
        if RUN_TOOL in last_text:
            return self._tool(body)
        return self._text(f"Answer number {self.turns}: nothing else to do.", body)

    def _text(self, text: str, body: dict[str, Any]) -> tuple[int, str, bytes]:
        return message_stream(body, [text_block(text)])

    def _tool(self, body: dict[str, Any]) -> tuple[int, str, bytes]:
        intro = "I will run a shell command that prints the greeting first."
        args = {"command": "echo hello-from-the-tool", "description": "Print a greeting"}
        blocks = [text_block(intro), tool_block("Bash", args)]
        return message_stream(body, blocks, stop_reason="tool_use")


PROMPT_1 = (
    f"{RUN_TOOL}: please run a shell command that prints a friendly greeting, and then tell me "
    "exactly what that command printed."
)
PROMPT_2 = (
    "Thank you. Now summarise in one sentence what we did in this session, for the notes of "
    "the team that reads them."
)


@pytest.fixture(scope="module")
def claude_binary() -> Path:
    return npm_cli(PIN)


def start_world(world: OxWorld, binary: Path, url: str) -> dict[str, str]:
    """The user's environment for `claude` (the daemon's summarizer gets the same)."""
    world.env.update(
        {
            **offline_env(world.home),
            "ANTHROPIC_BASE_URL": url,
            "ANTHROPIC_API_KEY": "sk-ant-fake",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_AUTOUPDATER": "1",
            "OX_RUNNERS__CLAUDE__BINARY": str(binary),
        }
    )
    for key in ("CLAUDECODE", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"):
        world.env.pop(key, None)
    return dict(world.env)


def claude_argv(binary: Path, prompt: str, *more: str) -> list[str]:
    return [str(binary), "-p", prompt, "--output-format", "json", "--allowedTools", "Bash", *more]


def run_claude(binary: Path, env: dict[str, str], cwd: Path, prompt: str, *more: str) -> str:
    """Run one `claude -p` turn; returns its session id."""
    result = subprocess.run(
        claude_argv(binary, prompt, *more),
        stdin=subprocess.DEVNULL, cwd=cwd, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return str(json.loads(result.stdout)["session_id"])


def remote_sessions(world: OxWorld) -> list[str]:
    out = world.git(world.remote, "ls-tree", "--name-only", "main", "sessions/")
    return [line.removeprefix("sessions/") for line in out.splitlines()]


def raw_lines(raw: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the header's `_meta`, the entries) of a published `raw.jsonl`."""
    records = [json.loads(line) for line in raw.read_text().splitlines() if line.strip()]
    meta = records[0]["_meta"]
    return meta, [r for r in records[1:] if "_meta" not in r and r.get("type") != "footer"]


def transcript_ids(path: Path) -> list[str]:
    """The agent message ids in the agent's own transcript, as the adapter reads them."""
    from ox_session_capture.adapters import load_adapter

    adapter = load_adapter("claude-code")
    ids = []
    for line in path.read_bytes().splitlines(keepends=True):
        for e in adapter.parse_line(line):
            sid = (e.model_extra or {}).get("source_id")
            if sid:
                ids.append(sid)
    return ids


def test_real_claude_session_and_its_resume_are_recorded_by_the_hooks_alone(
    world: OxWorld, claude_binary: Path
) -> None:
    installed = world.cli("hooks", "install")
    assert "claude-code: installed" in installed.stdout
    assert world.cli("hooks", "status", "--agent", "claude-code").stdout.startswith(
        "claude-code: installed"
    )
    api = ScriptedClaudeApi(world.summary)
    work = world.home / "project"
    work.mkdir()
    with FakeModelApi(api) as server:
        env = start_world(world, claude_binary, server.url)
        daemon = world.serve()
        session_id = run_claude(claude_binary, env, work, PROMPT_1)
        first = wait_until("the first part on the remote", lambda: remote_sessions(world), 180)
        assert run_claude(claude_binary, env, work, PROMPT_2, "--resume", session_id) == session_id
        both = wait_until(
            "the resume's part on the remote",
            lambda: len(names := remote_sessions(world)) == 2 and names,
            180,
        )
        assert daemon.stop() == 0
    second = [n for n in both if n not in first]
    assert len(second) == 1, both
    clone = world.fresh_clone()
    meta_1, part_1 = raw_lines(clone / "sessions" / first[0] / "raw.jsonl")
    meta_2, part_2 = raw_lines(clone / "sessions" / second[0] / "raw.jsonl")
    # One agent session, two linked parts.
    assert meta_1["agent_session_id"] == meta_2["agent_session_id"] == session_id
    assert meta_2["previous_part"] == first[0]
    assert "previous_part" not in meta_1
    # Every message of the transcript recorded exactly once across the parts.
    (transcript,) = (world.home / ".claude" / "projects").glob(f"*/{session_id}.jsonl")
    expected = transcript_ids(transcript)
    recorded = [e["source_id"] for e in part_1 + part_2 if "source_id" in e]
    assert sorted(recorded) == sorted(set(expected))
    assert len(recorded) == len(set(recorded))
    users = [e["content"] for e in part_1 + part_2 if e["type"] == "user"]
    assert [u for u in users if "RUN_TOOL" in u or "Thank you" in u] == [PROMPT_1, PROMPT_2]
    assert any("hello-from-the-tool" in json.dumps(e) for e in part_1), part_1
    assert any(e["type"] == "assistant" and "all done" in e["content"] for e in part_1)
    assert any(e["type"] == "assistant" for e in part_2)
    # The summarizer ran for each part; its own runs left no recording and no transcript.
    assert api.summaries == 2
    cache = world.ledger / ".ox" / "cache" / "sessions"
    assert not cache.exists() or list(cache.iterdir()) == []
    assert list((world.home / ".claude" / "projects").glob("*/*.jsonl")) == [transcript]
    assert not (world.home / ".local" / "state" / "ox" / "hooks.log").exists()


def test_real_claude_killed_mid_turn_is_finalized_within_60_s(
    world: OxWorld, claude_binary: Path
) -> None:
    world.cli("hooks", "install", "--agent", "claude-code")
    api = ScriptedClaudeApi(world.summary)
    api.stall = True
    work = world.home / "project"
    work.mkdir()
    cache = world.ledger / ".ox" / "cache" / "sessions"
    with FakeModelApi(api) as server:
        env = start_world(world, claude_binary, server.url)
        world.serve()
        proc = subprocess.Popen(
            claude_argv(claude_binary, PROMPT_1),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            cwd=work, env=env, start_new_session=True,
        )  # fmt: skip
        try:
            wait_until("the turn in progress", lambda: api.stalled > 0, 120)

            def live_marker() -> dict[str, Any] | None:
                for marker in cache.glob("*/.recording.json"):
                    return dict(json.loads(marker.read_text()))
                return None

            marker = wait_until("the recording", live_marker, 60)
            # The hook ran through `sh -c`: the recording follows claude itself.
            assert marker["parent_pid"] == proc.pid

            def transcript_has_the_tool_result() -> bool:
                # claude writes its transcript in batches: killed before the batch with the
                # tool's output, its file holds only the prompt, a brief session ox discards.
                files = (world.home / ".claude" / "projects").glob("*/*.jsonl")
                return any(b"hello-from-the-tool" in f.read_bytes() for f in files)

            wait_until("claude's transcript of the turn", transcript_has_the_tool_result, 120)
            os.kill(proc.pid, signal.SIGKILL)
            killed = time.monotonic()
            proc.wait()
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        published = wait_until("the publish", lambda: remote_sessions(world), 90)
        took = time.monotonic() - killed
        api.stall = False
    assert took < 60, f"finalized {took:.1f} s after the kill"
    clone = world.fresh_clone()
    _meta, entries = raw_lines(clone / "sessions" / published[0] / "raw.jsonl")
    assert entries[0]["type"] == "user"
    assert RUN_TOOL in entries[0]["content"]
    assert any("hello-from-the-tool" in json.dumps(e) for e in entries)


# ------------------------------------------------------------------ codex and gemini

RUNNER_TESTS = Path(__file__).parents[1] / "plugins"


def runner_test_module(agent: str) -> Any:
    """The real-CLI test module of a runner plugin, for its fake model API (one copy)."""
    import importlib.util

    path = RUNNER_TESTS / f"runner-{agent}" / "tests" / f"test_{agent}_real.py"
    spec = importlib.util.spec_from_file_location(f"_ox_e2e_{agent}_real", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Kit:
    sse = staticmethod(sse)


def agent_setup(agent: str, home: Path, url: str) -> tuple[dict[str, str], Any]:
    """The environment the real CLI needs against the fake API at `url`, and how to find its
    transcripts under `home`."""
    if agent == "codex":
        runner_test_module("codex").codex_home(home, url)
        return {"OPENAI_API_KEY": "sk-fake"}, (home / ".codex" / "sessions", "**/rollout-*.jsonl")
    settings = home / ".gemini" / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(settings.read_text()) if settings.exists() else {}
    data.update(
        {
            "security": {"auth": {"selectedType": "gemini-api-key"}},
            "telemetry": {"enabled": False},
            "privacy": {"usageStatisticsEnabled": False},
        }
    )
    settings.write_text(json.dumps(data))
    env = {
        "GOOGLE_GEMINI_BASE_URL": url,
        "GEMINI_API_KEY": "fake-key",
        "GEMINI_CLI_TRUST_WORKSPACE": "true",
    }
    return env, (home / ".gemini" / "tmp", "*/chats/*.jsonl")


def agent_turn(
    agent: str, binary: Path, env: dict[str, str], cwd: Path, prompt: str, resume: bool
) -> None:
    if agent == "codex":
        # Codex runs a new hook only once the user trusted it (`/hooks` in its TUI); this
        # one-off run stands for that review.
        more = ["resume", "--last"] if resume else []
        argv = [str(binary), "exec", "--dangerously-bypass-hook-trust", "--json",
                "--skip-git-repo-check", *more, "-"]  # fmt: skip
        stdin: Any = prompt.encode()
    else:
        argv = [str(binary), "-p", prompt, "--output-format", "json",
                *(["--resume", "latest"] if resume else [])]  # fmt: skip
        stdin = None
    result = subprocess.run(
        argv, input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
        cwd=cwd, env=env, capture_output=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]


def parsed(agent: str, path: Path) -> list[tuple[str, str]]:
    """(type, content) of the transcript's messages as the adapter reads them, each agent
    message id once (gemini lists earlier messages again when a chat is resumed)."""
    from ox_session_capture.adapters import load_adapter

    adapter = load_adapter(agent)
    seen: set[str] = set()
    out = []
    for line in path.read_bytes().splitlines(keepends=True):
        for e in adapter.parse_line(line):
            sid = (e.model_extra or {}).get("source_id")
            if sid and sid in seen:
                continue
            seen.add(sid or "")
            out.append((e.type, e.content))
    return out


@pytest.mark.parametrize("agent", ["codex", "gemini"])
def test_real_codex_and_gemini_sessions_and_resumes_are_recorded_by_the_hooks(
    world: OxWorld, agent: str
) -> None:
    module = runner_test_module(agent)
    binary = npm_cli(read_pin(RUNNER_TESTS / f"runner-{agent}" / "tests" / "real-cli.json"))
    api = (module.ResponsesApi if agent == "codex" else module.GeminiApi)(
        Kit(), "A fake answer from the model, long enough to be a real reply to the user."
    )
    work = world.home / "project"
    work.mkdir()
    with FakeModelApi(api) as server:
        extra, (root, pattern) = agent_setup(agent, world.home, server.url)
        assert "installed" in world.cli("hooks", "install", "--agent", agent).stdout
        env = {**world.env, **offline_env(world.home), "PATH": "/usr/bin:/bin", **extra}
        world.serve()
        agent_turn(agent, binary, env, work, PROMPT_1.replace(RUN_TOOL, "Hello"), resume=False)
        first = wait_until("the first part on the remote", lambda: remote_sessions(world), 180)
        agent_turn(agent, binary, env, work, PROMPT_2, resume=True)
        both = wait_until(
            "the resume's part on the remote",
            lambda: len(names := remote_sessions(world)) == 2 and names,
            180,
        )
    (second,) = [n for n in both if n not in first]
    clone = world.fresh_clone()
    meta_1, part_1 = raw_lines(clone / "sessions" / first[0] / "raw.jsonl")
    meta_2, part_2 = raw_lines(clone / "sessions" / second / "raw.jsonl")
    assert meta_2["previous_part"] == first[0]
    assert meta_1["agent_session_id"] == meta_2["agent_session_id"]
    # Gemini leaves a stub file (header, context) when a resume's minute differs from the
    # session's first; the conversation is the session's own file, the longest.
    transcript = max(root.glob(pattern), key=lambda p: p.stat().st_size)
    recorded = [(e["type"], e["content"]) for e in part_1 + part_2]
    assert recorded == parsed(agent, transcript)  # all of it, in order, nothing twice
    users = [c for t, c in recorded if t == "user"]
    assert users[-2:] == [PROMPT_1.replace(RUN_TOOL, "Hello"), PROMPT_2]
    cache = world.ledger / ".ox" / "cache" / "sessions"
    assert not cache.exists() or list(cache.iterdir()) == []
