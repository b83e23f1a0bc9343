"""Helpers for the session watcher tests: realistic agent session lines, a session file under
a fake `$HOME`, and (run as a script) the watcher process of the kill test.

    python watch_support.py <ledger> <home>

runs a `SessionWatchService` on `<ledger>` with `$HOME` = `<home>` until killed; it resumes
every live tail recording from its persisted offset (`detect_and_restart`).
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

CLAUDE_DIR = ".claude/projects/-home-dev-demo-project"


def _line(obj: dict[str, Any]) -> bytes:
    return (json.dumps(obj) + "\n").encode()


def claude_user(uid: str, text: str | list[dict[str, Any]], **extra: Any) -> bytes:
    """A claude-code `user` line (as the CLI writes it, trimmed of noise)."""
    return _line(
        {
            "parentUuid": None,
            "isSidechain": False,
            "type": "user",
            "message": {"role": "user", "content": text},
            "uuid": uid,
            "timestamp": "2026-11-24T00:38:26.778Z",
            "sessionId": "f04c7045-b614-40b5-816d-7256c84b37f6",
            "version": "2.1.330",
            **extra,
        }
    )


def claude_assistant(uid: str, blocks: list[dict[str, Any]]) -> bytes:
    """A claude-code `assistant` line with the given content blocks."""
    return _line(
        {
            "parentUuid": None,
            "type": "assistant",
            "message": {
                "id": "msg_" + uid[:8],
                "type": "message",
                "role": "assistant",
                "model": "claude-opus-5-5",
                "content": blocks,
            },
            "uuid": uid,
            "timestamp": "2026-11-24T00:38:27.100Z",
            "sessionId": "f04c7045-b614-40b5-816d-7256c84b37f6",
            "version": "2.1.330",
        }
    )


def claude_text(uid: str, text: str) -> bytes:
    return claude_assistant(uid, [{"type": "text", "text": text}])


def numbered_user(n: int) -> bytes:
    """User line number `n` (uuid derived from n, text `message n`): easy to check in order."""
    return claude_user(str(uuid.UUID(int=n + 1)), f"message {n}")


def claude_session_file(home: Path, name: str = "f04c7045-b614-40b5-816d-7256c84b37f6") -> Path:
    folder = home / CLAUDE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.jsonl"
    path.touch()
    return path


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


def _main(ledger: Path, home: Path) -> None:
    import trio

    from ox_handler_session_finalize.service import SessionWatchService

    async def run() -> None:
        service = SessionWatchService(ledger, home=home, doctor_interval=0.2)
        await service.serve()

    trio.run(run)


if __name__ == "__main__":
    _main(Path(sys.argv[1]), Path(sys.argv[2]))
