"""Reading and writing ledger content without following links (the ledger's trust rules).

The ledger is shared: anyone with push access decides what its files are, and git carries
symbolic links. A link committed as `sessions/<x>/notes.md → ~/.bash_history` must never
make this machine read (and publish) the target, and a folder committed as a link must never
make it write or delete outside the ledger. So every file of a session folder, and every
record ox reads or writes there, goes through this module:

- files are opened with `O_NOFOLLOW | O_NONBLOCK` and refused unless `fstat` says regular
  (a FIFO never blocks the opener, a device or directory is never read);
- folders are checked component by component from a trusted root (the ledger, the user's
  cache dir) with `lstat`: each one must be a real directory, never a link;
- relative paths from outside (payloads, marker fields) are single components or plain
  descendants: no `..`, no absolute path, no NUL.

Hard links need no rule: git cannot carry one, and a teammate cannot make one on this disk.
An agent's session file, read from outside the ledger, must be this user's own
(`check_owner`): one of another user, hard-linked or put into the agent's folder, is none
of this user's sessions. (This user's own file linked there holds nothing the agent could
not have written itself.)
Blocking: call from a thread in trio code.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Annotated

from pydantic import AfterValidator, Field

# Files are opened by core's one helper; re-exported here, where the ledger's rules live.
from ox_core.fs import UnsafePathError as UnsafePathError
from ox_core.fs import file_kind as _kind
from ox_core.fs import open_regular as open_regular
from ox_core.fs import open_regular_stat as open_regular_stat
from ox_core.fs import read_regular as read_regular
from ox_core.proc import opened_path as opened_path

MAX_RECORD_BYTES = 64 * 1024 * 1024
"""Longest JSON record (`summary.json`, `meta.json`, marker, journal) read into memory."""

# A session name as `session_name` makes it: one path component, no leading dot (so never
# `.` or `..`), none of the characters the name builder replaces, no control character.
SESSION_NAME = re.compile(r'[^./\\:*?"<>|\x00-\x1f][^/\\:*?"<>|\x00-\x1f]{0,254}')


def check_session_name(name: str) -> str:
    """`name` when it is a valid session folder name, else `UnsafePathError`."""
    if not SESSION_NAME.fullmatch(name) or len(name.encode("utf-8", "replace")) > 255:
        raise UnsafePathError(f"invalid session name {name!r}: not a single folder name")
    return name


def _valid_session_name(value: str) -> str:
    try:
        return check_session_name(value)
    except UnsafePathError as exc:
        raise ValueError(str(exc)) from None  # pydantic reports it against the field


SessionName = Annotated[str, Field(max_length=255), AfterValidator(_valid_session_name)]
"""A pydantic field type: one session folder name (`check_session_name`'s rules)."""


def regular_files(folder: Path | str) -> dict[str, os.stat_result]:
    """The regular files directly in `folder`, by name, with their `lstat`. Raises
    `UnsafePathError` naming the first link or special file found (a session folder holds
    only regular files; a sub-folder is allowed and left out)."""
    found: dict[str, os.stat_result] = {}
    with os.scandir(folder) as it:
        for entry in it:
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode):
                found[entry.name] = st
            elif not stat.S_ISDIR(st.st_mode):
                raise UnsafePathError(f"{entry.path} is {_kind(st.st_mode)}; refused")
    return found


def check_owner(st: os.stat_result, path: Path | str) -> None:
    """`UnsafePathError` unless this user owns the file of `st` (an agent's session file is
    its user's: one owned by another user was linked or put there by someone else)."""
    if st.st_uid != os.geteuid():
        raise UnsafePathError(f"{path} belongs to another user (uid {st.st_uid}); refused")


# ------------------------------------------------------------------ folders


def relative_parts(rel: str | PurePosixPath) -> tuple[str, ...]:
    """The components of a relative path from outside; `UnsafePathError` for an absolute
    path, a `..`, an empty path or a NUL. `.` components are dropped."""
    text = str(rel)
    if not text or "\x00" in text or text.startswith("/"):
        raise UnsafePathError(f"invalid relative path {text!r}")
    parts = tuple(p for p in text.split("/") if p not in ("", "."))
    if not parts or ".." in parts:
        raise UnsafePathError(f"invalid relative path {text!r}")
    return parts


def check_dirs(root: Path, path: Path, *, missing_ok: bool = False) -> Path:
    """`path` once each of its components below the trusted `root` is a real directory (not
    a link). `path` must lie lexically under `root`. With `missing_ok`, the check stops at
    the first missing component (it is created later by ox itself); else
    `FileNotFoundError`. Raises `UnsafePathError` otherwise."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        raise UnsafePathError(f"{path} is outside {root}") from None
    current = root
    for part in rel.parts:
        if part in ("..", ".") or "\x00" in part:
            raise UnsafePathError(f"{path} is outside {root}")
        current = current / part
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            if missing_ok:
                return path
            raise
        if not stat.S_ISDIR(st.st_mode):
            raise UnsafePathError(f"{current} is {_kind(st.st_mode)}, not a folder; refused")
    return path


def confine(root: Path, rel: str | PurePosixPath, *, missing_ok: bool = True) -> Path:
    """`root / rel` for a relative path from outside, once `relative_parts` accepts it and
    every existing folder on the way is a real directory. The last component is not checked
    (open it with `open_regular`)."""
    parts = relative_parts(rel)
    target = root.joinpath(*parts)
    check_dirs(root, target.parent, missing_ok=missing_ok)
    return target


def make_dirs(root: Path, path: Path, mode: int = 0o700) -> Path:
    """Create the folders of `path` below the trusted `root` one by one, refusing a link or
    a file on the way (`UnsafePathError`). A missing `root` is not made (`FileNotFoundError`):
    a ledger moved away while the daemon runs must not come back as a ghost at the old path."""
    rel = path.relative_to(root)
    if not root.is_dir():
        raise FileNotFoundError(errno.ENOENT, "no such folder", str(root))
    current = root
    for part in rel.parts:
        current = current / part
        with contextlib.suppress(FileExistsError):
            os.mkdir(current, mode)
        st = os.lstat(current)
        if not stat.S_ISDIR(st.st_mode):
            raise UnsafePathError(f"{current} is {_kind(st.st_mode)}, not a folder; refused")
    return path


def iter_dirs(root: Path) -> Iterator[os.DirEntry[str]]:
    """The real sub-directories of `root` (links and files skipped); nothing when `root` is
    missing or not a directory."""
    try:
        it = os.scandir(root)
    except (FileNotFoundError, NotADirectoryError):
        return
    with it:
        for entry in it:
            if entry.is_dir(follow_symlinks=False):
                yield entry
