"""One daemon per ledger: an exclusive lock on `<ledger>/.ox/cache/daemon.lock`.

The lock is an `flock` held for the daemon's lifetime, so it goes away with the process even
after `kill -9`. The file holds the owner's pid and socket path, for the message a second
daemon prints and for `doctor`.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from types import TracebackType

from ox_core.errors import OxError

LOCK_NAME = "daemon.lock"


class DaemonRunningError(OxError):
    """Another daemon already serves this ledger."""


def lock_path(ledger: Path) -> Path:
    """Where the daemon lock of `ledger` lives."""
    return ledger / ".ox" / "cache" / LOCK_NAME


def read_owner(ledger: Path) -> dict[str, object]:
    """What the lock file says about its holder (`pid`, `socket`), `{}` when unknown."""
    try:
        data = json.loads(lock_path(ledger).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def is_locked(ledger: Path) -> bool:
    """Whether a live daemon holds the lock of `ledger` (checked without taking it for long)."""
    path = lock_path(ledger)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


class DaemonLock:
    """Context manager holding the daemon lock of a ledger.

    Raises `DaemonRunningError` on enter when another process holds it, naming its pid.
    """

    def __init__(self, ledger: Path, socket: Path) -> None:
        self.path = lock_path(ledger)
        self.ledger = ledger
        self.socket = socket
        self._fd: int | None = None

    def __enter__(self) -> DaemonLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            owner = read_owner(self.ledger)
            pid = owner.get("pid", "unknown")
            raise DaemonRunningError(
                f"another ox-core daemon (pid {pid}) already serves the ledger {self.ledger}"
            ) from None
        # The lock is held, so nobody else writes the file: rewrite it in place.
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "socket": str(self.socket)}).encode())
        os.fsync(fd)
        self._fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
