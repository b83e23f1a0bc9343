"""End to end: the whole secrets corpus goes through capture, finalization and push, and not
one secret value reaches the team's remote, its LFS server or the summarizer's prompt.

`ox-core serve` runs as a real process; a claude-code session and a codex session receive
every shape of the corpus (tests/corpus in the session-finalize plugin) as user prompts,
assistant text, tool inputs (JSON-escaped, the secret starting a line) and, for codex, failing
tool outputs (JSON inside a JSON string); the fake `claude` summarizer quotes secrets back in
its answer. The test then reads every object of the bare remote (`git cat-file
--batch-all-objects`), every object the LFS server stored and every prompt the fake agent
received (its stdin), with and without git-LFS.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import pytest

from ox_core.testing import remote_objects_text, wait_until
from ox_handler_session_finalize.git import has_git_lfs
from ox_session_capture.testing.bash_sessions import record
from ox_session_capture.testing.corpus import secrets as corpus

if TYPE_CHECKING:
    from conftest import OxWorld

PLUGIN_TESTS = Path(__file__).resolve().parents[1] / "plugins/handler-session-finalize/tests"


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


SHAPES = corpus.SHAPES
TS = "2026-11-24T00:38:26.778Z"


# ---------------------------------------------------------------- the agents' session lines


def claude_lines() -> list[dict[str, Any]]:
    """Each shape as a user prompt, an assistant answer quoting it at a line start and a Bash
    `tool_use` whose command writes it to a file (JSON-escaped in the tool input)."""
    lines: list[dict[str, Any]] = []
    for n, shape in enumerate(SHAPES):
        lines.append(
            {"type": "user", "uuid": f"u-{n}", "timestamp": TS,
             "message": {"role": "user", "content": f"step {n}: use {shape.text} please"}}
        )  # fmt: skip
        blocks = [
            {"type": "text", "text": corpus.at_line_start(shape)},
            {"type": "tool_use", "id": f"toolu_{n}", "name": "Bash",
             "input": {"command": f"cat > .env <<'EOF'\n{shape.text}\nEOF",
                       "description": "write the config"}},
        ]  # fmt: skip
        lines.append(
            {"type": "assistant", "uuid": f"a-{n}", "timestamp": TS,
             "message": {"role": "assistant", "model": "claude-test", "content": blocks}}
        )  # fmt: skip
    return lines


def codex_lines() -> list[dict[str, Any]]:
    """Each shape in a codex `function_call` (its arguments a JSON string) and in the output
    of the failing command (JSON inside a JSON string), plus the turn's messages."""
    lines: list[dict[str, Any]] = [
        {"timestamp": TS, "type": "session_meta", "payload": {"cli_version": "0.169.0"}}
    ]
    for n, shape in enumerate(SHAPES):
        call = f"call_{n}"
        args = json.dumps({"cmd": ["bash", "-lc", f"echo start\n{shape.text}\nexit 1"]})
        output = json.dumps(
            {"output": f"error: rejected\n{shape.text}\n", "metadata": {"exit_code": 1}}
        )
        lines += [
            {"timestamp": TS, "type": "response_item", "payload": {
                "type": "message", "id": f"mu_{n}", "role": "user",
                "content": [{"type": "input_text", "text": f"try {shape.text} now, please"}]}},
            {"timestamp": TS, "type": "response_item", "payload": {
                "type": "function_call", "id": f"fc_{n}", "call_id": call,
                "name": "exec_command", "arguments": args}},
            {"timestamp": TS, "type": "response_item", "payload": {
                "type": "function_call_output", "call_id": call, "output": output}},
            {"timestamp": TS, "type": "response_item", "payload": {
                "type": "message", "id": f"ma_{n}", "role": "assistant",
                "content": [{"type": "output_text", "text": f"It failed with\n{shape.text}"}]}},
        ]  # fmt: skip
    return lines


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def lfs_storage(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The session-finalize tests' LFS server (a real HTTP process on 127.0.0.1)."""
    if not has_git_lfs():
        pytest.skip("git-lfs is not installed (Debian package `git-lfs`)")
    storage, port_file = tmp_path / "lfs-objects", tmp_path / "lfs-port"
    proc = subprocess.Popen(
        [sys.executable, str(PLUGIN_TESTS / "lfs_server.py"), str(storage), str(port_file)],
        start_new_session=True,
    )
    try:
        wait_until("the LFS server", lambda: port_file.exists() or proc.poll() is not None, 10)
        assert proc.poll() is None, "the LFS server exited"
        port = int(port_file.read_text())
        yield f"http://127.0.0.1:{port}/ledger.git/info/lfs", storage
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# ---------------------------------------------------------------- the test


def leaks(haystack: str) -> list[str]:
    found = []
    for shape in SHAPES:
        forms = {shape.secret, json.dumps(shape.secret)[1:-1], escape(shape.secret)}
        if any(form in haystack for form in forms):
            found.append(f"{shape.vendor}/{shape.kind}: {shape.text[:60]!r}")
    return found


@pytest.mark.parametrize("lfs", [False, True], ids=["git", "lfs"])
def test_no_secret_of_the_corpus_reaches_the_remote_or_the_summarizer(
    world: OxWorld, pid_holder: int, lfs: bool, request: pytest.FixtureRequest
) -> None:
    storage: Path | None = None
    if lfs:
        url, storage = request.getfixturevalue("lfs_storage")
        world.git(world.ledger, "config", "lfs.url", url)
        world.git(world.ledger, "config", "lfs.locksverify", "false")
    quoted = [s.text for s in SHAPES[::9]]
    answer = {
        **world.summary,
        "summary": "The user pasted " + "; ".join(quoted),
        "key_actions": [f"Configured {text}" for text in quoted[:5]],
    }
    conftest = _load("ox_e2e_conftest", Path(__file__).with_name("conftest.py"))
    (world.claude.state / "stdout").write_text(conftest.stream_json_answer(json.dumps(answer)))

    daemon = world.serve()
    home = world.home
    claude_file = home / ".claude/projects/-home-dev-demo-project/f04c7045-secrets.jsonl"
    codex_file = home / ".codex/sessions/2026/11/24/rollout-2026-11-24T00-38-26-secrets.jsonl"
    names = [
        record(world, claude_file, pid_holder, claude_lines(), "claude-code"),
        record(world, codex_file, pid_holder, codex_lines(), "codex"),
    ]
    wait_until(
        "both sessions on the remote",
        lambda: all(
            world.git(world.remote, "ls-tree", "main", f"sessions/{n}/summary.md") for n in names
        ),
    )
    assert daemon.stop() == 0

    # The sessions did reach the remote, whole and redacted (the test can fail).
    clone = world.fresh_clone()
    for name in names:
        assert {p.name for p in (clone / "sessions" / name).iterdir()} >= {
            "raw.jsonl", "session.md", "summary.json", "summary.md", "meta.json"
        }  # fmt: skip
    blobs = remote_objects_text(world.remote)
    lfs_objects = ""
    if storage is not None:
        stored = [p for p in storage.iterdir() if not p.name.startswith(".")]
        assert len(stored) >= 6  # raw.jsonl, session.md, summary.md of each session
        lfs_objects = "".join(p.read_bytes().decode("utf-8", "replace") for p in stored)
        assert "version https://git-lfs.github.com/spec/v1" in blobs
        content = lfs_objects
    else:
        content = blobs
    assert content.count("[REDACTED_") >= 3 * len(SHAPES)
    assert "[REDACTED_GITHUB_TOKEN]" in content
    assert "[REDACTED_CLI_PASSWORD]" in content

    prompts = world.claude.prompts
    assert len(prompts) == 2
    assert "[REDACTED_" in prompts[0]
    assert "[REDACTED_" in prompts[1]

    print(
        f"\n{len(SHAPES)} shapes x 7 places, {len(names)} sessions, "
        f"{'LFS' if lfs else 'plain git'}: remote {len(blobs)} chars, "
        f"LFS {len(lfs_objects)} chars, prompts {sum(map(len, prompts))} chars"
    )
    assert leaks(blobs) == []
    assert leaks(lfs_objects) == []
    assert leaks("\n".join(prompts)) == []
