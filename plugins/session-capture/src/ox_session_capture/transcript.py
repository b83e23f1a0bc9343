"""Reading `raw.jsonl`: its lines classified (header, entry, footer, including the entry types
of the original daemon's raw files), the whole transcript, and whether a file is still an LFS
pointer. Hostile content (a teammate's commit) is read through `confined` and validated: a bad
line is counted, never fatal."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from ox_session_capture.confined import (
    UnsafePathError,
    open_regular,
)
from ox_session_capture.records import RawEntry, RawFooter, RawHeader, RawHeaderMeta


class RawTranscript(BaseModel):
    """A parsed `raw.jsonl`: header (if any), entries in order, merged footer (if any)."""

    header: RawHeaderMeta | None = None
    entries: list[RawEntry] = Field(default_factory=list)
    footer: RawFooter | None = None
    bad_lines: int = 0

    @property
    def has_content(self) -> bool:
        return bool(self.entries)


# Entry types of the original (Go) daemon's raw files, and what they are here.
LEGACY_TYPES = {
    "message": "assistant",
    "ai": "assistant",
    "model": "assistant",
    "human": "user",
    "tool_call": "tool",
    "tool_use": "tool",
    "tool_result": "tool",
    "tool_output": "tool",
}


def _legacy_entry(obj: dict[str, Any]) -> dict[str, Any]:
    """An entry of the original's raw format in ours: its type mapped (`LEGACY_TYPES`), its
    text taken from `message`, `text`, `data.content`/`data.message` or `result` when it has
    no `content` string."""
    out = {**obj, "type": LEGACY_TYPES[obj["type"]]}
    if not isinstance(obj.get("content"), str):
        nested = obj.get("data")
        data: dict[str, Any] = nested if isinstance(nested, dict) else {}
        for value in (
            data.get("content"),
            data.get("message"),
            obj.get("message"),
            obj.get("text"),
            obj.get("result"),
        ):
            if isinstance(value, str):
                out["content"] = value
                break
        else:
            out.pop("content", None)
    return out


def classify_line(obj: Any) -> RawHeaderMeta | RawEntry | RawFooter | None:
    """What one decoded raw line is; None for anything unrecognised. Lines of the original
    daemon's format are read too (see `LEGACY_TYPES`; its `{"type": "header"}` line is a
    header)."""
    if not isinstance(obj, dict):
        return None
    try:
        if "_meta" in obj:
            return RawHeader.model_validate(obj).meta
        kind = obj.get("type")
        if kind == "footer":
            return RawFooter.model_validate(obj)
        if kind == "header":
            nested = obj.get("metadata")
            meta: dict[str, Any] = nested if isinstance(nested, dict) else obj
            return RawHeaderMeta.model_validate({k: v for k, v in meta.items() if k != "type"})
        if isinstance(kind, str) and kind in LEGACY_TYPES:
            obj = _legacy_entry(obj)
        if "ts" not in obj and "timestamp" in obj:
            obj = {**obj, "ts": obj["timestamp"]}
        return RawEntry.model_validate(obj)
    except ValidationError:
        return None


def read_raw(path: Path) -> RawTranscript:
    """Parse `raw.jsonl`, tolerating bad and truncated lines (counted in `bad_lines`).
    For footers, the last value of each field wins. A link or a special file raises
    `UnsafePathError` (never followed or read)."""
    result = RawTranscript()
    footer: dict[str, Any] = {}
    with os.fdopen(open_regular(path), "rb") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                rec = classify_line(json.loads(line))
            except (ValueError, RecursionError):
                rec = None
            if isinstance(rec, RawHeaderMeta):
                result.header = result.header or rec
            elif isinstance(rec, RawFooter):
                footer.update(rec.model_dump(exclude_none=True))
            elif isinstance(rec, RawEntry):
                result.entries.append(rec)
            else:
                result.bad_lines += 1
    if footer:
        result.footer = RawFooter.model_validate(footer)
    return result


LFS_POINTER_PREFIX = b"version https://git-lfs.github.com/spec/v1"


def is_lfs_pointer(path: Path) -> bool:
    """Whether `path` holds a git-LFS pointer instead of its content."""
    try:
        fd = open_regular(path)
    except (OSError, UnsafePathError):
        return False
    try:
        return os.read(fd, len(LFS_POINTER_PREFIX)) == LFS_POINTER_PREFIX
    finally:
        os.close(fd)
