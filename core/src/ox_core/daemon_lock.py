"""One daemon per ledger: an exclusive lock on `<ledger>/.ox/cache/daemon.lock`.

The lock is an `flock` held for the daemon's lifetime, so it goes away with the process even
after `kill -9`. The file holds the owner's pid and socket path, for the message a second
daemon prints and for `doctor`.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from types import TracebackType

from ox_core.errors import ConfigError, OxError
from ox_core.fs import LockTimeout, UnsafePathError, acquire, open_regular

LOCK_NAME = "daemon.lock"


class DaemonRunningError(OxError):
    """Another daemon already serves this ledger."""


_MAX_LOCK_FILE = 64 * 1024


def lock_path(ledger: Path) -> Path:
    """Where the daemon lock of `ledger` lives."""
    return ledger / ".ox" / "cache" / LOCK_NAME


def read_owner(ledger: Path) -> dict[str, object]:
    """What the lock file says about its holder (`pid`, `socket`), `{}` when unknown."""
    try:
        fd = open_regular(lock_path(ledger))
    except (OSError, UnsafePathError):
        return {}
    try:
        data = json.loads(os.read(fd, _MAX_LOCK_FILE).decode("utf-8"))
    except (OSError, ValueError, RecursionError):  # a file anyone with the cache may write
        return {}
    finally:
        os.close(fd)
    return data if isinstance(data, dict) else {}


def is_locked(ledger: Path) -> bool:
    """Whether a live daemon holds the lock of `ledger` (checked without taking it for long)."""
    try:
        fd = open_regular(lock_path(ledger))
    except (OSError, UnsafePathError):
        return False
    try:
        acquire(fd, timeout=0)
    except LockTimeout:
        return True
    finally:
        os.close(fd)  # releases the lock if it was taken here
    return False


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
        from ox_core.ledger_setup import ensure_cache_dir

        ensure_cache_dir(self.ledger)
        try:
            fd = open_regular(self.path, os.O_RDWR | os.O_CREAT)
        except UnsafePathError:
            reason = "it is a symbolic link" if os.path.islink(self.path) else "not a regular file"
            raise ConfigError(f"cannot open the daemon lock {self.path}: {reason}") from None
        except OSError as exc:
            raise ConfigError(
                f"cannot open the daemon lock {self.path}: {exc.strerror or exc}"
                + (" (the ledger must be writable)" if isinstance(exc, PermissionError) else "")
            ) from None
        try:
            acquire(fd, timeout=0)
        except LockTimeout:
            os.close(fd)
            pid = read_owner(self.ledger).get("pid")
            if not isinstance(pid, int) or isinstance(pid, bool):
                pid = "unknown"  # the file is anyone's with the cache: only a number is shown
            raise DaemonRunningError(
                f"another ox-core daemon (pid {pid}) already serves the ledger {self.ledger}"
            ) from None
        # The lock is held, so nobody else writes the file: rewrite it in place.
        try:
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps({"pid": os.getpid(), "socket": str(self.socket)}).encode())
            os.fsync(fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.close(fd)
            raise ConfigError(f"cannot write the daemon lock {self.path}: {exc.strerror}") from None
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
            os.close(self._fd)  # releases the lock
            self._fd = None
