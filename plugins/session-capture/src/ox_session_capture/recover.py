"""Bring a recording's raw file up to the end of the agent's session file.

`drain` steps a tail until nothing more can be consumed; `catch_up` does it once for a
recording no watcher follows. Public: finalization calls `recover_recording` when it ends a
recording whose watcher is gone (the agent exited, the daemon crashed): it catches
`raw.jsonl` up from the agent's session file and settles a crash journal.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import attrs

from ox_session_capture import journal
from ox_session_capture.adapters import load_adapter
from ox_session_capture.journal import RecordingGone
from ox_session_capture.raw_lines import Redactor, ledger_of
from ox_session_capture.records import (
    RAW,
    LockTimeout,
    RecordingMarker,
    lock_file,
    read_marker,
)
from ox_session_capture.redact import make_redactor
from ox_session_capture.tail import CATCH_UP_BATCH_BYTES, CATCH_UP_COMMIT_BYTES, SourceTail

log = logging.getLogger(__name__)


def recover_recording(
    folder: Path, marker: RecordingMarker | None, *, lock_timeout: float = 0.25
) -> None:
    """Catch the raw file of `folder` up from the agent's session file (when the marker names
    one that still exists) or else settle it: a crash journal, and bytes past the commit
    point (a catch-up's early append or a step killed before its commit, which leave no
    journal), cut off before finalization ends the recording with them. Both take the raw
    file's lock themselves, waiting at most `lock_timeout` seconds.

    Raises `LockTimeout` when the raw file stays busy, `journal.JournalError` for a journal
    it refuses to settle. An adapter or marker problem is logged: what was captured is kept.
    """
    if marker is not None and marker.session_file and os.path.lexists(marker.session_file):
        try:
            catch_up(folder, lock_timeout=lock_timeout)
            return
        except LockTimeout:
            raise
        except RecordingGone:
            return
        except Exception as exc:  # An adapter or marker problem: keep what was captured.
            log.warning("cannot catch up %s from its session file: %s", folder.name, exc)
    journal.settle_journal(folder, lock_timeout=lock_timeout)


@attrs.frozen
class CatchUpResult:
    """What `catch_up` appended: entries, source bytes consumed, the final offset."""

    entries: int
    consumed: int
    offset: int


def drain(tail: SourceTail) -> CatchUpResult:
    """Step `tail` until nothing more can be consumed now (its caller holds what it needs)."""
    entries = consumed = 0
    while True:
        result = tail.step()
        entries += result.entries
        consumed += result.consumed
        if not result.progressed:
            return CatchUpResult(entries, consumed, tail.offset)


def catch_up(
    session_dir: Path,
    *,
    lock_timeout: float | None = None,
    redact: Redactor | None = None,
    home: Path | None = None,
) -> CatchUpResult:
    """`catch_up_tail`'s result alone."""
    return catch_up_tail(session_dir, lock_timeout=lock_timeout, redact=redact, home=home)[0]


def catch_up_tail(
    session_dir: Path,
    *,
    lock_timeout: float | None = None,
    redact: Redactor | None = None,
    home: Path | None = None,
) -> tuple[CatchUpResult, SourceTail]:
    """Bring `raw.jsonl` of the recording in `session_dir` up to the end of the agent's
    session file (the complete lines there now), for a stale recording.

    Takes the raw file's lock for the whole run (do not hold it when calling), settles a crash
    journal first, and reads from the marker's persisted offset with the adapter the marker
    names, once `check_source` accepts it (under the adapter's folders in `$HOME`, or in
    `home`; a regular file). A missing source file appends nothing. `redact` defaults to the
    ledger's rules. Also returns the tail that did it (for a caller that takes the lock again
    and steps on: `SourceTail.holds_at`).
    Raises `LockTimeout` (lock busy after `lock_timeout` s; nothing touched), `RecordingGone`
    (no marker), `JournalError`, `RecordError` (corrupt marker), `AdapterError`. Blocking.
    """
    try:
        marker = read_marker(session_dir)
    except FileNotFoundError:
        raise RecordingGone(f"{session_dir.name}: no recording marker") from None
    adapter = load_adapter(marker.adapter_name)
    # The marker's `session_file` is data: read only a file the watcher itself would accept
    # (under the adapter's folders in $HOME, a regular file).
    from ox_session_capture.recording import check_source

    source = check_source(adapter, marker.session_file, home)
    if redact is None:
        redact = make_redactor(ledger_of(session_dir))
    with lock_file(session_dir / RAW, lock_timeout):
        tail = SourceTail(
            session_dir,
            adapter,
            source,
            redact=redact,
            lock_held=True,
            batch_bytes=CATCH_UP_BATCH_BYTES,
            commit_bytes=CATCH_UP_COMMIT_BYTES,
        )
        tail.resume()
        return drain(tail), tail
