"""The commit of a live capture step: one checksummed slot rewritten in place.

The marker (`.recording.json`) is a whole JSON file replaced by rename; that costs a new
inode, a directory entry and an fsync, so a live step does not write it. It writes the few
fields a step moves (`source_offset`, `entry_count`, `source_fingerprint`, the committed size
of `raw.jsonl`) into `.recording.commit`: two fixed slots of `SLOT_SIZE` bytes, the step with
sequence number `seq` writing slot `seq % 2` with one `pwrite`. Each slot carries a CRC, so a
torn or half-copied slot is ignored and the other one (one step older) counts.

The marker's `commit` key `{source_offset, raw_size, epoch, seq}` names the slot sequence it
already includes. A reader (`merged`) applies the newest valid slot over the marker when the
slot is of the same `epoch` (made when the recording starts, so a slot file left by another
recording never applies) and has a larger `seq`. Whoever writes the whole marker writes what
it read merged, with that `seq`: slots at or below it are then history.

Why this keeps every line exactly once: docs/capture-journal.md.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import zlib
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import pydantic_core

from ox_core.fs import open_rewritable
from ox_session_capture.confined import UnsafePathError, open_regular_stat

SLOTS = ".recording.commit"
SLOT_SIZE = 512
"""One slot: a 512-byte sector, so a power cut tears at most the slot being written."""
IMAGE_SIZE = 2 * SLOT_SIZE
COMMIT = "commit"
"""The marker's key `{source_offset, raw_size, epoch, seq}`: the size of `raw.jsonl` that goes
with the marker's `source_offset` (valid only while `source_offset` still matches), and the
commit slot sequence the marker includes."""
_MAX_TEXT = 64
SESSION_INFO_KEYS = ("model", "agent_version")
"""What an adapter learns about a session, kept as extra keys of the marker (and of a slot,
so that learning them does not cost a whole-marker write) and of the footer."""

Info = tuple[tuple[str, str], ...]
"""Session info as sorted `(key, value)` pairs: keys of `SESSION_INFO_KEYS`, short printable
ASCII text values (`info_fits`)."""


class Slot(NamedTuple):
    seq: int
    epoch: str
    source_offset: int
    entry_count: int
    raw_size: int
    fingerprint: str
    info: Info = ()


def _short_text(value: object, *, printable: bool = False) -> bool:
    return (
        isinstance(value, str)
        and len(value) <= _MAX_TEXT
        and value.isascii()
        and (not printable or value.isprintable())
    )


def info_fits(info: dict[str, str]) -> bool:
    """Whether `info` can ride in a slot (else the marker is rewritten whole): short
    printable ASCII text. Printable, because JSON escapes a control character in six bytes
    (`\\u0001`) and two values of them would overflow the slot; a printable character takes
    two at most (`\\"`), and the slot stays within `SLOT_SIZE` whatever its numbers."""
    return all(k in SESSION_INFO_KEYS and _short_text(v, printable=True) for k, v in info.items())


def carried_info(marker: Any, learnt: dict[str, str]) -> Info | None:
    """The session info a slot moving `marker` must carry: all the marker holds, updated
    with what the adapter `learnt` (each slot carries all of it, because only the newest
    applies); None when it does not fit in a slot."""
    extra = marker.model_extra or {}
    info = {k: v for k in SESSION_INFO_KEYS if isinstance(v := extra.get(k), str)} | learnt
    return tuple(sorted(info.items())) if info_fits(info) else None


def encode(slot: Slot) -> bytes:
    """`<crc32 of the body, 8 hex> <JSON list>\\n`, padded with NULs to `SLOT_SIZE`."""
    fields: list[object] = list(slot[:-1])
    if slot.info:  # an older reader's six fields when there is none
        fields.append(dict(slot.info))
    # Compact JSON, as `json.dumps(..., separators=(",", ":"))` writes it (every text in a
    # slot is ASCII, so no escape differs), at a tenth of its cost: this runs at every step.
    body = pydantic_core.to_json(fields)
    data = b"%08x %s\n" % (zlib.crc32(body), body)
    if len(data) > SLOT_SIZE:
        raise ValueError(f"commit slot of {len(data)} bytes, over {SLOT_SIZE}")
    return data.ljust(SLOT_SIZE, b"\0")


def decode(data: bytes) -> Slot | None:
    """The slot in `data`, or None when it is empty, torn or not a slot at all."""
    end = data.find(b"\n", 0, SLOT_SIZE)
    if end < 10 or data[8:9] != b" ":
        return None
    body = data[9:end]
    if data[:8] != b"%08x" % zlib.crc32(body):
        return None
    try:
        items = json.loads(body)
    except ValueError:
        return None
    if not isinstance(items, list) or len(items) not in (6, 7):
        return None
    seq, epoch, offset, count, size, fp = items[:6]
    info = items[6] if len(items) == 7 else {}
    if not all(type(n) is int and n >= 0 for n in (seq, offset, count, size)):
        return None
    if not all(_short_text(s) for s in (epoch, fp)):
        return None
    # A key that is not session info never reaches the marker. Control characters are read
    # (not `info_fits`): an earlier version wrote the slots of such info that fitted.
    if not isinstance(info, dict) or not all(
        k in SESSION_INFO_KEYS and _short_text(v) for k, v in info.items()
    ):
        return None
    return Slot(seq, epoch, offset, count, size, fp, tuple(sorted(info.items())))


def newest(image: bytes) -> Slot | None:
    """The valid slot with the larger `seq` in a slot file's bytes."""
    found = [s for s in (decode(image[:SLOT_SIZE]), decode(image[SLOT_SIZE:])) if s is not None]
    return max(found, key=lambda s: s.seq) if found else None


