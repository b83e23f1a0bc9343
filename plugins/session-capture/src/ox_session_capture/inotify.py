"""Linux inotify through ctypes, read by the capture thread (`changes`): the kernel wakes the
session watcher when a watched folder's files change, so following N idle files costs nothing.

No dependency: `inotify_init1`, `inotify_add_watch` and `inotify_rm_watch` from
the C library, events read from the non-blocking descriptor when `poll` says it is readable.
`Inotify.open()` raises `InotifyUnavailable` where there is no inotify (another OS, a libc
without it, the per-user instance limit reached); the caller then polls.

Events are wake-up hints only: whatever file a name in an event leads to, the watcher opens it
with its own rules (no link followed) when it steps.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct
from collections.abc import Callable
from pathlib import Path

import attrs

IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_UNMOUNT = 0x00002000
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_ONLYDIR = 0x01000000
IN_DONT_FOLLOW = 0x02000000

FOLDER_EVENTS = (
    IN_MODIFY
    | IN_ATTRIB
    | IN_CLOSE_WRITE
    | IN_MOVED_FROM
    | IN_MOVED_TO
    | IN_CREATE
    | IN_DELETE
    | IN_DELETE_SELF
    | IN_MOVE_SELF
)
"""A file of the folder written, truncated, created, replaced, removed; the folder itself
removed or moved (its watch then ends with `IN_IGNORED`)."""
GONE = IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT
"""The folder's watch no longer reports what happens at its path."""

_HEADER = struct.Struct("iIII")  # wd, mask, cookie, len (struct inotify_event)
_READ_SIZE = 64 * 1024


class InotifyUnavailable(OSError):
    """This system offers no inotify instance now."""


@attrs.frozen
class Event:
    """One event: the watch descriptor (-1 for a queue overflow), the mask, the file name in
    the folder ("" for the folder itself)."""

    wd: int
    mask: int
    name: str


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


class Inotify:
    """One inotify instance watching folders. Close it (`close`, or `with`)."""

    def __init__(self, fd: int, libc: ctypes.CDLL) -> None:
        self.fd = fd
        self._add: Callable[[int, bytes, int], int] = libc.inotify_add_watch
        self._rm: Callable[[int, int], int] = libc.inotify_rm_watch

    @classmethod
    def open(cls) -> Inotify:
        """A new non-blocking, close-on-exec instance; `InotifyUnavailable` when none."""
        try:
            libc = _libc()
            init = libc.inotify_init1
        except (OSError, AttributeError) as exc:
            raise InotifyUnavailable(f"no inotify here: {exc}") from None
        fd = init(os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            err = ctypes.get_errno()
            raise InotifyUnavailable(err, f"inotify_init1: {os.strerror(err)}")
        return cls(fd, libc)

    def watch_folder(self, folder: Path) -> int:
        """Watch the folder `folder` (never through a link at its last component); its watch
        descriptor. Raises `OSError` (`ENOENT`, `ENOTDIR`, `ENOSPC` when the user's watch limit
        is reached, ...)."""
        wd = self._add(self.fd, os.fsencode(folder), FOLDER_EVENTS | IN_ONLYDIR | IN_DONT_FOLLOW)
        if wd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), str(folder))
        return wd

    def unwatch(self, wd: int) -> None:
        """Stop watch `wd` (already gone is fine: the kernel ends a removed folder's watch)."""
        if self._rm(self.fd, wd) < 0 and ctypes.get_errno() != errno.EINVAL:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))

    def read_now(self) -> list[Event]:
        """The events queued now, without blocking (empty when none)."""
        try:
            data = os.read(self.fd, _READ_SIZE)
        except BlockingIOError:
            return []
        return parse(data)

    def close(self) -> None:
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)

    def __enter__(self) -> Inotify:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def parse(data: bytes) -> list[Event]:
    """The events packed in `data` (as read from an inotify descriptor); a truncated tail is
    dropped. Names are decoded with the file-system encoding (undecodable bytes escaped)."""
    events = []
    pos = 0
    while pos + _HEADER.size <= len(data):
        wd, mask, _cookie, length = _HEADER.unpack_from(data, pos)
        pos += _HEADER.size
        if pos + length > len(data):
            break
        raw = data[pos : pos + length].split(b"\0", 1)[0]
        pos += length
        events.append(Event(wd, mask, os.fsdecode(raw)))
    return events
