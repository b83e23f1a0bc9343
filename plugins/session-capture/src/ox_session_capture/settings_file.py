"""An agent's settings file, rewritten by compare-and-swap: never losing what the agent or
the user's editor writes into it while ox edits it.

ox reads the file (`read`), computes the new bytes, writes them to a temp file beside it,
and right before renaming that over the file checks the file is still the one it read
(`commit`: link target, inode, size, mtime, ctime, mode and bytes). When it is not, nothing
is written and the caller merges again from what is there now. A file made where there was
none appears by `link`, which fails when someone made one meanwhile.

What is left: a write landing between the last check and the rename (microseconds, against
the whole merge before) is lost; a file system without hard links cannot create the file.

Links: the folder is opened once and the file handled relative to it (`open_dir`), never
through a link at its last component. Only the caller can say a link is to be followed
(the user's own settings, often links into a dotfiles repository): then the file it leads
to is edited in its own folder, and the link stays a link.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

import attrs

from ox_core.errors import OxError
from ox_core.fs import (
    UnsafePathError,
    atomic_write,
    file_kind,
    fsync_dir,
    open_dir,
    open_regular_stat,
)

MAX_SETTINGS = 4 * 1024 * 1024


class HooksError(OxError):
    """A settings file ox cannot merge into (not JSON, not an object, a link, ...)."""


@attrs.frozen
class Place:
    """Where a settings file is edited: the file `real.name` in the open folder `dfd`.
    `shown`: the path as the user knows it. `link`: that path, when links lead from it to
    `real` (checked again before each write)."""

    shown: Path
    real: Path
    dfd: int
    link: Path | None

    @property
    def name(self) -> str:
        return self.real.name


@attrs.frozen
class Snapshot:
    """The file as ox read it: its bytes and the stat of what was read (None: no file)."""

    raw: bytes | None
    st: os.stat_result | None

    @property
    def mode(self) -> int:
        """The file's permissions, which its rewrite keeps (0600 for a new file)."""
        return stat.S_IMODE(self.st.st_mode) if self.st is not None else 0o600

    def key(self) -> tuple[int, ...] | None:
        # ctime and mode too: a chmod is a change (the rewrite keeps the mode).
        st = self.st
        if st is None:
            return None
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode)


def _locate(path: Path, *, create: bool, follow_links: bool) -> Place | None:
    verb = "write" if create else "read"
    try:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        real = Path(os.path.realpath(path)) if follow_links else path
        if follow_links and os.path.islink(path) and not os.path.exists(path):
            raise HooksError(
                f"{path} is a symbolic link to {real}, which does not exist; ox does not "
                "create a file through a link: create it (`{}` will do) and run this again"
            )
        dfd = open_dir(real.parent)
    except FileNotFoundError:
        if create:  # the folder went away since it was made
            raise HooksError(f"cannot write {path}: its folder is gone") from None
        return None
    except UnsafePathError:
        raise HooksError(
            f"{path.parent} is a symbolic link (or not a folder); ox does not edit a project's "
            "settings through a link: make it a real folder, or add the hooks by hand"
        ) from None
    except OSError as exc:
        raise HooksError(f"cannot {verb} {path}: {exc.strerror or exc}") from None
    return Place(path, real, dfd, path if real != path else None)


@contextlib.contextmanager
def located(path: Path, *, create: bool, follow_links: bool) -> Iterator[Place | None]:
    """The folder of the settings file `path`, open for the block; None when there is no
    folder (unless `create`: made then). `follow_links`: links in `path` lead to the file to
    edit (a link to a file that does not exist is refused); without, a link at the file or
    its folder is refused. Raises `HooksError`."""
    place = _locate(path, create=create, follow_links=follow_links)
    try:
        yield place
    finally:
        if place is not None:
            os.close(place.dfd)


