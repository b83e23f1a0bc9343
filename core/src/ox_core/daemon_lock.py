"""One daemon per ledger: an exclusive lock on `<ledger>/.ox/cache/daemon.lock`.

The lock is an `flock` held for the daemon's lifetime, so it goes away with the process even
after `kill -9`. The file holds the owner's pid and socket path, for the message a second
daemon prints and for `doctor`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
from pathlib import Path
from types import TracebackType

from ox_core.errors import ConfigError, OxError

LOCK_NAME = "daemon.lock"


class DaemonRunningError(OxError):
    """Another daemon already serves this ledger."""


_MAX_LOCK_FILE = 64 * 1024
# Never follow a link in place of the lock (truncating it would truncate the link's target),
# and never block opening a FIFO.
_OPEN_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def lock_path(ledger: Path) -> Path:
    """Where the daemon lock of `ledger` lives."""
    return ledger / ".ox" / "cache" / LOCK_NAME


def _open_regular(path: Path, flags: int) -> int:
    """`os.open` of a regular file, not through a link; OSError otherwise."""
    fd = os.open(path, flags | _OPEN_FLAGS, 0o600)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise IsADirectoryError(f"{path} is not a regular file")
    return fd


def read_owner(ledger: Path) -> dict[str, object]:
    """What the lock file says about its holder (`pid`, `socket`), `{}` when unknown."""
    try:
        fd = _open_regular(lock_path(ledger), os.O_RDONLY)
    except OSError:
        return {}
    try:
        data = json.loads(os.read(fd, _MAX_LOCK_FILE).decode("utf-8"))
    except (OSError, ValueError):
        return {}
    finally:
        os.close(fd)
    return data if isinstance(data, dict) else {}


def is_locked(ledger: Path) -> bool:
    """Whether a live daemon holds the lock of `ledger` (checked without taking it for long)."""
    path = lock_path(ledger)
    try:
        fd = _open_regular(path, os.O_RDONLY)
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
        from ox_core.ledger_setup import ensure_cache_dir

        ensure_cache_dir(self.ledger)
        try:
            fd = _open_regular(self.path, os.O_RDWR | os.O_CREAT)
        except OSError as exc:
            reason = "it is a symbolic link" if os.path.islink(self.path) else exc.strerror
            raise ConfigError(
                f"cannot open the daemon lock {self.path}: {reason or exc}"
                + (" (the ledger must be writable)" if isinstance(exc, PermissionError) else "")
            ) from None
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
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
