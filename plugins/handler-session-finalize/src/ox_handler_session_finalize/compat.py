"""Ledgers the original (Go) daemon wrote: read, never rewritten.

What differs from ox's own formats (docs/ledger-layout.md, "Ledgers of the original daemon"):

- its cache is `.sageox/cache/` (ox's is `.ox/cache/`): never committed, never scanned for
  work (its recordings belong to the original daemon);
- `meta.json` lists files as `{"storage": "lfs"|"git", "oid": "sha256:<hex>", "size": n}`
  (`storage` absent means `lfs`); ox writes `{"size": n, "sha256": "<hex>"}`;
- older raw files use the entry types `message` (an assistant turn) and `tool_call` (a tool);
  their content may sit in `content`, `message`, `text` or `data.content` (see
  `ox_session_capture.transcript.classify_line`, which reads both);
- its redaction rules live in `.sageox/REDACT.md` (see `ox_session_capture.redact`).

A committed session whose `meta.json` is in the original's format is published: detection
never finalizes it again and nothing of it is rewritten.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ox_core.ledger_setup import ORIGINAL_GITIGNORE_LINE

ORIGINAL_CACHE = ORIGINAL_GITIGNORE_LINE
_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class FileEntry:
    """One file of a session's manifest: its size, sha-256 (hex; empty when unknown) and
    where the original said its bytes are (`lfs` or `git`; empty in ox's own entries)."""

    size: int
    sha256: str = ""
    storage: str = ""


def file_entry(value: object) -> FileEntry | None:
    """A manifest entry in either format, None when it is neither (teammates' data: never
    trusted to be well formed)."""
    if not isinstance(value, Mapping):
        return None
    size = value.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return None
    if "oid" in value or "storage" in value:
        storage = value.get("storage") or "lfs"
        oid = value.get("oid") or ""
        if storage not in ("lfs", "git") or not isinstance(oid, str):
            return None
        digest = oid.removeprefix("sha256:")
        if oid and not _HEX.fullmatch(digest):
            return None
        return FileEntry(size, digest, storage)
    digest = value.get("sha256", "")
    if not isinstance(digest, str) or (digest and not _HEX.fullmatch(digest)):
        return None
    return FileEntry(size, digest)


def file_entries(files: object) -> dict[str, FileEntry]:
    """The readable entries of a manifest (`meta.json`'s `files`), by file name; entries with
    a name that is not a plain file name, or in neither format, are left out."""
    if not isinstance(files, Mapping):
        return {}
    out: dict[str, FileEntry] = {}
    for name, value in files.items():
        if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
            continue
        entry = file_entry(value)
        if entry is not None:
            out[name] = entry
    return out


def written_by_original(files: object) -> bool:
    """Whether a manifest is the original daemon's (any entry names a storage or an oid)."""
    if not isinstance(files, Mapping):
        return False
    return any(isinstance(v, Mapping) and ("oid" in v or "storage" in v) for v in files.values())


def is_original_session(folder: Path) -> bool:
    """Whether `folder/meta.json` is the original daemon's (read without following a link;
    False when it is missing or unreadable)."""
    import json

    from ox_session_capture.confined import UnsafePathError, read_regular

    try:
        data = json.loads(read_regular(folder / "meta.json", 4 * 1024 * 1024))
    except (OSError, UnsafePathError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and written_by_original(data.get("files"))


def uses_original_layout(ledger: Path) -> bool:
    """Whether the ledger was used by the original daemon (it has a `.sageox/` folder)."""
    return os.path.isdir(ledger / ".sageox") and not os.path.islink(ledger / ".sageox")


@dataclass
class PublishedCount:
    """Counts the committed sessions of a ledger and those in the original's format,
    remembering each folder's verdict by its `meta.json` mtime (a scan reads only what
    changed). Blocking: call from a thread."""

    seen: dict[str, tuple[int, bool]] = field(default_factory=dict)

    def count(self, ledger: Path) -> tuple[int, int]:
        from ox_session_capture.confined import UnsafePathError, check_dirs

        root = ledger / "sessions"
        try:
            check_dirs(ledger, root)
            entries = [e for e in os.scandir(root) if e.is_dir(follow_symlinks=False)]
        except (OSError, UnsafePathError):
            return 0, 0
        seen: dict[str, tuple[int, bool]] = {}
        for entry in entries:
            try:
                mtime = os.lstat(os.path.join(entry.path, "meta.json")).st_mtime_ns
            except OSError:
                mtime = -1
            cached = self.seen.get(entry.name)
            if cached is not None and cached[0] == mtime:
                seen[entry.name] = cached
            else:
                seen[entry.name] = (mtime, mtime >= 0 and is_original_session(Path(entry.path)))
        self.seen = seen
        return len(seen), sum(1 for _, original in seen.values() if original)


def committed_names(ledger: Path) -> set[str]:
    """The session folders of the ledger's work tree (`sessions/<name>/`, real folders only),
    whoever wrote them. Blocking. For naming a new session without a collision, together
    with `ox_handler_session_finalize.ledger.Ledger.remote_session_names`."""
    from ox_session_capture.confined import UnsafePathError, check_dirs

    root = ledger / "sessions"
    try:
        check_dirs(ledger, root)
        with os.scandir(root) as it:
            return {e.name for e in it if e.is_dir(follow_symlinks=False)}
    except (OSError, UnsafePathError):
        return set()
