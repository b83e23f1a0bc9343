"""Files on disk: atomic writes, fsync of a folder, locks between processes, no links followed.

Every write of a file that someone reads while ox runs (a record, a config, a unit file, the
quota pause) goes through `atomic_write`: a unique temp file in the same folder, fsync,
rename over the target, fsync of the folder. A reader (or a crash) sees the old file or the
new one, never half of one; on error the old file is untouched and the temp file removed.

Links: a file ox opens is opened with `O_NOFOLLOW | O_NONBLOCK` and refused unless it is a
regular file (`open_regular`): a link committed in a shared ledger must never make this
machine read or truncate its target, and a FIFO must never block the opener. A user's own
file outside the ledger (an agent's config, often a link into a dotfiles repository) may be
read through a link (`follow_symlinks`): still only a regular file, never a FIFO or a device
(`/dev/zero` would fill the memory). `atomic_write` opens the folder once, without following
a link unless told to, and works relative to that descriptor, so a folder swapped for a link
meanwhile cannot redirect the write.

Locks are `flock`s: held by an open file, released when it closes, even after `kill -9`.
Everything here blocks: call it from a thread in trio code (or keep it to small files).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from ox_core.errors import OxError

_OPEN_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
"""Every confined open's flags. `O_NOCTTY`: `O_NOFOLLOW` still follows a link on the way, so
a folder swapped for a link to `/dev/pts` makes the open reach a terminal before `fstat`
refuses it, and a process that leads its session without a terminal (the daemon as a
systemd service) would take it as its controlling terminal: closing it, or a ^C typed into
it, would then stop the daemon."""
_LOCK_POLL = 0.005


class UnsafePathError(OxError):
    """A path is a link, a special file, or leads outside its root: refused, nothing read."""


class LockTimeout(OxError):
    """A file lock could not be taken in time: another process holds it."""


def file_kind(mode: int) -> str:
    """What an `st_mode` is, for an error message ("a symbolic link", "a FIFO" ...)."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISREG(mode):
        return "a file"
    return "not a regular file"


def open_regular(
    path: Path | str, flags: int = os.O_RDONLY, mode: int = 0o600, *, dir_fd: int | None = None
) -> int:
    """An fd of the regular file `path` (relative to `dir_fd` when given), opened without
    following a link at its last component and without blocking on a FIFO. Raises
    `UnsafePathError` for a link or a special file (nothing is read), `FileNotFoundError` and
    other `OSError`s as they come. The caller closes the fd."""
    return open_regular_stat(path, flags, mode, dir_fd=dir_fd)[0]


