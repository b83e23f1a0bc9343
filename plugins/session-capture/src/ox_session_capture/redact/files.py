"""Redaction of whole files: a session folder's files as they may be uploaded.

`redact_raw_bytes` treats JSON Lines (every string value redacted after decoding, a clean line
kept byte for byte), `redact_file_bytes` picks the treatment by file name. Blocking and pure.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence

from ox_session_capture.records import RawEntry
from ox_session_capture.redact.engine import redact_text, redact_value

log = logging.getLogger(__name__)


def redact_raw_bytes(data: bytes, rules: Sequence[re.Pattern[str]] = ()) -> bytes:
    """`raw.jsonl` (or any JSON Lines file) with every string value redacted, decoded (JSON
    inside a string is decoded too, see `redact.engine`). A line that needs no change is kept
    byte for byte; a line that is not JSON is redacted as text."""
    out: list[bytes] = []
    for line in data.splitlines(keepends=True):
        body = line.rstrip(b"\r\n")
        ending = line[len(body) :]
        try:
            obj = json.loads(body)
            clean = redact_value(obj, rules)
            same = clean == obj
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
            obj = json.loads(data)
        except (ValueError, RecursionError):
            return _redact_text_bytes(data, rules)
        try:
            clean = redact_value(obj, rules)
        except RecursionError:
            return _redact_text_bytes(data, rules)
        if clean == obj:
            return data
        return (json.dumps(clean, ensure_ascii=False, indent=2) + "\n").encode()
    return _redact_text_bytes(data, rules)


def redact_entries(entries: Sequence[RawEntry], rules: Sequence[re.Pattern[str]]) -> list[RawEntry]:
    """Copies of `entries` with their text fields redacted (JSON inside decoded). An entry
    whose extra keys nest deeper than Python recurses (only a hand-made file or a teammate's
    does that) keeps its own fields, redacted, without them: never a failure of the whole
    session on every retry, never the nested text unredacted."""
    result = []
    for entry in entries:
        data = entry.model_dump(by_alias=True)
        try:
            clean = redact_value(data, rules)
        except RecursionError:
            own = {k: v for k, v in data.items() if k in RawEntry.model_fields}
            log.warning("an entry's extra keys nest too deeply: left out of the transcript")
            clean = redact_value(own, rules)
        result.append(RawEntry.model_validate(clean))
    return result
