"""Removing ghost recordings (SPEC §3.4). Blocking: run in a thread.

A ghost is a session folder whose marker names a dead process (`parent_pid > 0`) that started
more than 10 minutes ago, with no agent session file left to recover from, and whose raw file
is missing or holds only framing lines. Nothing else is ever deleted here.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ox_handler_session_finalize import records
from ox_handler_session_finalize.detect import GRACE, Scanner, pid_alive, raw_has_content
from ox_handler_session_finalize.records import MARKER, RAW, RecordError


def is_ghost(folder: Path, now: datetime, alive: Callable[[int], bool] = pid_alive) -> bool:
    """Whether `folder` is a ghost recording (see the module docstring). A corrupt or missing
    marker is never a ghost: without a readable PID there is no proof the agent is gone."""
    try:
        marker = records.read_marker(folder)
    except (FileNotFoundError, RecordError):
        return False
    if marker.parent_pid <= 0 or alive(marker.parent_pid):
        return False
    started = marker.started_at
    if started is None:
        return False
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    if now - started <= GRACE:
        return False
    if marker.session_file and Path(marker.session_file).exists():
        return False
    raw = folder / RAW
    return not (raw.exists() and raw_has_content(raw))


def remove_ghosts(scanner: Scanner) -> list[Path]:
    """Delete the ghost folders of the three places; returns what was deleted."""
    now = scanner.now()
    removed: list[Path] = []
    for _place, _name, folder in scanner.folders():
        if not (folder / MARKER).exists():
            continue
        if is_ghost(folder, now, scanner.alive):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