def open_regular_stat(
    path: Path | str,
    flags: int = os.O_RDONLY,
    mode: int = 0o600,
    *,
    dir_fd: int | None = None,
    blocking: bool = True,
    follow_symlinks: bool = False,
) -> tuple[int, os.stat_result]:
    """`open_regular`, with the file's `fstat`. `blocking=False` leaves a read-only fd
    non-blocking (one syscall less, for callers that only `pread`). `follow_symlinks`: a link
    leads to the file (a user's own dotfiles, often links into a dotfiles repository); what it
    leads to must still be a regular file."""
    open_flags = _OPEN_FLAGS & ~os.O_NOFOLLOW if follow_symlinks else _OPEN_FLAGS
    try:
        fd = os.open(path, flags | open_flags, mode, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_symlinks:  # else: a loop of links
            raise UnsafePathError(f"{path} is a symbolic link; refused") from None
        if exc.errno == errno.ENXIO:  # a FIFO opened for writing with no reader
            raise UnsafePathError(f"{path} is a FIFO; refused") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePathError(f"{path} is {file_kind(st.st_mode)}; refused")
        if blocking and flags & os.O_ACCMODE == os.O_RDONLY:
            # Back to blocking reads: a regular file never blocks, and Python's buffered
            # file objects do not expect EAGAIN.
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def read_regular(
    path: Path | str, limit: int | None = None, *, follow_symlinks: bool = False
) -> bytes:
    """The bytes of the regular file `path` (`open_regular`'s rules; `follow_symlinks` as for
    `open_regular_stat`). With `limit`, a larger file raises `UnsafePathError` before anything
    is read."""
    fd = open_regular_stat(path, follow_symlinks=follow_symlinks)[0]
    try:
        size = os.fstat(fd).st_size
        if limit is not None and size > limit:
            raise UnsafePathError(f"{path} is {size} bytes, over the {limit}-byte limit; refused")
        chunks = []
        while chunk := os.read(fd, max(size, 1 << 16)):
            chunks.append(chunk)
            if limit is not None and sum(map(len, chunks)) > limit:
                raise UnsafePathError(f"{path} grew over the {limit}-byte limit; refused")
        return b"".join(chunks)
    finally:
        os.close(fd)


def open_dir(path: Path | str, *, follow_symlinks: bool = False) -> int:
    """An fd of the folder `path`; `UnsafePathError` when it is a link (unless
    `follow_symlinks`) or not a folder. The caller closes it."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
    try:
        return os.open(path, flags if follow_symlinks else flags | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UnsafePathError(f"{path} is not a real folder; refused") from None
        raise


def fsync_dir(folder: Path | str | int) -> None:
    """Make the folder's entries (a rename, a new or removed file) durable. `folder`: a path
    or an open fd of the folder (left open)."""
    if isinstance(folder, int):
        os.fsync(folder)
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(
    path: Path | str,
    data: bytes | str,
    *,
    mode: int = 0o600,
    dir_fd: int | None = None,
    follow_symlinks: bool = False,
    fixed_tmp: bool = False,
    fsync_file: bool = True,
    fsync_folder: bool = True,
    link_new: bool = False,
) -> None:
    """Replace the file `path` with `data` (str is written as UTF-8), atomically and durably.

    With `dir_fd`, `path` is a single name in that open folder (the caller opened and checked
    it). Without, the folder of `path` is opened once, not through a link (`UnsafePathError`
    when it is one) unless `follow_symlinks` (a user's own config folder may be a link). A link
    at `path` itself is replaced, never followed. The file gets permissions `mode`.

    For a record rewritten at a high rate under its own lock (the capture journal and marker,
    docs/capture-journal.md): `fixed_tmp` writes through the one temp name `.<name>.tmp`
    (the caller's lock keeps writers apart; a leftover of a crash is overwritten, a link or
    special file put there is removed, never followed); `fsync_file=False` skips the fsync
    before the rename and `fsync_folder=False` the one after it, for a caller whose crash
    argument does not need them. `link_new` (with `fixed_tmp`), for a record created and
    removed over and over: `path` must not exist (`FileExistsError`); it appears as a hard
    link of the temp file, whose inode is rewritten next time instead of a new one being
    allocated (file systems pay for inode churn).
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    how = (mode, fixed_tmp, fsync_file, fsync_folder, link_new)
    if dir_fd is not None:
        _write_in(dir_fd, os.fspath(path), payload, *how)
        return
    target = path if isinstance(path, Path) else Path(path)
    dfd = open_dir(target.parent, follow_symlinks=follow_symlinks)
    try:
        _write_in(dfd, target.name, payload, *how)
    finally:
        os.close(dfd)


def open_rewritable(
    name: Path | str, *, dir_fd: int | None = None, readable: bool = False
) -> tuple[int, os.stat_result]:
    """An fd for writing, and its stat, of the regular file `name` (relative to `dir_fd` when
    given) that its owner rewrites in place under its own lock (a fixed temp name, the commit
    slots of a recording), made when missing (mode 0600). A link or a special file put there,
    or a file also linked elsewhere, is removed and the file made anew: never followed, never
    blocked on, never written through. Raises `UnsafePathError` when that keeps happening,
    other `OSError`s as they come (`IsADirectoryError` for a folder). `readable`: open it for
    reading too. The caller closes it."""
    access = os.O_RDWR if readable else os.O_WRONLY
    flags = access | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    for _ in range(2):
        try:
            fd = os.open(name, flags, 0o600, dir_fd=dir_fd)
        except OSError as exc:  # a link (ELOOP) or a FIFO without reader (ENXIO) put there
            if exc.errno not in (errno.ELOOP, errno.ENXIO):
                raise
        else:
            st = os.fstat(fd)
            # A file still linked elsewhere (the record it was published as) is never
            # rewritten in place: that would change the record under its readers.
            if stat.S_ISREG(st.st_mode) and st.st_nlink == 1:
                return fd, st
            os.close(fd)
        os.unlink(name, dir_fd=dir_fd)
    raise UnsafePathError(f"{name} keeps being replaced by a non-regular file; refused")


def _open_tmp(dfd: int, name: str, fixed: bool) -> tuple[str, int, os.stat_result | None]:
    """The temp file's name, fd, and (fixed name) its stat when opened."""
    base = f".{name.lstrip('.')}"
    if fixed:
        tmp = f"{base}.tmp"
        fd, st = open_rewritable(tmp, dir_fd=dfd)
        return tmp, fd, st
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    while True:
        tmp = f"{base}.{secrets.token_hex(4)}.tmp"
        try:
            return tmp, os.open(tmp, flags, 0o600, dir_fd=dfd), None
        except FileExistsError:
            continue


def _write_in(
    dfd: int,
    name: str,
    data: bytes,
    mode: int,
    fixed: bool,
    fsync_file: bool,
    fsync_folder: bool,
    link_new: bool,
) -> None:
    if not name or "/" in name or name in (".", ".."):
        raise UnsafePathError(f"{name!r} is not a file name in its folder")
    tmp, fd, st = _open_tmp(dfd, name, fixed)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if st is not None and st.st_size > len(data):
                os.ftruncate(fd, len(data))  # a reused temp file was longer
            if st is None or stat.S_IMODE(st.st_mode) != mode:
                os.fchmod(fd, mode)
            if fsync_file:
                os.fsync(fd)
        finally:
            os.close(fd)
        if link_new and fixed:
            os.link(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd, follow_symlinks=False)
        else:
            os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=dfd)
        raise
    if fsync_folder:
        os.fsync(dfd)


def acquire(fd: int, *, timeout: float | None = None, what: str = "the file") -> None:
    """Take the exclusive `flock` of open file `fd`. `timeout` None waits as long as it takes;
    0 tries once. Raises `LockTimeout` ("`what` is locked by another process") when another
    open file holds it after `timeout` seconds. The lock goes with the fd's last close."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if deadline is None else fcntl.LOCK_NB))
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            if deadline is None or time.monotonic() >= deadline:
                raise LockTimeout(f"{what} is locked by another process") from None
            time.sleep(_LOCK_POLL)


@contextlib.contextmanager
def lock_file(
    path: Path | str, *, timeout: float | None = None, what: str | None = None
) -> Iterator[int]:
    """Hold the exclusive lock of the lock file `path` (created, mode 0600; never a link or a
    special file: `UnsafePathError`), yielding its fd. Works across processes and across
    threads of one process (each call opens the file anew). `timeout`: see `acquire`; the
    `LockTimeout` names `what` (default: `path`)."""
    fd = open_lock(path, timeout=timeout, what=what)
    try:
        yield fd
    finally:
        os.close(fd)  # releases the lock


def open_lock(path: Path | str, *, timeout: float | None = None, what: str | None = None) -> int:
    """`lock_file` without the context manager (half its cost, for a caller that takes the
    lock at every step): the lock file's fd with the lock held; closing it releases the lock."""
    fd = open_regular(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        acquire(fd, timeout=timeout, what=what or str(path))
    except BaseException:
        os.close(fd)
        raise
    return fd
