"""Reading a session folder before it is finalized: refuse links and special files, read the
transcript, and tell whether its summary is already done."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ox_handler_session_finalize.payload import FinalizeError
from ox_session_capture import records, transcript
from ox_session_capture.confined import UnsafePathError, regular_files
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
    return _SummaryState(done, summary.summary_attempts)


def _read_transcript(folder: Path) -> transcript.RawTranscript:
    _check_folder(folder)
    try:
        return transcript.read_raw(folder / RAW)
    except OSError as exc:
        raise FinalizeError(f"cannot read {folder / RAW}: {exc.strerror}") from exc
