"""Removing ghost recordings, discarded sessions a crash left, and the cache copies of
sessions. Blocking: run in a thread.

A ghost is a session folder of a cache place whose marker names a dead process
(`parent_pid > 0`) that started more than 10 minutes ago, with no agent session file left to
recover from, and whose raw file is missing or holds only framing lines. A discarded leftover
is a cache folder without a marker whose `meta.json` says `discard`: finalization wrote it and
stopped before removing the folder. Nothing else is ever deleted here, and only folders ox
itself created: a real folder (no link on the way) in the ledger cache or the per-user cache,
holding ox's marker or a `raw.jsonl` that starts with ox's header. Committed folders
(`sessions/`) are the team's and never deleted.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ox_handler_session_finalize.detect import Place, Scanner, meta_state, raw_has_content
from ox_handler_session_finalize.disposition import Disposition
from ox_handler_session_finalize.staleness import GRACE
from ox_session_capture import records
from ox_session_capture.confined import UnsafePathError, open_regular
from ox_session_capture.liveness import agent_pid, pid_alive
from ox_session_capture.records import MARKER, META, RAW, RecordError

log = logging.getLogger(__name__)

CACHE_PLACES = frozenset({Place.LEDGER_CACHE, Place.USER_CACHE})


def is_ghost(folder: Path, now: datetime, alive: Callable[[int], bool] = pid_alive) -> bool:
    """Whether `folder` is a ghost recording (see the module docstring). A corrupt or missing
    marker is never a ghost: without a readable PID there is no proof the agent is gone."""
    try:
        marker = records.read_marker(folder)
    except (FileNotFoundError, RecordError):
        return False
    pid = agent_pid(marker)
    if pid <= 0 or alive(pid):
        return False
    started = marker.started_at
    if started is None:
        return False
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    if now - started <= GRACE:
        return False
    if marker.session_file and os.path.lexists(marker.session_file):
        return False
    raw = folder / RAW
    try:
        return not raw_has_content(raw, strict=True)
    except (OSError, UnsafePathError) as exc:  # unread is not empty: never deleted unseen
        log.warning("recording %s kept: its %s cannot be read (%s)", folder.name, RAW, exc)
        return False


def _has_ox_header(raw: Path) -> bool:
    try:
        fd = open_regular(raw)
    except (OSError, UnsafePathError):
        return False
    with os.fdopen(fd, "rb") as f:
        first = f.readline(64 * 1024)
    try:
        return isinstance(obj := json.loads(first), dict) and isinstance(obj.get("_meta"), dict)
    except (ValueError, RecursionError):
        return False


def created_by_ox(folder: Path) -> bool:
    """Whether `folder` holds ox's own files: a readable marker, or a `raw.jsonl` (a regular
    file) whose first line is ox's `{"_meta": ...}` header."""
    try:
        records.read_marker(folder)
        return True
    except (FileNotFoundError, RecordError):
        pass
    return _has_ox_header(folder / RAW)


def remove_cache_folder(scanner: Scanner, place: Place, name: str) -> bool:
    """Delete the cache copy of session `name` in `place` (a cache place) when it is a folder
    ox created (see the module docstring). Returns whether it was deleted; anything else is
    refused with `UnsafePathError` (a committed place, a link on the way, a folder ox did not
    create) and left untouched."""
    if place not in CACHE_PLACES:
        raise UnsafePathError(f"refusing to delete {name}: {place.value} sessions stay")
    folder = scanner.session_folder(place, name)
    if not folder.is_dir():
        return False
    if not created_by_ox(folder):
        raise UnsafePathError(f"refusing to delete {folder}: not a session folder ox created")
    # rmtree never follows a link inside the folder (it removes the link itself).
    shutil.rmtree(folder, ignore_errors=True)
    return True


def remove_ghosts(scanner: Scanner) -> list[Path]:
    """Delete the ghost folders of the two cache places; returns what was deleted."""
    now = scanner.now()

    def ghost(folder: Path) -> bool:
        return os.path.lexists(folder / MARKER) and is_ghost(folder, now, scanner.alive)

    return _remove_where(scanner, ghost, "ghost")


def remove_discarded(scanner: Scanner) -> list[Path]:
    """Delete the discarded leftovers of the two cache places (see the module docstring);
    returns what was deleted. One ox cannot prove it created stays, as the handler left it
    (detection never publishes it either)."""

    def discarded(folder: Path) -> bool:
        return (
            not os.path.lexists(folder / MARKER)
            and os.path.lexists(folder / META)
            and meta_state(folder)[1] == Disposition.DISCARD
            and created_by_ox(folder)
        )

    return _remove_where(scanner, discarded, "discarded session")


def _remove_where(scanner: Scanner, doomed: Callable[[Path], bool], what: str) -> list[Path]:
    """Delete each folder of the two cache places that `doomed` picks (`remove_cache_folder`'s
    checks on top); returns what was deleted."""
    removed: list[Path] = []
    for place, name, folder in scanner.folders():
        if place not in CACHE_PLACES or not doomed(folder):
            continue
        try:
            if remove_cache_folder(scanner, place, name):
                removed.append(folder)
        except UnsafePathError as exc:
            log.warning("%s %s kept: %s", what, name, exc)
    return removed
