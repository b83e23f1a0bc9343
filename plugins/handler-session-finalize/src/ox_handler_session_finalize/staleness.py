"""When a recording counts as finished, and how a finished recording is ended.

Blocking: run in a thread. A recording is *stale* once its agent is gone (see `is_stale`);
`end_recording` then catches its transcript up and removes its marker, under the raw file's
lock, so the scan can hand the session on to finalization; unless an agent hook gave the
recording to the agent's resumed process meanwhile (checked under the lock hooks decide under).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ox_core.errors import OxError
from ox_session_capture import records
from ox_session_capture.identity import part_stopped
from ox_session_capture.liveness import NO_PID_STALE, pid_alive
from ox_session_capture.raw_lines import ledger_of
from ox_session_capture.recording import RecordingRejected, creation_lock
from ox_session_capture.records import MARKER, RAW, LockTimeout, RecordError, RecordingMarker
from ox_session_capture.recover import recover_recording

log = logging.getLogger(__name__)

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
    pid = marker.parent_pid if marker is not None else 0
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
        with _hooks_held(folder), records.lock_file(folder / RAW, timeout=RAW_LOCK_WAIT):
            if _handed_on(folder, marker):
                return False
            final = _readable(folder)
            records.remove_marker(folder)
            # As `stop_recording` does: the agent session's next part (a resume) starts where
            # this one stopped reading and skips what it holds, once its cache copy is gone.
            _part_stopped(folder, final)
    except (LockTimeout, RecordingRejected):
        return False
    return True


def _readable(folder: Path) -> RecordingMarker | None:
    try:
        return records.read_marker(folder)
    except (FileNotFoundError, RecordError):
        return None


def _part_stopped(folder: Path, final: RecordingMarker | None) -> None:
    """Note in the agent session's index where the ended part stopped (`identity`); a failure
    loses only the link to a later part."""
    ledger = ledger_of(folder)
    if ledger is None or final is None:
        return
    try:
        part_stopped(ledger, folder, final)
    except (OSError, OxError) as exc:
        log.warning("%s: agent session index not updated: %s", folder.name, exc)


@contextlib.contextmanager
def _hooks_held(folder: Path) -> Iterator[None]:
    """The creation lock of the ledger whose cache holds `folder`, under which hooks decide
    which recording an agent continues; nothing for a folder elsewhere (a per-user cache of
    an older setup, which no hook records into)."""
    ledger = ledger_of(folder)
    if ledger is None:
        yield
        return
    with creation_lock(ledger, timeout=RAW_LOCK_WAIT):
        yield


def _agent(marker: RecordingMarker) -> tuple[int, object, object]:
    return marker.parent_pid, (marker.model_extra or {}).get("parent_start"), marker.stopped_at


def _handed_on(folder: Path, judged: RecordingMarker | None) -> bool:
    """Whether the recording's agent is no longer the one `judged` named (an unreadable or
    missing marker now cannot have been continued by a hook: not handed on)."""
    if judged is None:
        return False
    try:
        now = records.read_marker(folder)
    except (FileNotFoundError, RecordError):
        return False
    return _agent(now) != _agent(judged)