def read(place: Place | None, name: str | None = None) -> Snapshot:
    """The settings file (or the file `name` beside it) as it is now. Raises `HooksError` for
    a special file or a link (nothing read), or a file over `MAX_SETTINGS` bytes."""
    if place is None:
        return Snapshot(None, None)
    name = name or place.name
    shown = place.shown if name == place.name else place.real.parent / name
    try:
        fd, st = open_regular_stat(name, dir_fd=place.dfd)
    except FileNotFoundError:
        return Snapshot(None, None)
    except UnsafePathError:
        try:
            kind = file_kind(os.stat(name, dir_fd=place.dfd, follow_symlinks=False).st_mode)
        except OSError:
            kind = "not a regular file"
        why = " (only the user's own settings are edited through a link)" if "link" in kind else ""
        raise HooksError(f"{shown} is {kind}; ox does not edit it{why}") from None
    except OSError as exc:
        raise HooksError(f"cannot read {shown}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as file:
        # Refused unread (a sparse file may claim gigabytes), and again should it grow.
        raw = file.read(MAX_SETTINGS + 1) if st.st_size <= MAX_SETTINGS else b""
    if st.st_size > MAX_SETTINGS or len(raw) > MAX_SETTINGS:
        raise HooksError(f"{shown} is over ox's {MAX_SETTINGS}-byte limit; ox leaves it alone")
    return Snapshot(raw, st)


def unchanged(place: Place, seen: Snapshot) -> bool:
    """Whether the file is still as `seen`: same link target, stat and bytes."""
    if place.link is not None and os.path.realpath(place.link) != str(place.real):
        return False  # the user pointed the link elsewhere meanwhile
    try:
        now = read(place)
    except HooksError:  # a special file swapped in: the caller's next read says so
        return False
    return now.key() == seen.key() and now.raw == seen.raw


def commit(place: Place, seen: Snapshot, new: bytes | None) -> bool:
    """Put `new` (None: no file) where the file as `seen` is, keeping its mode and owner,
    unless it changed since: False then, and nothing written. `OSError`s as they come."""
    if new is None:
        if not unchanged(place, seen):
            return False
        os.unlink(place.name, dir_fd=place.dfd)
        fsync_dir(place.dfd)
        return True
    tmp = f".{place.name}.ox-{secrets.token_hex(4)}"
    atomic_write(tmp, new, mode=seen.mode, dir_fd=place.dfd, fsync_folder=False)
    try:
        keep_owner(place, tmp, seen)
        if seen.st is None:
            try:
                os.link(tmp, place.name, src_dir_fd=place.dfd, dst_dir_fd=place.dfd,
                        follow_symlinks=False)  # fmt: skip
            except FileExistsError:
                return False
        elif unchanged(place, seen):
            os.rename(tmp, place.name, src_dir_fd=place.dfd, dst_dir_fd=place.dfd)
        else:
            return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=place.dfd)  # gone after the rename; after a link, a name
    fsync_dir(place.dfd)
    return True


def keep_owner(place: Place, name: str, seen: Snapshot) -> None:
    """Give the file `name` beside the settings file to the settings file's owner (a new
    one: its folder's). Run as root (sudo keeps `$HOME` on many systems), ox's new file would
    be root's, mode 0600: the user's agent could not read its own settings. Best effort for
    anyone else, who can give a file to no other user."""
    st = seen.st or os.fstat(place.dfd)
    now = os.stat(name, dir_fd=place.dfd, follow_symlinks=False)
    if (now.st_uid, now.st_gid) != (st.st_uid, st.st_gid):
        with contextlib.suppress(PermissionError):
            os.chown(name, st.st_uid, st.st_gid, dir_fd=place.dfd, follow_symlinks=False)


def is_file(place: Place, name: str) -> bool:
    """Whether `name` beside the settings file is a regular file (not a link to one)."""
    try:
        return stat.S_ISREG(os.stat(name, dir_fd=place.dfd, follow_symlinks=False).st_mode)
    except FileNotFoundError:
        return False