def read_image_at(fd: int) -> bytes:
    """The bytes of both slots of the slot file open at `fd` (`open_slots`)."""
    return os.pread(fd, IMAGE_SIZE, 0).ljust(IMAGE_SIZE, b"\0")


def read_image(path: Path) -> bytes:
    """The bytes of both slots, `IMAGE_SIZE` of them (empty when the file is missing; a link
    or a special file put there is never read: it counts as no slot)."""
    try:
        fd = open_regular_stat(path, blocking=False)[0]  # only `pread` reads it
    except (FileNotFoundError, UnsafePathError):
        return b""
    try:
        return os.pread(fd, IMAGE_SIZE, 0).ljust(IMAGE_SIZE, b"\0")
    finally:
        os.close(fd)


def open_slots(path: Path) -> int:
    """An fd of the slot file for reading and writing, made when missing
    (`ox_core.fs.open_rewritable`: a link or special file there is replaced, never followed).
    `UnsafePathError` when it cannot be made a regular file (a folder there). The caller
    closes it."""
    try:
        return open_rewritable(path, readable=True)[0]
    except IsADirectoryError:
        raise UnsafePathError(f"{path} is a directory; refused") from None


def write_slot(fd: int, slot: Slot, image: bytes) -> bytes:
    """Write `slot` into its place (`seq % 2`) of the slot file open at `fd` with one
    `pwrite`, no fsync (why none is needed: docs/capture-journal.md); the file's bytes
    afterwards, given `image` before."""
    data = encode(slot)
    at = (slot.seq % 2) * SLOT_SIZE
    if os.pwrite(fd, data, at) != SLOT_SIZE:
        raise OSError(errno.EIO, "short write of a commit slot")
    image = image.ljust(IMAGE_SIZE, b"\0")
    return image[:at] + data + image[at + SLOT_SIZE :]


# ---------------------------------------------------------------- the marker's side


def commit_point(marker: Any) -> tuple[str, int] | None:
    """The marker's `(epoch, seq)`, or None when its `commit` key has none (written by an
    older version, or hostile)."""
    commit = (marker.model_extra or {}).get(COMMIT)
    if not isinstance(commit, dict):
        return None
    epoch, seq = commit.get("epoch"), commit.get("seq")
    if not isinstance(epoch, str) or not 0 < len(epoch) <= _MAX_TEXT:
        return None
    if type(seq) is not int or seq < 0:
        return None
    return epoch, seq


def committed_size(marker: Any) -> int | None:
    """The raw file's size committed with the marker's `source_offset`, or None when the
    marker has no valid `commit` key (written by an older version, or moved on since)."""
    commit = (marker.model_extra or {}).get(COMMIT)
    if not isinstance(commit, dict):
        return None
    offset, size = commit.get("source_offset"), commit.get("raw_size")
    if type(offset) is not int or type(size) is not int or size < 0:
        return None
    return size if offset == marker.source_offset else None


def set_committed(marker: Any, raw_size: int) -> None:
    """Record that `raw.jsonl` has `raw_size` bytes at the marker's `source_offset`, keeping
    its epoch and sequence (a marker without them starts a new epoch)."""
    epoch, seq = commit_point(marker) or (secrets.token_hex(8), 0)
    commit = {"source_offset": marker.source_offset, "raw_size": raw_size}
    setattr(marker, COMMIT, commit | {"epoch": epoch, "seq": seq})


def apply(marker: Any, slot: Slot) -> None:
    """Move the marker to what `slot` committed."""
    commit = {"source_offset": slot.source_offset, "raw_size": slot.raw_size}
    set_fields(
        marker,
        source_offset=slot.source_offset,
        entry_count=slot.entry_count,
        source_fingerprint=slot.fingerprint,
        **dict(slot.info),
        **{COMMIT: commit | {"epoch": slot.epoch, "seq": slot.seq}},
    )


def set_fields(record: Any, /, **values: object) -> None:
    """`setattr` of each value on a pydantic model that allows extra keys (no validation on
    assignment, as `setattr` does there), without `BaseModel.__setattr__`'s cost: this runs at
    every capture step. (`record` is positional-only: session info has a key `model`.)"""
    declared = type(record).model_fields
    extra = record.__pydantic_extra__
    for key, value in values.items():
        if key in declared:
            record.__dict__[key] = value
        else:
            extra[key] = value
    record.__pydantic_fields_set__.update(values)


M = TypeVar("M")


def merged(marker: M, image: bytes) -> M:
    """`marker` with the newest slot of `image` applied when it is of the marker's epoch and
    newer than what the marker includes."""
    point = commit_point(marker)
    if point is None or not image:
        return marker
    slot = newest(image)
    if slot is not None and slot.epoch == point[0] and slot.seq > point[1]:
        apply(marker, slot)
    return marker
