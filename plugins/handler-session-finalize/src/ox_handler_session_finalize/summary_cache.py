"""What each `summary.json` says that detection needs, remembered across scans.

A finished, committed session costs one small read of its `summary.json` per change of the
file (by mtime, size and inode), not one per scan.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ox_session_capture.confined import MAX_RECORD_BYTES, UnsafePathError, open_regular

SummaryState = tuple[bool, int, str]


@dataclass
class SummaryCache:
    """`(title is blank, attempts, status)` of each `summary.json`, keyed by path and
    remembered while its mtime, size and inode stay the same. `prune()` forgets the files not asked
    about since the last prune (sessions that went away)."""

    entries: dict[str, tuple[int, int, int, SummaryState | None]] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)

    def get(self, path: Path | str) -> SummaryState | None:
        """None when the file is unreadable or not a JSON object."""
        key = os.fspath(path)
        self.touched.add(key)
        hit = self.entries.get(key)
        if hit is not None:
            try:
                st = os.lstat(key)
            except OSError:
                del self.entries[key]
                return None
            # The inode too: an atomic rewrite (rename) within one mtime tick is still seen.
            if hit[:3] == (st.st_mtime_ns, st.st_size, st.st_ino):
                return hit[3]
        read = _read_summary_state(key)
        if read is None:
            self.entries.pop(key, None)
            return None
        self.entries[key] = read
        return read[3]

    def prune(self) -> None:
        for key in self.entries.keys() - self.touched:
            del self.entries[key]
        self.touched = set()


def _read_summary_state(path: str) -> tuple[int, int, int, SummaryState | None] | None:
    """(mtime_ns, size, inode, state) of an openable `summary.json`; state None when it is not a
    JSON object. None when it cannot be opened. One open, one fstat, one read: no stat of the
    path and no buffered file object, most of the cost of a tiny read."""
    try:
        fd = open_regular(path)  # a link or a special file is never followed or read
    except (OSError, UnsafePathError):
        return None
    try:
        st = os.fstat(fd)
        if st.st_size > MAX_RECORD_BYTES:
            return None
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        data = json.loads(b"".join(chunks))
    except (ValueError, RecursionError):
        return st.st_mtime_ns, st.st_size, st.st_ino, None
    if not isinstance(data, dict):
        return st.st_mtime_ns, st.st_size, st.st_ino, None
    title = data.get("title")
    attempts = data.get("summary_attempts", 0)
    status = data.get("summary_status", "")
    blank = not (isinstance(title, str) and title.strip())
    state = (
        blank,
        max(0, attempts) if isinstance(attempts, int) else 0,  # negative: retried for ever
        status if isinstance(status, str) else "",
    )
    return st.st_mtime_ns, st.st_size, st.st_ino, state
