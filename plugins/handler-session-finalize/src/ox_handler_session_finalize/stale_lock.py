"""A `.git/index.lock` that a killed git left behind.

git takes `index.lock` for every command that writes the index (add, commit, rebase, reset)
and removes it as it ends; a git that is killed (ox's timeouts end a hung git with SIGKILL
after a grace period; the machine loses power) leaves it, and every later git command that
writes the index fails ("Unable to create '.git/index.lock': File exists") until a person
deletes it: the ledger would never publish again. Before it works on the ledger, under the
ledger lock, ox removes a lock that is older than `STALE_AFTER` and that no running git
process can own (none works in the repository), and says so in the log. A fresh lock, or
one while any git works there (the user's own, an editor open for `git commit`), is left.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from pathlib import Path

from ox_core.proc import working_in

log = logging.getLogger(__name__)

STALE_AFTER = 60.0
"""Seconds since a lock was last written before it may be a leftover (git holds it for the
length of one command)."""


def remove_stale_index_lock(work_tree: Path, git_dir: Path, *, now: float | None = None) -> bool:
    """Remove `git_dir/index.lock` when it is a leftover (see the module); True when it did.
    Never follows or removes anything but a regular file. Blocking."""
    lock = git_dir / "index.lock"
    try:
        st = os.lstat(lock)
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode):
        return False
    age = (time.time() if now is None else now) - st.st_mtime
    if age < STALE_AFTER:
        return False
    folders = tuple(os.path.realpath(p) for p in (work_tree, git_dir))
    if working_in(folders, "git"):
        return False
    try:
        os.unlink(lock)
    except FileNotFoundError:
        return False  # its git ended meanwhile
    log.warning("removed %s, left %.0f s ago by a git that was killed", lock, age)
    return True
