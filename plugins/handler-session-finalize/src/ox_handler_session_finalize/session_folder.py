"""Reading a session folder before it is finalized: refuse links and special files, read the
transcript, tell whether its summary is already done, and stage a committed one's retry."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from ox_handler_session_finalize.detect import MAX_RETRY_BYTES, retry_refusal
from ox_handler_session_finalize.payload import FinalizeError
from ox_session_capture import records, transcript
from ox_session_capture.confined import (
    UnsafePathError,
    check_dirs,
    make_dirs,
    read_regular,
    regular_files,
)
from ox_session_capture.records import ARTIFACTS, NEEDS_SUMMARY, RAW, SUMMARY_JSON


def _check_folder(folder: Path) -> None:
    """Refuse a session folder holding a link or a special file before anything is read or
    written there (`FinalizeError` naming it)."""
    try:
        regular_files(folder)
    except UnsafePathError as exc:
        raise FinalizeError(f"session {folder.name} refused: {exc}") from exc


@dataclass(frozen=True)
class _SummaryState:
    done: bool
    attempts: int


def _summary_state(folder: Path) -> _SummaryState:
    """Whether the work is no longer needed (artifacts with a real title, no
    `.needs-summary`) and how many attempts were made."""
    try:
        summary = records.read_model(folder / SUMMARY_JSON, records.Summary)
    except (FileNotFoundError, records.RecordError):
        return _SummaryState(False, 0)
    complete = all((folder / a).is_file() and not (folder / a).is_symlink() for a in ARTIFACTS)
    needs = (folder / NEEDS_SUMMARY).exists()
    done = complete and not needs and bool(summary.title.strip())
    # A committed file is anyone's: a negative count would make the bounded retries endless.
    return _SummaryState(done, max(0, summary.summary_attempts))


def _read_transcript(folder: Path, committed: bool = False) -> transcript.RawTranscript:
    """The transcript of `folder`, once it holds only regular files and (`committed`: a
    folder anyone may have written) is not too large to summarise again (`FinalizeError`)."""
    _check_folder(folder)
    if committed and (why := retry_refusal(folder)):
        raise FinalizeError(f"session {folder.name} is not summarised again: {why}")
    try:
        return transcript.read_raw(folder / RAW)
    except OSError as exc:
        raise FinalizeError(f"cannot read {folder / RAW}: {exc.strerror}") from exc


def _staging_copy(ledger: Path, folder: Path) -> Path:
    """A private copy of committed session `folder` (its regular files but dotfiles), in
    `.ox/cache/retry/<name>/` (never committed, never scanned), where its retry is written.
    A leftover of an earlier crash is replaced. Raises `OSError` or `UnsafePathError` (a link
    on the way). Blocking."""
    staging = records.ledger_cache_sessions(ledger).parent / "retry" / folder.name
    check_dirs(ledger, staging, missing_ok=True)
    _remove_staging(staging)
    _remove_leftovers(staging.parent)
    make_dirs(ledger, staging, 0o700)
    for name in sorted(regular_files(folder)):
        if not name.startswith("."):
            data = read_regular(folder / name, MAX_RETRY_BYTES)  # grown since it was checked
            records.atomic_write_bytes(staging / name, data, 0o600)
    return staging


STAGING_LEFTOVER_AGE = 3600.0
"""Seconds after which a staging copy is a crashed retry's leftover (a retry takes seconds)."""


def _remove_leftovers(root: Path) -> None:
    """Delete the staging copies in `root` older than `STAGING_LEFTOVER_AGE` (a process that
    died in a retry left them; the same session's next retry replaces its own). Blocking."""
    now = time.time()
    with contextlib.suppress(OSError), os.scandir(root) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                st = entry.stat(follow_symlinks=False)
                if now - st.st_mtime > STAGING_LEFTOVER_AGE:
                    if entry.is_dir(follow_symlinks=False):
                        _remove_staging(Path(entry.path))
                    else:
                        os.unlink(entry.path)  # nothing of ours: a file or a link put there


def _remove_staging(staging: Path) -> None:
    """Delete a staging copy (rmtree never follows a link inside it). Blocking."""
    shutil.rmtree(staging, ignore_errors=True)


def _drop_needs_summary(folder: Path) -> None:
    """Remove `.needs-summary` from a committed folder whose retry is being committed (the
    commit records its removal when it was committed too). Blocking."""
    with contextlib.suppress(FileNotFoundError):
        (folder / NEEDS_SUMMARY).unlink()
