"""The on-disk records of a session folder, shared by finalization and the session watcher.

Files (see docs/ledger-layout.md):
`.recording.json` (the marker of a live recording), `raw.jsonl` (header,
entries, footers), `raw.jsonl.append.json` (the crash journal), `summary.json`, `summary.md`,
`session.md`, `meta.json`, `.needs-summary`.

Every model keeps unknown keys (`extra="allow"`) so a read-modify-write by this version never
drops what a newer one wrote. Every write is atomic (unique temp file, fsync, rename, fsync of
the folder); every read-modify-write holds the file's lock (`lock_file`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ox_core.fs import LockTimeout as LockTimeout  # re-exported: the records' lock error
from ox_core.fs import atomic_write
from ox_core.fs import fsync_dir as fsync_dir  # re-exported for the session modules
from ox_core.fs import lock_file as fs_lock_file
from ox_session_capture.commit_slots import SLOTS, merged, read_image
from ox_session_capture.confined import (
    MAX_RECORD_BYTES,
    UnsafePathError,
    read_regular,
)

MARKER = ".recording.json"
RAW = "raw.jsonl"
JOURNAL = "raw.jsonl.append.json"
NEEDS_SUMMARY = ".needs-summary"
PRIOR_IDS = ".prior-source-ids.json"
SUMMARY_JSON = "summary.json"
SUMMARY_MD = "summary.md"
SESSION_MD = "session.md"
META = "meta.json"
ARTIFACTS = (SUMMARY_MD, SUMMARY_JSON, SESSION_MD)
CONTENT_FILES = (RAW, SUMMARY_MD, SESSION_MD)
IGNORED_FOLDERS = frozenset({"raw", "events"})
SCHEMA_VERSION = "1"

ADAPTER_ALIASES = {"claude": "claude-code", "gemini-cli": "gemini"}


def canonical_adapter(name: str) -> str:
    """`claude` → `claude-code`, `gemini-cli` → `gemini`; other names unchanged."""
    return ADAPTER_ALIASES.get(name, name)


class RecordError(Exception):
    """A record file is unreadable or invalid (the message names the file)."""


# ---------------------------------------------------------------- models


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class RecordingMarker(_Record):
    """`.recording.json`: the marker of a live recording."""

    agent_id: str = ""
    session_id: str = ""
    agent_session_id: str = ""
    started_at: datetime | None = None
    adapter_name: str = ""
    session_file: str = ""
    session_path: str = ""
    parent_pid: int = 0
    watch_mode: Literal["tail", "hook"] | str = "tail"
    source_offset: int = 0
    start_offset: int = 0
    entry_count: int = 0
    stopped_at: datetime | None = None
    workspace_path: str = ""


class RawHeaderMeta(_Record):
    schema_version: str = SCHEMA_VERSION
    agent_id: str = ""
    agent_type: str = ""
    session_id: str = ""
    started_at: datetime | None = None
    username: str = ""
    model: str = ""


class RawHeader(_Record):
    """The first line of `raw.jsonl`: `{"_meta": {...}}`."""

    meta: RawHeaderMeta = Field(alias="_meta")


EntryType = Literal["user", "assistant", "system", "tool"]


class RawEntry(_Record):
    """One captured transcript entry (what each kind keeps: docs/ledger-layout.md). Readers
    accept `timestamp` for `ts`."""

    ts: datetime | None = None
    type: EntryType
    content: str = ""
    tool_name: str | None = None
    tool_input: str | None = None
    tool_output: str | None = None
    is_error: bool | None = None
    exit_code: int | None = None
    call_id: str | None = None


class RawFooter(_Record):
    type: Literal["footer"] = "footer"
    closed_at: datetime | None = None
    stopped_at: datetime | None = None
    entry_count: int | None = None


class AppendJournal(_Record):
    """`raw.jsonl.append.json`: the batch being appended (the crash journal, see `journal`)."""

    raw_size: int
    old_offset: int
    new_offset: int
    final_size: int | None = None


class NotableMoment(_Record):
    """A moment of the session worth reading (`aha_moments` of `summary.json`): the entry
    (`seq`), who spoke, what kind of moment (question, insight, decision, breakthrough...),
    the words that matter and why."""

    seq: int = 0
    role: str = ""
    type: str = ""
    highlight: str = ""
    why: str = ""


class Summary(_Record):
    """`summary.json`. `files_modified` are the files touched, derived from the tools'
    inputs (not the agent's word); `chapter_titles` split the session into parts;
    `aha_moments` are its notable moments; `agent_summary` is written for the next agent."""

    title: str = ""
    summary: str = ""
    agent_summary: str = ""
    chapter_titles: list[str] = Field(default_factory=list)
    aha_moments: list[NotableMoment] = Field(default_factory=list)
    key_actions: list[str] = Field(default_factory=list)
    outcome: str = ""
    topics_found: list[str] = Field(default_factory=list)
    files_modified: list[str] = Field(default_factory=list)
    quality_category: str | None = None
    quality_score: float | None = None
    score_reason: str = ""
    summary_status: str = "ok"
    validation_error: str | None = None
    summary_attempts: int = 0


class SessionMeta(_Record):
    """`meta.json`."""

    session_name: str = ""
    session_id: str = ""
    agent_id: str = ""
    agent_type: str = ""
    username: str = ""
    created_at: datetime | None = None
    title: str = ""
    summary: str = ""
    entry_count: int = 0
    summary_status: str = ""
    summary_attempts: int = 0
    files: dict[str, Any] = Field(default_factory=dict)


def dump_json(model: BaseModel) -> bytes:
    """2-space indented JSON of a record, unknown keys included, by alias, with newline
    (pydantic's encoder: the standard library's is pure Python when indenting)."""
    return model.model_dump_json(indent=2, by_alias=True).encode() + b"\n"


def dump_line(model: BaseModel) -> bytes:
    """One compact JSONL line of a record (None fields left out), with newline."""
    data = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


# ---------------------------------------------------------------- atomic files and locks


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o600) -> None:
    """`ox_core.fs.atomic_write`: the old file or the new one, never half; the folder is never
    a link (`UnsafePathError`), a link at `path` is replaced, never followed."""
    atomic_write(path, data, mode=mode)


def atomic_write_model(path: Path, model: BaseModel, mode: int = 0o600, **how: bool) -> None:
    """`atomic_write_bytes` of the record's JSON; `how`: `ox_core.fs.atomic_write`'s keywords
    (the capture journal's commit uses them, docs/capture-journal.md)."""
    atomic_write(path, dump_json(model), mode=mode, **how)


@functools.lru_cache(maxsize=4096)  # taken twice per capture step: skip the path arithmetic
def lock_path(path: Path) -> Path:
    """The lock file of record `path` (what `lock_file` locks)."""
    # A dotfile beside the record: copies of the session folder skip dotfiles.
    return path.parent / f".{path.name.lstrip('.')}.lock"


@contextlib.contextmanager
def lock_file(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the exclusive lock of record `path` (an flock on a sidecar dotfile, see
    `ox_core.fs.lock_file`). `timeout` None waits forever; otherwise raises `LockTimeout`
    after `timeout` seconds. Blocking: call from a thread in trio code, or with a short
    timeout.
    """
    with fs_lock_file(lock_path(path), timeout=timeout, what=str(path)):
        yield


# ---------------------------------------------------------------- reading and updating

M = TypeVar("M", bound=BaseModel)


def read_model(path: Path, model: type[M]) -> M:
    """Read and validate a JSON record; `RecordError` when unreadable or invalid (a link, a
    special file and a file over `MAX_RECORD_BYTES` are unreadable: never followed or read).
    `FileNotFoundError` passes through (a missing file is not a corrupt one)."""
    try:
        data = read_regular(path, MAX_RECORD_BYTES)
    except FileNotFoundError:
        raise
    except UnsafePathError as exc:
        raise RecordError(str(exc)) from exc
    except OSError as exc:
        raise RecordError(f"{path}: {exc.strerror}") from exc
    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        raise RecordError(f"{path}: {exc.errors()[0]['msg']}") from exc


def read_marker(session_dir: Path) -> RecordingMarker:
    """The marker with its newest commit slot applied (`commit_slots`): where the recording
    really is."""
    marker = read_model(session_dir / MARKER, RecordingMarker)
    return merged(marker, read_image(session_dir / SLOTS))


def remove_marker(session_dir: Path) -> None:
    """End a recording's marker: remove it and its commit slots (inert without its epoch),
    either of which may be gone already. The caller holds the raw file's lock."""
    for name in (MARKER, SLOTS):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(session_dir / name)


def update_marker(
    session_dir: Path,
    change: Callable[[RecordingMarker], None],
    *,
    timeout: float | None = None,
) -> RecordingMarker:
    """Locked read-modify-write of the marker: `change` mutates it in place; unknown keys kept.

    Raises `FileNotFoundError` when the marker is gone (the recording ended), `RecordError`
    when it is corrupt (left as it is), `LockTimeout` after `timeout`.
    """
    path = session_dir / MARKER
    with lock_file(path, timeout):
        marker = read_marker(session_dir)  # written back with the slot it includes
        change(marker)
        atomic_write_model(path, marker)
        return marker


# ---------------------------------------------------------------- names and places

_UNSAFE = re.compile(r'[/\\:*?"<>|]')
_DASHES = re.compile(r"-{2,}")


MAX_NAME_PART = 100
"""UTF-8 bytes kept of the user and of the agent id in a session name: with the time and a
`-<n>` suffix it stays a valid folder name (255 bytes), whatever `$USER` holds."""


def _clean_part(text: str) -> str:
    # Control and format characters (and the lone surrogates of a `$USER` that is not UTF-8)
    # would make a name no command or finalization accepts (`check_session_name`).
    text = "".join(c if c.isprintable() else "-" for c in text)
    text = _DASHES.sub("-", _UNSAFE.sub("-", text))
    return text.encode()[:MAX_NAME_PART].decode("utf-8", "ignore")


def session_name(started_at: datetime, username: str, agent_id: str) -> str:
    """`YYYY-MM-DDTHH-MM-<user>-<agent_id>` in local time, minute precision."""
    local = started_at.astimezone() if started_at.tzinfo else started_at
    user = _clean_part(username) or "anonymous"
    agent = _clean_part(agent_id) or "unknown"
    return _DASHES.sub("-", f"{local:%Y-%m-%dT%H-%M}-{user}-{agent}")


def ledger_cache_sessions(ledger: Path) -> Path:
    """`<ledger>/.ox/cache/sessions`: where recordings are written; never committed."""
    return ledger / ".ox" / "cache" / "sessions"


def committed_sessions(ledger: Path) -> Path:
    """`<ledger>/sessions`: committed sessions."""
    return ledger / "sessions"


def user_cache_sessions(ledger: Path, user_cache_dir: Path | None = None) -> Path:
    """`<user cache dir>/ox/sessions/<repo_id>/sessions`, `repo_id` = the ledger folder name."""
    if user_cache_dir is None:
        import platformdirs

        user_cache_dir = Path(platformdirs.user_cache_dir())
    return user_cache_dir / "ox" / "sessions" / ledger.name / "sessions"


def now_utc() -> datetime:
    return datetime.now(UTC)
