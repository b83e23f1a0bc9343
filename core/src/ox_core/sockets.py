"""The daemon's Unix socket, private to its user: the directory, the socket file, the peer.

The socket lives in a directory only its user can enter: owned by them, mode 0700, not a
symbolic link. The daemon creates and checks it (`bind_private_socket`); the CLI checks it
again, connects, and asks the kernel who is listening (`SO_PEERCRED`) before it sends a byte
(`connect_private_socket`): a socket put on the path by another user gets nothing. Directories
are checked through a descriptor opened with `O_NOFOLLOW`, and only that descriptor is ever
chmodded, so a link swapped in is neither followed nor changed. Plain blocking sockets and the
standard library only: the CLI's fast client (`ox_core.client`) uses this module.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat
import struct
import time

from ox_core.errors import OxError

TYPE_CHECKING = False  # not `typing`'s: the hook and status fast path never import it
if TYPE_CHECKING:
    from collections.abc import Iterator
    from os import PathLike
    from typing import Protocol, overload

    class _HasSockopt(Protocol):
        @overload
        def getsockopt(self, level: int, optname: int) -> int: ...
        @overload
        def getsockopt(self, level: int, optname: int, buflen: int) -> bytes: ...


MAX_UNIX_PATH = 107
"""The longest path `bind`/`connect` take for a Unix socket on Linux, in bytes."""

LISTEN_BACKLOG = 1024
"""Connections the kernel queues before the daemon accepts them."""

_PEERCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


class DaemonNotRunningError(OxError):
    """Nothing answers on the socket."""


class UntrustedSocketError(OxError):
    """The socket, its directory or the process answering on it is not the user's own."""


class PeerCredentials:
    """Who is at the other end of a Unix socket, as the kernel saw it at `connect`/`listen`.

    A plain class (no dataclasses: it imports `inspect`, a third of the fast path's time)."""

    __slots__ = ("gid", "pid", "uid")

    def __init__(self, pid: int, uid: int, gid: int) -> None:
        self.pid, self.uid, self.gid = pid, uid, gid

    def __repr__(self) -> str:
        return f"PeerCredentials(pid={self.pid}, uid={self.uid}, gid={self.gid})"


