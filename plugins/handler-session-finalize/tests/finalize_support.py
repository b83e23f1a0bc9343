"""Helpers for the finalization tests: git repositories on disk, session folders, answers."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ox_core import Outcome, RunResult
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_handler_session_finalize.testing import SUMMARY
from ox_session_capture import records

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@localhost",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@localhost",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
}


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git synchronously in `repo` (test set-up and checks only); stdout."""
    result = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
        timeout=60,
    )
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr}")
    return result.stdout


def make_remote(root: Path) -> Path:
    """A bare repository holding one commit with the ledger's `.gitignore`."""
    remote = root / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    seed = root / "seed"
    subprocess.run(["git", "clone", "-q", str(remote), str(seed)], check=True)
    (seed / ".gitignore").write_text(".ox/cache/\n")
    git(seed, "add", ".gitignore")
    git(seed, "commit", "-q", "-m", "ledger")
    git(seed, "push", "-q", "origin", "HEAD:main")
    return remote


def clone(remote: Path, dest: Path, *, skip_smudge: bool = True) -> Path:
    env = {"GIT_LFS_SKIP_SMUDGE": "1"} if skip_smudge else None
    git(remote.parent, "clone", "-q", str(remote), str(dest), env=env)
    return dest


def commit_count(repo: Path, ref: str = "HEAD") -> int:
    return int(git(repo, "rev-list", "--count", ref).strip())


def ts(minutes_ago: float = 0) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


def entries(n_pairs: int = 2, extra_user: str = "") -> list[dict[str, Any]]:
    """A realistic little conversation: user prompts long enough not to be 'brief'."""
    out: list[dict[str, Any]] = []
    for i in range(n_pairs):
        out.append(
            {
                "ts": ts(30 - i),
                "type": "user",
                "content": f"Please refactor the parser module, step {i}, and keep the tests green "
                f"while you move the tokenizer into its own file. {extra_user}",
            }
        )
        out.append(
            {
                "ts": ts(29 - i),
                "type": "assistant",
                "content": f"Done with step {i}: moved the tokenizer and updated the imports.",
            }
        )
        out.append(
            {
                "ts": ts(29 - i),
                "type": "tool",
                "tool_name": "Edit",
                "tool_input": json.dumps({"file": "parser.py"}),
                "call_id": f"call_{i}",
            }
        )
    return out


def write_raw(folder: Path, lines: list[dict[str, Any]], *, header: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    body = []
    if header:
        body.append(
            {
                "_meta": {
                    "schema_version": "1",
                    "agent_id": "a1",
                    "agent_type": "claude-code",
                    "session_id": "ses_0192",
                    "started_at": ts(31),
                    "username": "dev",
                    "model": "claude-sonnet",
                }
            }
        )
    body += lines
    (folder / records.RAW).write_text("".join(json.dumps(obj) + "\n" for obj in body))


def make_session(
    root: Path,
    name: str = "2026-11-25T10-00-dev-a1",
    lines: list[dict[str, Any]] | None = None,
    *,
    marker: dict[str, Any] | None = None,
) -> Path:
    """A session folder under `root` with a raw transcript (and a marker when given)."""
    folder = root / name
    write_raw(folder, entries() if lines is None else lines)
    if marker is not None:
        (folder / records.MARKER).write_text(json.dumps(marker))
    return folder


def answer(**overrides: Any) -> str:
    """A valid summary answer as the agent would print it."""
    data: dict[str, Any] = dict(SUMMARY)
    data.update(overrides)
    return json.dumps(data)


async def finalize_one(handler: SessionFinalizeHandler, ledger: Path, output: str) -> Outcome:
    """Detect the one session of `ledger` that needs work and finalize it as the manager
    does: the agent answers `output`, unless the prompt asks for no run."""
    [item] = await handler.detect(ledger)
    request = await handler.build_prompt(item)
    outcome = await handler.process_result(
        item, RunResult() if request.skip_llm else RunResult(output=output)
    )
    assert isinstance(outcome, Outcome)
    return outcome
