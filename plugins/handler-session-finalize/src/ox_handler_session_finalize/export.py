"""The artifacts of a finalized session (docs/ledger-layout.md) and the files it uploads.

Everything written here is redacted once more (defence in depth: a raw file written by
something else, or a summary that quotes a secret, must not reach the shared remote), JSON
decoded before matching (`redact.redact_value`). Blocking: call from a thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ox_session_capture import records
from ox_session_capture.confined import read_regular, regular_files
from ox_session_capture.records import (
    JOURNAL,
    META,
    NEEDS_SUMMARY,
    RAW,
    SESSION_MD,
    SUMMARY_JSON,
    SUMMARY_MD,
    RawEntry,
    RawHeaderMeta,
    RawTranscript,
    SessionMeta,
    Summary,
)
from ox_session_capture.redact import (
    redact_entries,
    redact_file_bytes,
    redact_raw_bytes,
    redact_value,
)

FOLD_AT = 1500


# ------------------------------------------------------------------ markdown


def _info_rows(name: str, header: RawHeaderMeta | None, count: int) -> list[tuple[str, str]]:
    h = header or RawHeaderMeta()
    return [
        ("Session", name),
        ("Session ID", h.session_id or "-"),
        ("Agent", f"{h.agent_type or '-'} ({h.agent_id or '-'})"),
        ("Model", h.model or "-"),
        ("User", h.username or "-"),
        ("Started", h.started_at.isoformat() if h.started_at else "-"),
        ("Entries", str(count)),
    ]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_summary_md(
    name: str, summary: Summary, header: RawHeaderMeta | None, entry_count: int
) -> str:
    """`summary.md`: title, session info, summary, key actions, files modified, topics."""
    title = summary.title or f"Session {name} (summary unavailable)"
    parts = [f"# {title}", "", "## Session", ""]
    parts += [f"- **{k}:** {v}" for k, v in _info_rows(name, header, entry_count)]
    if summary.outcome:
        parts.append(f"- **Outcome:** {summary.outcome}")
    parts += ["", "## Summary", "", summary.summary or f"_{summary.validation_error or 'none'}_"]
    for heading, items in (
        ("Key actions", summary.key_actions),
        ("Files modified", summary.files_modified),
        ("Topics", summary.topics_found),
    ):
        parts += ["", f"## {heading}", ""]
        parts += [f"- {item}" for item in items] or ["_none_"]
    return "\n".join(parts) + "\n"


def _entry_section(seq: int, entry: RawEntry) -> list[str]:
    when = f" · {entry.ts.isoformat()}" if entry.ts else ""
    label = entry.type if entry.type != "tool" else f"tool: {entry.tool_name or '?'}"
    lines = [f"### {seq}. {label}{when}", ""]
    body = entry.content
    if entry.type == "tool":
        chunks = []
        if entry.tool_input:
            chunks.append(f"Input:\n\n````\n{entry.tool_input}\n````")
        if entry.tool_output:
            label = "Output (error)" if entry.is_error else "Output"
            chunks.append(f"{label}:\n\n````\n{entry.tool_output}\n````")
        if entry.content:
            chunks.append(entry.content)
        body = "\n\n".join(chunks)
    if len(body) > FOLD_AT:
        first = body[:120].replace("\n", " ")
        lines += ["<details>", f"<summary>{_cell(first)}…</summary>", "", body, "", "</details>"]
    else:
        lines.append(body or "_empty_")
    lines.append("")
    return lines


def render_session_md(name: str, header: RawHeaderMeta | None, entries: Sequence[RawEntry]) -> str:
    """`session.md`: the session info table, then every entry as a readable section."""
    parts = [f"# Session {name}", "", "| | |", "|---|---|"]
    parts += [f"| {k} | {_cell(v)} |" for k, v in _info_rows(name, header, len(entries))]
    parts += ["", "## Transcript", ""]
    for seq, entry in enumerate(entries, start=1):
        parts += _entry_section(seq, entry)
    return "\n".join(parts).rstrip("\n") + "\n"


# ------------------------------------------------------------------ writing


def _digest(data: bytes) -> dict[str, Any]:
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def write_artifacts(
    folder: Path,
    name: str,
    summary: Summary,
    transcript: RawTranscript,
    *,
    disposition: str,
    rules: Sequence[re.Pattern[str]] = (),
) -> SessionMeta:
    """Write `summary.json`, `summary.md`, `session.md`, remove `.needs-summary`, then
    `meta.json` (a locked read-modify-write that keeps unknown keys). Returns the meta."""
    summary = Summary.model_validate(redact_value(summary.model_dump(by_alias=True), rules))
    entries = redact_entries(transcript.entries, rules)
    header = transcript.header
    files = {
        SUMMARY_JSON: records.dump_json(summary),
        SUMMARY_MD: render_summary_md(name, summary, header, len(entries)).encode(),
        SESSION_MD: render_session_md(name, header, entries).encode(),
    }
    for fname, data in files.items():
        records.atomic_write_bytes(folder / fname, data)
    with contextlib.suppress(FileNotFoundError):
        (folder / NEEDS_SUMMARY).unlink()
    raw_bytes = redact_raw_bytes(read_regular(folder / RAW), rules)
    manifest = {fname: _digest(data) for fname, data in sorted({**files, RAW: raw_bytes}.items())}
    h = header or RawHeaderMeta()
    meta_path = folder / META
    with records.lock_file(meta_path):
        try:
            meta = records.read_model(meta_path, SessionMeta)
        except (FileNotFoundError, records.RecordError):
            meta = SessionMeta()
        meta.session_name = name
        meta.session_id = h.session_id or meta.session_id
        meta.agent_id = h.agent_id or meta.agent_id
        meta.agent_type = h.agent_type or meta.agent_type
        meta.username = h.username or meta.username
        meta.created_at = h.started_at or meta.created_at
        meta.title = summary.title
        meta.summary = summary.summary
        meta.entry_count = len(entries)
        meta.summary_status = summary.summary_status
        meta.summary_attempts = summary.summary_attempts
        meta.files = manifest
        setattr(meta, "disposition", disposition)  # noqa: B010 - an extra (unknown) key
        records.atomic_write_model(meta_path, meta)
    return meta


def upload_files(folder: Path, rules: Sequence[re.Pattern[str]] = ()) -> dict[str, bytes]:
    """The files of `folder` that go to the ledger: regular files except dotfiles (marker,
    locks, `.needs-summary`) and the crash journal, every one redacted once more
    (`redact_file_bytes`).

    Raises `UnsafePathError` when the folder holds a link or a special file (a teammate's link
    to a private file is never followed, and the folder is not published without it either):
    nothing is read then."""
    files: dict[str, bytes] = {}
    for name in sorted(regular_files(folder)):
        if name.startswith(".") or name == JOURNAL:
            continue
        files[name] = redact_file_bytes(name, read_regular(folder / name), rules)
    return files
