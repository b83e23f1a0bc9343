"""Helpers for the session watcher tests: realistic agent session lines, a session file under
a fake `$HOME`, and (run as a script) the two processes of the kill test:

    python watch_support.py watch <ledger> <home>

runs a `SessionWatchService` on `<ledger>` with `$HOME` = `<home>` until killed; it resumes
every live tail recording from its persisted offset (`detect_and_restart`).

    python watch_support.py forkserver <ledger> <home>

imports everything once, then for each `spawn` line on stdin forks a fresh watcher process
(as `watch` does) and prints its PID; `kill <pid>` SIGKILLs and reaps it. Starting a watcher
then costs a fork instead of ~1 s of imports, so 30 kills fit in seconds.

    python watch_support.py write <file> <count> <lines per second>

appends `numbered_user(0..count-1)` to `<file>` at that rate, every third line in two writes
(a partial line first, its end a moment later), as an agent streaming its session would.
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


def _watch(ledger: Path, home: Path) -> None:
    import logging

    import trio

    logging.basicConfig(level=logging.INFO, format="%(process)d %(name)s %(message)s")

    from ox_handler_session_finalize.service import SessionWatchService

    async def run() -> None:
        service = SessionWatchService(ledger, home=home, doctor_interval=0.2)
        await service.serve()

    trio.run(run)


def _forkserver(ledger: Path, home: Path) -> None:
    import os
    import signal

    import ox_handler_session_finalize.service  # noqa: F401  # import once, before forking

    for command in sys.stdin:
        verb, _, arg = command.strip().partition(" ")
        if verb == "spawn":
            pid = os.fork()
            if pid == 0:
                try:
                    _watch(ledger, home)
                finally:
                    os._exit(1)
            print(pid, flush=True)
        elif verb == "kill":
            os.kill(int(arg), signal.SIGKILL)
            os.waitpid(int(arg), 0)
            print("killed", flush=True)


def _write(path: Path, count: int, rate: float) -> None:
    import os
    import time

    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    start = time.monotonic()
    for n in range(count):
        line = numbered_user(n)
        if n % 3 == 0:
            os.write(fd, line[: len(line) // 2])
            time.sleep(0.0005)
            os.write(fd, line[len(line) // 2 :])
        else:
            os.write(fd, line)
        ahead = start + (n + 1) / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    os.close(fd)


if __name__ == "__main__":
    if sys.argv[1] == "watch":
        _watch(Path(sys.argv[2]), Path(sys.argv[3]))
    elif sys.argv[1] == "forkserver":
        _forkserver(Path(sys.argv[2]), Path(sys.argv[3]))
    elif sys.argv[1] == "write":
        _write(Path(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    else:
        raise SystemExit(f"unknown mode {sys.argv[1]!r}")