def peer_credentials(sock: _HasSockopt) -> PeerCredentials:
    """The kernel's `SO_PEERCRED` record of the peer of a connected Unix socket."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size)
    return PeerCredentials(*_PEERCRED.unpack(raw))


def _lstat(path: str | PathLike[str]) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def open_private_dir(path: str | PathLike[str], *, create: bool, tighten: bool = True) -> int:
    """A descriptor of the directory `path` after checking that only this user can use it.

    With `create` (the daemon), the directory is made (mode 0700) when missing and, with
    `tighten`, a directory of ours that others may read or enter is tightened to 0700 through
    the descriptor. Without `create` (the CLI), `FileNotFoundError` when it is missing.

    Raises `UntrustedSocketError` for a symbolic link, a non-directory, a directory of another
    user, or one that others may write to (they could have put anything in it: ox refuses
    it rather than cleaning it); `OxError` when it cannot be made or opened.
    """
    if create:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with contextlib.suppress(FileExistsError):
                os.mkdir(path, 0o700)
        except OSError as exc:
            raise OxError(f"cannot create the socket directory {path}: {exc.strerror}") from None
    st = _lstat(path)
    if st is None:
        raise FileNotFoundError(errno.ENOENT, "no such directory", str(path))
    if stat.S_ISLNK(st.st_mode):
        raise UntrustedSocketError(
            f"the socket directory {path} is a symbolic link; ox only uses a real private "
            "directory: remove the link"
        )
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except NotADirectoryError:
        raise UntrustedSocketError(f"the socket directory {path} is not a directory") from None
    except OSError as exc:
        raise OxError(f"cannot open the socket directory {path}: {exc.strerror}") from None
    try:
        _check_dir(fd, path, tighten=create and tighten)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _check_dir(fd: int, path: str | PathLike[str], *, tighten: bool) -> None:
    st = os.fstat(fd)  # the directory opened, whatever the path points at by now
    uid = os.getuid()
    if st.st_uid != uid:
        raise UntrustedSocketError(
            f"the socket directory {path} belongs to another user (uid {st.st_uid}), not to you "
            f"(uid {uid}): someone may be impersonating the daemon; remove it, or set `socket`"
        )
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o022:
        raise UntrustedSocketError(
            f"the socket directory {path} is writable by other users (mode {mode:04o}); "
            "remove it (the daemon makes it again, private) or set `socket`"
        )
    if tighten and mode & 0o077:
        os.fchmod(fd, 0o700)


def _address(fd: int, path: str | PathLike[str]) -> str:
    """What to pass to `bind`/`connect` for `path` inside the directory open as `fd`.

    A path over the Unix-socket limit is reached through `/proc/self/fd/<fd>/` instead.
    """
    direct = os.fspath(path)
    if len(os.fsencode(direct)) <= MAX_UNIX_PATH:
        return direct
    via = f"/proc/self/fd/{fd}/{os.path.basename(path)}"
    if len(os.fsencode(via)) <= MAX_UNIX_PATH and os.path.isdir(f"/proc/self/fd/{fd}"):
        return via
    raise OxError(
        f"the socket path {path} is {len(os.fsencode(direct))} bytes, over the "
        f"{MAX_UNIX_PATH} a Unix socket allows; set `socket` (OX_SOCKET) to a shorter path"
    )


@contextlib.contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def bind_private_socket(path: str | PathLike[str], *, tighten_dir: bool = True) -> socket.socket:
    """A listening, non-blocking Unix socket at `path` (mode 0600) in a private directory.

    A leftover socket file nothing listens on is replaced; a live one (another ledger's daemon
    given the same `socket`) or anything else in the way, a symbolic link included, is an
    error. `tighten_dir`: the directory is ox's own, made 0700 when others may read or enter
    it; a configured `socket`'s directory is the user's (their home, a group's folder) and is
    never chmodded. Raises `OxError`
    (`UntrustedSocketError` for a directory that is not the user's own and private).
    """
    fd = open_private_dir(os.path.dirname(path), create=True, tighten=tighten_dir)
    name = os.path.basename(path)
    try:
        try:
            st: os.stat_result | None = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            st = None
        if st is not None:
            if not stat.S_ISSOCK(st.st_mode):
                kind = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "another kind of file"
                raise OxError(
                    f"{path} exists and is not a socket ({kind}); remove it or set `socket`"
                )
            _refuse_live(fd, path)
            os.unlink(name, dir_fd=fd)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            with _umask(0o177):  # no window where the socket is reachable by others
                sock.bind(_address(fd, path))
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            if not stat.S_ISSOCK(st.st_mode) or st.st_uid != os.getuid():
                raise OxError(f"{path} changed while the daemon was binding it")
            sock.listen(LISTEN_BACKLOG)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            raise OxError(f"cannot listen on {path}: {exc.strerror or exc}") from None
        except BaseException:
            sock.close()
            raise
        return sock
    finally:
        os.close(fd)


def _refuse_live(fd: int, path: str | PathLike[str]) -> None:
    """Raise `OxError` when a process listens on the socket file at `path`: the daemon lock
    is per ledger, and a `socket` setting shared by two ledgers would otherwise have the
    second daemon take the first one's socket (and its sessions)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        probe.settimeout(2)
        probe.connect(_address(fd, path))
        pid: int | str = peer_credentials(probe).pid
    except BlockingIOError:  # EAGAIN: a listener whose queue is full, busy but alive
        pid = "unknown"
    except OSError:  # refused, gone: a leftover of a daemon that ended
        return
    finally:
        probe.close()
    raise OxError(
        f"another ox-core daemon (pid {pid}) listens on {path}; give each ledger's daemon its "
        "own `socket` (or leave it unset: one per ledger)"
    )


def connect_private_socket(path: str | PathLike[str], *, timeout: float) -> socket.socket:
    """A socket connected to the user's own daemon at `path`; nothing has been sent yet.

    Checks the directory (the user's, not writable by others, not a link), the socket file
    (a socket owned by the user, not a link) and then the process that accepted (its uid, by
    `SO_PEERCRED`, must be the user's). Raises `DaemonNotRunningError` when nothing is there
    or nothing listens, `UntrustedSocketError` when any check fails, `OxError` otherwise.
    """
    not_running = DaemonNotRunningError(
        f"the ox-core daemon is not running (no answer on {path}); start it with `ox-core serve`"
    )
    try:
        fd = open_private_dir(os.path.dirname(path), create=False)
    except FileNotFoundError:
        raise not_running from None
    name = os.path.basename(path)
    uid = os.getuid()
    try:
        try:
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            raise not_running from None
        if not stat.S_ISSOCK(st.st_mode):
            kind = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a socket"
            raise UntrustedSocketError(f"{path} is {kind}, not the daemon's socket; remove it")
        if st.st_uid != uid:
            raise UntrustedSocketError(
                f"the socket {path} belongs to another user (uid {st.st_uid}), not to you "
                f"(uid {uid}): refusing to talk to it; remove it"
            )
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            sock.settimeout(timeout)
            _connect(sock, _address(fd, path), timeout)
            peer = peer_credentials(sock)
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            raise not_running from None
        except TimeoutError:
            sock.close()
            raise OxError(f"the daemon did not accept a connection within {timeout:g} s") from None
        except OSError as exc:
            sock.close()
            if exc.errno in (errno.EACCES, errno.EPERM):
                raise OxError(f"permission denied on the daemon socket {path}") from None
            raise OxError(f"cannot connect to the daemon at {path}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if peer.uid != uid:
        sock.close()
        raise UntrustedSocketError(
            f"the process answering on {path} (pid {peer.pid}) runs as uid {peer.uid}, not as "
            f"you (uid {uid}): refusing to talk to it"
        )
    return sock


_CONNECT_PAUSE = 0.05
"""The longest pause between two tries to connect to a daemon whose queue is full."""


def _connect(sock: socket.socket, address: str, timeout: float) -> None:
    """`sock.connect(address)`, tried again for up to `timeout` seconds while the listener's
    queue of connections is full: a Unix socket with a timeout then fails at once with
    `EAGAIN` (it never waits as a TCP one does), and a daemon busy for a moment (a burst of
    agent hooks) would read as a broken connection. `TimeoutError` once the time is up."""
    deadline = time.monotonic() + timeout
    pause = 0.001
    while True:
        try:
            sock.connect(address)
            return
        except BlockingIOError:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError from None
            time.sleep(min(pause, left))
            pause = min(pause * 2, _CONNECT_PAUSE)
