"""Redaction of whole files: a session folder's files as they may be uploaded.

`redact_raw_bytes` treats JSON Lines (every string value redacted after decoding, a clean line
kept byte for byte), `redact_file_bytes` picks the treatment by file name. Blocking and pure.

The records' own structure is never redacted (`redact_record`): a team's pattern that matches
a field name or a record type (`user`, `type`, `[\\s\\S]`) would otherwise leave entries no
reader takes, and make every summary fail.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ox_session_capture.records import RawEntry, RawFooter
from ox_session_capture.redact.engine import decode_json, redact_text, redact_value
from ox_session_capture.redact.secret_commands import SecretOutputs

log = logging.getLogger(__name__)


def redact_raw_bytes(data: bytes, rules: Sequence[re.Pattern[str]] = ()) -> bytes:
    """`raw.jsonl` (or any JSON Lines file) with every string value redacted, decoded (JSON
    inside a string is decoded too, see `redact.engine`). A line that needs no change is kept
    byte for byte (unless it repeats a key: `decode_json`); a line that is not JSON is
    redacted as text. The output of a call that prints a secret (`secret_commands`) is
    hidden."""
    out: list[bytes] = []
    secrets = SecretOutputs()
    for line in data.splitlines(keepends=True):
        body = line.rstrip(b"\r\n")
        ending = line[len(body) :]
        try:
            obj, repeated = decode_json(body)
            hidden = secrets.hide(obj) if isinstance(obj, dict) else None
            clean = redact_record(hidden or obj, rules)  # differs from `obj` once hidden
            same = clean == obj and not repeated
            dumped = (
                b""
                if same
                else json.dumps(clean, ensure_ascii=False, separators=(",", ":")).encode()
            )
        except (ValueError, RecursionError):
            # Not JSON (or nested beyond reason): redact it as text.
            out.append(_redact_text_bytes(body, rules) + ending if body else line)
            continue
        out.append(line if same else dumped + (ending or b"\n"))
    return b"".join(out)


RAW_NAMES = frozenset({*RawEntry.model_fields, *RawFooter.model_fields, "_meta", "timestamp",
                       "source_id"})  # fmt: skip
"""The top-level field names of ox's `raw.jsonl` records."""
_TYPES = frozenset({"user", "assistant", "system", "tool", "footer"})
"""The record types ox writes."""
_TIMES = frozenset({"ts", "timestamp", "closed_at", "stopped_at", "started_at"})
_HEADER_IDS = frozenset({"schema_version", "agent_id", "agent_type", "session_id"})
_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


def redact_record(
    obj: Any, rules: Sequence[re.Pattern[str]] = (), names: frozenset[str] | None = RAW_NAMES
) -> Any:
    """One record of a session file (a `raw.jsonl` line, a `.json` file) redacted as
    `redact_value` does, but for its structure: the names of its top-level fields that are in
    `names` (None: all of them, an ox file's) and the header's, a record type ox writes, a
    timestamp that is one, and the header's ids when they have an id's shape are kept. Text is
    redacted as before (ids, types and other names that are not ox's included); anything but
    an object is `redact_value`'s."""
    if not isinstance(obj, dict):
        return redact_value(obj, rules)
    out: dict[Any, Any] = {}
    for key, value in obj.items():
        if names is not None and key not in names:
            out.update(redact_value({key: value}, rules))  # a name of another's: text too
        elif _kept(key, value):
            out[key] = value
        elif key == "_meta" and isinstance(value, dict):
            out[key] = {
                k: v if _kept(k, v) or (k in _HEADER_IDS and _is_id(v)) else _under(k, v, rules)
                for k, v in value.items()
            }
        else:
            out[key] = _under(key, value, rules)
    return out


def _kept(key: object, value: object) -> bool:
    if value is None or isinstance(value, bool | int | float):
        return True
    if not isinstance(value, str):
        return False
    if key == "type":
        return value in _TYPES
    if key in _TIMES:
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return False
        return True
    return False


def _is_id(value: object) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def _under(key: object, value: Any, rules: Sequence[re.Pattern[str]]) -> Any:
    """`value` redacted as the value of `key` (rules that look at the key apply), the key kept."""
    if not isinstance(key, str):
        return redact_value(value, rules)
    [clean] = redact_value({key: value}, rules).values()
    return clean


def _redact_text_bytes(data: bytes, rules: Sequence[re.Pattern[str]] = ()) -> bytes:
    """`data` redacted as text; bytes that are not UTF-8 pass through unchanged (surrogate
    escapes), so a binary file keeps its bytes except where a secret shape was found."""
    text = data.decode("utf-8", "surrogateescape")
    redacted = redact_text(text, rules)
    return data if redacted == text else redacted.encode("utf-8", "surrogateescape")


def redact_file_bytes(name: str, data: bytes, rules: Sequence[re.Pattern[str]] = ()) -> bytes:
    """One file of a session folder as it may be uploaded: `.jsonl` line by line, `.json`
    decoded (as text when it does not parse), anything else as text."""
    if name.endswith(".jsonl"):
        return redact_raw_bytes(data, rules)
    if name.endswith(".json"):
        try:
            obj, repeated = decode_json(data)
        except (ValueError, RecursionError):
            return _redact_text_bytes(data, rules)
        try:
            clean = redact_record(obj, rules, names=None)
        except RecursionError:
            return _redact_text_bytes(data, rules)
        if clean == obj and not repeated:
            return data
        return (json.dumps(clean, ensure_ascii=False, indent=2) + "\n").encode()
    return _redact_text_bytes(data, rules)


def redact_entries(entries: Sequence[RawEntry], rules: Sequence[re.Pattern[str]]) -> list[RawEntry]:
    """Copies of `entries` with their text fields redacted (JSON inside decoded). An entry
    whose extra keys nest deeper than Python recurses (only a hand-made file or a teammate's
    does that) keeps its own fields, redacted, without them: never a failure of the whole
    session on every retry, never the nested text unredacted. The output of a call that
    prints a secret (`secret_commands`) is hidden."""
    result = []
    secrets = SecretOutputs()
    for entry in entries:
        data = entry.model_dump(by_alias=True)
        data = secrets.hide(data) or data
        try:
            clean = redact_record(data, rules)
        except RecursionError:
            own = {k: v for k, v in data.items() if k in RawEntry.model_fields}
            log.warning("an entry's extra keys nest too deeply: left out of the transcript")
            clean = redact_record(own, rules)
        result.append(RawEntry.model_validate(clean))
    return result
