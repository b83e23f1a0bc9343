"""When a recording counts as finished, and how a finished recording is ended.

Blocking: run in a thread. A recording is *stale* once its agent is gone (see `is_stale`);
`end_recording` then catches its transcript up and removes its marker, under the raw file's
lock, so the scan can hand the session on to finalization; unless an agent hook gave the
recording to the agent's resumed process meanwhile (checked under the lock hooks decide under).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ox_session_capture import records
from ox_session_capture.identity import note_part_stopped
from ox_session_capture.liveness import NO_PID_STALE, agent_pid, pid_alive
from ox_session_capture.recording import RecordingRejected, creation_lock_of
from ox_session_capture.records import (
    MARKER,
    RAW,
    LockTimeout,
    RecordError,
    RecordingMarker,
    lock_file,
)
from ox_session_capture.recover import recover_recording

GRACE = timedelta(minutes=10)
RAW_LOCK_WAIT = 0.25

Recover = Callable[[Path, "RecordingMarker | None"], None]


def is_stale(
    marker: RecordingMarker | None,
    marker_mtime: datetime,
    now: datetime,
    *,
    alive: Callable[[int], bool] = pid_alive,
    grace: timedelta = GRACE,
    no_pid_stale: timedelta = NO_PID_STALE,
) -> bool:
    """When a recording counts as finished (stale).

    A marker with `stopped_at` is stale at once (the watcher crashed while stopping). Age is
    from `started_at`, or from the file's mtime when the marker is unreadable (`marker` None).
    With a PID (`parent_pid`): alive → never stale, dead → stale
    once the age reaches `grace`. Without a PID: stale after `no_pid_stale`.
    """
    if marker is not None and marker.stopped_at is not None:
        return True
    started = marker.started_at if marker is not None and marker.started_at else marker_mtime
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    age = now - started
    pid = agent_pid(marker) if marker is not None else 0
    if pid > 0:
        return not alive(pid) and age >= grace
    return age >= no_pid_stale


def read_marker_or_none(folder: Path) -> tuple[RecordingMarker | None, datetime]:
    """The marker (None when unreadable) and the marker file's mtime (UTC).
    `FileNotFoundError` when the marker is gone."""
    mtime = datetime.fromtimestamp(os.lstat(folder / MARKER).st_mtime, UTC)
    try:
        return records.read_marker(folder), mtime
    except RecordError:
        return None, mtime


def _default_recover(folder: Path, marker: RecordingMarker | None) -> None:
    """Catch up and settle with the session watcher's own `recover_recording` (at most
    250 ms on the raw file's lock; `LockTimeout` when it is busy)."""
    recover_recording(folder, marker, lock_timeout=RAW_LOCK_WAIT)


def end_recording(folder: Path, marker: RecordingMarker | None, recover: Recover) -> bool:
    """Settle and catch up a stale recording (`recover`), then remove its marker under the
    raw file's lock and note in the agent session's index where it stopped (as
    `stop_recording` does). Returns False (the marker left in place) when the raw file or the
    ledger's creation lock stays taken for more than 250 ms, or when the recording's agent
    changed since `marker` was judged stale (a start hook of the resumed agent continued it):
    the next scan judges again. Errors from `recover` propagate."""
    try:
        recover(folder, marker)
        # The lock hooks decide under: none continues this part while it is ended.
        with creation_lock_of(folder, RAW_LOCK_WAIT), lock_file(folder / RAW, RAW_LOCK_WAIT):
            final = _readable(folder)
            if _handed_on(final, marker):
                return False
            records.remove_marker(folder)
            if final is not None:
                # The agent session's next part (a resume) starts where this one stopped
                # reading and skips what it holds, once its cache copy is gone.
                note_part_stopped(folder, final)
    except (LockTimeout, RecordingRejected):
        return False
    return True


def _readable(folder: Path) -> RecordingMarker | None:
    try:
        return records.read_marker(folder)
    except (FileNotFoundError, RecordError):
        return None


def _agent(marker: RecordingMarker) -> tuple[int, object, object]:
    return agent_pid(marker), (marker.model_extra or {}).get("parent_start"), marker.stopped_at


def _handed_on(now: RecordingMarker | None, judged: RecordingMarker | None) -> bool:
    """Whether the recording's agent (`now`, the marker as it is) is no longer the one
    `judged` named (an unreadable or missing marker cannot have been continued by a hook: not
    handed on)."""
    if judged is None or now is None:
        return False
    return _agent(now) != _agent(judged)
