"""Finding the sessions that need finalization. Blocking: run in a thread.

`scan` walks the three places (ledger cache, per-user cache, committed sessions) in order and
returns a `Found` per session that needs work: for each name, the first copy that needs work.
A copy in a cache is found before the committed folder of its name (a teammate's folder, or
the one the cache copy was published to before a crash: publishing goes beside the first and
finds the second, see `ledger_names`), which waits for a later scan. It reads only what
decides the answer: a finished, committed session costs one `scandir` of its folder and one
small read of `summary.json` (remembered by mtime and size in a `SummaryCache` across scans).
"""

from __future__ import annotations

import enum
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ox_handler_session_finalize.compat import is_original_session
from ox_handler_session_finalize.disposition import Disposition
from ox_handler_session_finalize.staleness import (
    Recover,
    _default_recover,
    end_recording,
    is_stale,
    read_marker_or_none,
)
from ox_handler_session_finalize.summary_cache import SummaryCache
from ox_session_capture import records, transcript
from ox_session_capture.confined import (
    UnsafePathError,
    check_dirs,
    check_session_name,
    open_regular,
    regular_files,
)
from ox_session_capture.liveness import pid_alive
from ox_session_capture.records import (
    ARTIFACTS,
    IGNORED_FOLDERS,
    MARKER,
    META,
    NEEDS_SUMMARY,
    RAW,
    SUMMARY_JSON,
    RecordError,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
KEPT_BACK = frozenset({Disposition.LOCAL_ONLY, Disposition.DISCARD})
"""The `meta.json` dispositions of a summarised session that is not to be published."""
MAX_RETRY_BYTES = 32 * 1024 * 1024
MAX_RETRY_LINES = 50_000
"""The largest committed session summarised again: its files together, and its `raw.jsonl`'s
lines. A committed folder is anyone's, its retry a courtesy, and a transcript takes about 60
times its size in memory once parsed (50 MB of tiny lines, tens of kB in git: gigabytes)."""


class Kind(enum.StrEnum):
    """What a work item has to do: summarise (`full`), summarise again after a failed attempt
    (`retry`), or only copy, commit and push an already finalized session (`upload-only`)."""

    FULL = "full"
    RETRY = "retry"
    UPLOAD_ONLY = "upload-only"


class Place(enum.StrEnum):
    """The three places sessions live in, in scan order: the ledger's cache, the user's
    cache, the committed `sessions/`."""

    LEDGER_CACHE = "ledger-cache"
    COMMITTED = "committed"
    USER_CACHE = "user-cache"


@dataclass(frozen=True)
class Found:
    """A session that needs work: its folder, where it lives, what to do, what is missing."""

    name: str
    path: Path
    place: Place
    kind: Kind
    missing: tuple[str, ...] = ()


# ------------------------------------------------------------------ content checks


def raw_has_content(path: Path, *, strict: bool = False) -> bool:
    """Whether `raw.jsonl` holds at least one entry (header and footer lines don't count).
    Reads only up to the first entry. A file that cannot be read counts as empty, unless
    `strict`: its error is raised then (only a missing file is empty), for a caller that would
    delete what it cannot read."""
    try:
        with os.fdopen(open_regular(path), "rb") as f:
            for line in f:
                if not line.strip():
                    continue
                try:
                    rec = transcript.classify_line(json.loads(line))
                except (ValueError, RecursionError):
                    continue
                if isinstance(rec, records.RawEntry):
                    return True
    except FileNotFoundError:
        return False
    except (OSError, UnsafePathError):
        if strict:
            raise
        return False
    return False


def retry_refusal(folder: Path) -> str:
    """Why the committed session in `folder` is too large to summarise again (see
    `MAX_RETRY_BYTES`), "" when it is not. Sizes come from `lstat` (a sparse file counts at
    its full size); the lines are counted in `raw.jsonl`'s first `MAX_RETRY_BYTES` only.
    A folder that cannot be listed or read is not refused here: reading it fails later."""
    try:
        total = sum(st.st_size for st in regular_files(folder).values())
    except (OSError, UnsafePathError):
        return ""
    if total > MAX_RETRY_BYTES:
        return f"its files hold {total} bytes, over the {MAX_RETRY_BYTES}-byte limit"
    lines = 0
    try:
        fd = open_regular(folder / RAW)
    except (OSError, UnsafePathError):
        return ""
    with os.fdopen(fd, "rb", buffering=0) as f:
        left = MAX_RETRY_BYTES
        while left > 0 and (chunk := f.read(min(left, 1 << 20))):
            left -= len(chunk)
            lines += chunk.count(b"\n")
    if lines > MAX_RETRY_LINES:
        return f"its {RAW} holds {lines} lines, over the {MAX_RETRY_LINES}-line limit"
    return ""


def meta_state(folder: Path) -> tuple[bool, str]:
    """(readable, disposition) of `meta.json`; a missing file is readable with no disposition."""
    try:
        meta = records.read_model(folder / META, records.SessionMeta)
    except FileNotFoundError:
        return True, ""
    except RecordError:
        return False, ""
    disposition = (meta.model_extra or {}).get("disposition", "")
    return True, disposition if isinstance(disposition, str) else ""


# ------------------------------------------------------------------ the scan


@dataclass
class Scanner:
    """One ledger's detection settings and state. `now` and `alive` are injectable for tests."""

    ledger: Path
    user_cache_dir: Path | None = None
    alive: Callable[[int], bool] = pid_alive
    recover: Recover = _default_recover
    summaries: SummaryCache = field(default_factory=SummaryCache)
    now: Callable[[], datetime] = records.now_utc

    def places(self) -> list[tuple[Place, Path]]:
        """The roots of the three places, in scan order (missing ones are skipped)."""
        return [(place, root) for place, root, _trusted in self._places()]

    def _places(self) -> list[tuple[Place, Path, Path]]:
        # Each place with the folder it is trusted from: the ledger (whose `.ox/cache` and
        # `sessions` a teammate may have committed as links) or the user's cache dir.
        user_root = records.user_cache_sessions(self.ledger, self.user_cache_dir)
        return [
            (Place.LEDGER_CACHE, records.ledger_cache_sessions(self.ledger), self.ledger),
            (Place.USER_CACHE, user_root, user_root.parents[3]),
            (Place.COMMITTED, records.committed_sessions(self.ledger), self.ledger),
        ]

    def session_folder(self, place: Place, name: str) -> Path:
        """The folder of session `name` in `place`, once the name is a single folder name and
        every folder from the place's trusted root down to it is a real directory (not a
        link). Raises `UnsafePathError`; a missing folder is returned as it is."""
        check_session_name(name)
        for p, root, trusted in self._places():
            if p is place:
                return check_dirs(trusted, root / name, missing_ok=True)
        raise UnsafePathError(f"unknown place {place!r}")  # pragma: no cover - enum exhaustive

    def folders(self) -> Iterator[tuple[Place, str, Path]]:
        """Every session folder of the three places, first copy of a name only."""
        for place, name, path in self._folders():
            yield place, name, Path(path)

    def _folders(self, *, first_only: bool = True) -> Iterator[tuple[Place, str, str]]:
        seen: set[str] = set()
        for place, root, trusted in self._places():
            try:
                check_dirs(trusted, root)
            except FileNotFoundError:
                continue
            except UnsafePathError as exc:
                log.warning("not scanning %s sessions: %s", place.value, exc)
                continue
            try:
                it = os.scandir(root)
            except (FileNotFoundError, NotADirectoryError):
                continue
            with it:
                for entry in it:
                    if entry.name in seen or entry.name in IGNORED_FOLDERS:
                        continue
                    if not entry.is_dir(follow_symlinks=False):
                        continue
                    try:
                        check_session_name(entry.name)
                    except UnsafePathError:
                        continue
                    if first_only:
                        seen.add(entry.name)
                    yield place, entry.name, entry.path

    def scan(self) -> list[Found]:
        """Every session of the three places that needs work, with what it needs: one item a
        name (its work key), from the first copy that needs work."""
        found: list[Found] = []
        taken: set[str] = set()
        now = self.now()
        # Every copy is looked at: one that needs nothing (a live recording, a session kept
        # locally) must not hide another of its name for ever.
        for place, name, folder in self._folders(first_only=False):
            if name in taken:
                continue
            try:
                item = self.check(place, name, folder, now=now)
            except Exception as exc:  # One bad folder must not hide every other session.
                log.warning("skipping session %s: %s", name, exc)
                continue
            if item is not None:
                taken.add(name)
                found.append(item)
        self.summaries.prune()
        return found

    def check(
        self,
        place: Place,
        name: str,
        folder_path: Path | str,
        *,
        now: datetime | None = None,
    ) -> Found | None:
        """Steps 1–5 for one folder."""
        # Hot path (every session on every scan): plain strings, no Path objects.
        folder_s = os.fspath(folder_path)
        try:
            names = set(os.listdir(folder_s))
        except OSError:
            return None
        if MARKER in names and place is Place.COMMITTED:
            # ox never commits a marker: this one is a teammate's file, and its fields (the
            # agent's session file, a PID) are data, never a path to read or a process to
            # wait for. The folder is left to the teammate who recorded it.
            log.warning("ignoring session %s: a committed recording marker", name)
            return None
        if MARKER in names:
            folder = Path(folder_s)
            try:
                marker, mtime = read_marker_or_none(folder)
            except FileNotFoundError:
                marker, mtime = None, None
            if mtime is not None:
                if not is_stale(marker, mtime, now or self.now(), alive=self.alive):
                    return None
                try:
                    if not end_recording(folder, marker, self.recover):
                        return None
                except Exception as exc:  # Fail closed: leave this recording as it is.
                    log.warning("cannot end the recording %s: %s", name, exc)
                    return None
                names = set(os.listdir(folder_s))
        if RAW not in names:
            return None
        kind: Kind | None = None
        missing = tuple(a for a in ARTIFACTS if a not in names)
        if missing:
            kind = Kind.FULL
        elif NEEDS_SUMMARY in names:
            kind, missing = Kind.FULL, ARTIFACTS
        else:
            state = self.summaries.get(os.path.join(folder_s, SUMMARY_JSON))
            if state is None:
                kind, missing = Kind.FULL, (SUMMARY_JSON,)
            elif state[0] and state[1] < MAX_ATTEMPTS and state[2] != "unrecoverable":
                kind = Kind.RETRY
            elif place is not Place.COMMITTED:
                kind = Kind.UPLOAD_ONLY
        if kind is None:
            return None
        # Checks that read files, done only for a folder that would otherwise yield work.
        folder = Path(folder_s)
        if place is Place.COMMITTED:
            if META in names and is_original_session(folder):
                return None  # published by the original daemon: read, never finalized again
            if why := retry_refusal(folder):
                log.debug("not summarising %s again: %s", name, why)
                return None
        if META in names:
            readable, disposition = meta_state(folder)
            if not readable:
                return None
            # Kept locally, or discarded and left by a crash before its copy went (cleanup
            # removes it): either way never published.
            if kind is Kind.UPLOAD_ONLY and disposition in KEPT_BACK:
                return None
        raw = folder / RAW
        if transcript.is_lfs_pointer(raw) or not raw_has_content(raw):
            return None
        return Found(name=name, path=folder, place=place, kind=kind, missing=missing)
