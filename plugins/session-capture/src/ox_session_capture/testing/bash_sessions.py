"""Claude Code sessions of Bash calls, recorded through the real `ox-core session` commands: the
end-to-end secrets tests (tests/test_secrets_*_e2e.py) print what a tool printed and look for
it on the remote."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from ox_core.testing import remote_objects_text, wait_until
from ox_session_capture.records import RecordError, read_marker


class World(Protocol):
    """What these helpers need of the tests' world: the `ox-core` command in its environment,
    git, the bare remote and the fake summarizer's prompts."""

    remote: Path

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]: ...

    @staticmethod
    def git(cwd: Path, *args: str) -> str: ...

    @property
    def claude(self) -> Summarizer: ...


class Summarizer(Protocol):
    @property
    def prompts(self) -> list[str]: ...


class Daemon(Protocol):
    def stop(self) -> int: ...


TS = "2026-11-24T00:38:26.778Z"

Call = tuple[str, str, bool]
"""A Bash call: its command, what it printed, whether it failed."""


def bash_session(prompt: str, calls: Sequence[Call], closing: str) -> list[dict[str, Any]]:
    """The lines of a session: the user's `prompt`, each call and its result, `closing`."""
    lines: list[dict[str, Any]] = [
        {"type": "user", "uuid": "u-0", "timestamp": TS,
         "message": {"role": "user", "content": prompt}},
    ]  # fmt: skip
    for n, (command, output, failed) in enumerate(calls):
        lines += [
            {"type": "assistant", "uuid": f"a-{n}", "timestamp": TS,
             "message": {"role": "assistant", "model": "claude-test", "content": [
                 {"type": "tool_use", "id": f"toolu_{n}", "name": "Bash",
                  "input": {"command": command}}]}},
            {"type": "user", "uuid": f"r-{n}", "timestamp": TS,
             "message": {"role": "user", "content": [
                 {"type": "tool_result", "tool_use_id": f"toolu_{n}", "content": output,
                  "is_error": failed}]}},
        ]  # fmt: skip
    lines.append(
        {"type": "assistant", "uuid": "a-end", "timestamp": TS,
         "message": {"role": "assistant", "model": "claude-test",
                     "content": [{"type": "text", "text": closing}]}}
    )  # fmt: skip
    return lines


def record(
    world: World, source: Path, pid: int, lines: list[Any], adapter: str = "claude-code"
) -> str:
    """Start a recording of `source` (`ox-core session start`), append `lines`, wait until
    they are captured (the marker with its commit slot applied, docs/capture-journal.md),
    stop it; its name."""
    source.parent.mkdir(parents=True, exist_ok=True)
    source.touch()
    started = world.cli(
        "session", "start", "--adapter", adapter, "--file", str(source), "--pid", str(pid),
        "--json",
    )  # fmt: skip
    reply = json.loads(started.stdout)
    with source.open("a") as out:
        for line in lines:
            out.write(json.dumps(line) + "\n")
    offset = source.stat().st_size
    session_dir = Path(reply["session_dir"])

    def captured() -> bool:
        try:
            return read_marker(session_dir).source_offset == offset
        except (FileNotFoundError, RecordError):
            return False

    wait_until(f"the {adapter} session to be captured", captured)
    world.cli("session", "stop", reply["name"])
    return str(reply["name"])


def published(
    world: World, daemon: Daemon, source: Path, pid: int, lines: list[Any]
) -> tuple[str, str]:
    """Record `lines` (`record`), wait until the daemon pushed the session, stop it; then every
    object of the remote and every prompt the summarizer received, as text."""
    name = record(world, source, pid, lines)
    wait_until(
        "the session on the remote",
        lambda: world.git(world.remote, "ls-tree", "main", f"sessions/{name}/summary.md"),
    )
    assert daemon.stop() == 0
    return remote_objects_text(world.remote), "\n".join(world.claude.prompts)


def captured_result(command: str, output: str) -> tuple[str, bytes]:
    """A successful Bash call of `command` that printed `output`, as capture converts and
    redacts it: the result's `tool_output` as `raw.jsonl` stores it (its excerpt, cut then
    redacted), and that file as it would be uploaded."""
    from ox_session_capture.adapters.claude_code import ClaudeCodeAdapter
    from ox_session_capture.raw_lines import entry_lines, redact_fields
    from ox_session_capture.redact import make_redactor, redact_file_bytes

    call, result = bash_session("", [(command, output, False)], "")[1:3]
    adapter = ClaudeCodeAdapter()
    entries = [
        e for line in (call, result) for e in adapter.parse_fields(json.dumps(line).encode())
    ]
    redact_fields(entries, make_redactor(None))
    return entries[-1]["tool_output"], redact_file_bytes("raw.jsonl", entry_lines(entries))
