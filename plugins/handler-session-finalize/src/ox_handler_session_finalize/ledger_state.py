"""What ox knows of a ledger's git state from its own last commit, until git changes it.

Each batch of publishing needs two facts that cost a git process each: that the index holds
no unresolved conflict (`ls-files -u`), and which names HEAD holds under `sessions/`
(`ls-tree`). Right after ox's own commit both are known without asking: the commit went
through, so the index had no conflict, and HEAD holds what it held plus the folders just
committed. They are kept with a stamp of the files git rewrites when anything else touches
them: `.git/index` for the conflicts; `HEAD`, the branch's ref and `packed-refs` for the
names. A sync, a person's git command, anything that writes the index or moves HEAD changes
its stamp, and git is asked again. Repositories whose refs are not plain files (a reftable, a
linked worktree's shared refs) are always asked.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

FileStamp = tuple[int, int, int] | None
"""(inode, mtime_ns, size) of a file, None when it is missing."""


def _file_stamp(path: Path) -> FileStamp:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def head_stamp(git_dir: Path, branch: str) -> tuple[FileStamp, ...] | None:
    """The stamp of what HEAD is (`HEAD`, the branch's loose ref, `packed-refs`); None when
    refs are not plain files of `git_dir`, and nothing may be kept. Blocking."""
    if (git_dir / "reftable").exists() or (git_dir / "commondir").exists():
        return None
    refs = (git_dir / "HEAD", git_dir / "refs" / "heads" / branch, git_dir / "packed-refs")
    return tuple(_file_stamp(p) for p in refs)


def index_stamp(git_dir: Path) -> FileStamp:
    """The stamp of `.git/index`. Blocking."""
    return _file_stamp(git_dir / "index")


def stamps(git_dir: Path, branch: str) -> tuple[tuple[FileStamp, ...] | None, FileStamp]:
    """`head_stamp` and `index_stamp` at once (one hand-off to a thread). Blocking."""
    return head_stamp(git_dir, branch), index_stamp(git_dir)


@dataclass
class KnownState:
    """The facts and the stamps they hold at (see the module)."""

    clean_at: FileStamp = None
    """The index's stamp when it was last known to hold no conflict."""
    names_at: tuple[FileStamp, ...] | None = None
    names: frozenset[str] = frozenset()

    def clean(self, index: FileStamp) -> bool:
        """Whether the index (its stamp now) is the one known to hold no conflict."""
        return index is not None and index == self.clean_at

    def names_if_known(self, head: tuple[FileStamp, ...] | None) -> frozenset[str] | None:
        """HEAD's session names when `head` (its stamp now) is the one they were known at."""
        return self.names if head is not None and head == self.names_at else None

    def listed(self, head: tuple[FileStamp, ...] | None, names: Iterable[str]) -> None:
        """Keep `names`, listed by git at a HEAD whose stamp (taken before) is `head`."""
        self.names, self.names_at = frozenset(names), head

    def committed(
        self,
        before: tuple[FileStamp, ...] | None,
        after: tuple[FileStamp, ...] | None,
        index: FileStamp,
        folders: Iterable[str],
    ) -> None:
        """After ox's own commit of `folders`: the index (stamp `index`) is clean, and HEAD
        (stamp `after`) holds the names known at `before` plus `folders`, when those were
        known for the HEAD the commit was made on."""
        self.clean_at = index
        known = self.names_if_known(before)
        if known is None:
            self.names_at = None
        else:
            self.listed(after, known | set(folders))
