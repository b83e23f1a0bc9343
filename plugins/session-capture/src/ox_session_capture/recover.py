"""Bring a stale recording's raw file up to date before it is finalized.

Public: finalization calls `recover_recording` when it ends a recording whose watcher is
gone (the agent exited, the daemon crashed): it catches `raw.jsonl` up from the agent's
session file and settles a crash journal, with the watcher's own functions.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ox_session_capture import journal, tail
from ox_session_capture.records import JOURNAL, LockTimeout, RecordingMarker

log = logging.getLogger(__name__)


def recover_recording(
    folder: Path, marker: RecordingMarker | None, *, lock_timeout: float = 0.25
) -> None:
    """Catch the raw file of `folder` up from the agent's session file (when the marker names
    one that still exists) or else settle its crash journal. Both take the raw file's lock
    themselves, waiting at most `lock_timeout` seconds.

    Raises `LockTimeout` when the raw file stays busy, `journal.JournalError` for a journal
    it refuses to settle. An adapter or marker problem is logged: what was captured is kept.
    """
    if marker is not None and marker.session_file and os.path.lexists(marker.session_file):
        try:
            tail.catch_up(folder, lock_timeout=lock_timeout)
            return
        except LockTimeout:
            raise
        except journal.RecordingGone:
            return
        except Exception as exc:  # An adapter or marker problem: keep what was captured.
            log.warning("cannot catch up %s from its session file: %s", folder.name, exc)
    if (folder / JOURNAL).exists():
        journal.settle_journal(folder, lock_timeout=lock_timeout)
