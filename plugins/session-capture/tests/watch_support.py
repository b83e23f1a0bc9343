"""Helpers for the session watcher tests, run as a script: the processes of the kill test
(the agent session lines and files come from `ox_session_capture.testing`):

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

import sys
from pathlib import Path

from ox_session_capture.testing import numbered_user


def _watch(ledger: Path, home: Path) -> None:
    import logging

    import trio

    logging.basicConfig(level=logging.INFO, format="%(process)d %(name)s %(message)s")

    from ox_session_capture.service import SessionWatchService

    async def run() -> None:
        service = SessionWatchService(ledger, home=home, doctor_interval=0.2)
        await service.serve()

    trio.run(run)


def _forkserver(ledger: Path, home: Path) -> None:
    import os
    import signal

    import ox_session_capture.service  # noqa: F401  # import once, before forking

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
