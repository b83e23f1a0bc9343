"""The lines a tail writes to `raw.jsonl` and what it checks them against: one entry's line,
the agent message ids already captured, the fingerprint of a source prefix, the redaction of
a batch of entries (`Redactor`: a callable from text to redacted text)."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
import json
import logging
import os
import re
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic_core

from ox_session_capture.commit_slots import SESSION_INFO_KEYS as SESSION_INFO_KEYS
from ox_session_capture.confined import UnsafePathError, open_regular, read_regular
from ox_session_capture.records import PRIOR_IDS, RawEntry

log = logging.getLogger(__name__)

Redactor = Callable[[str], str]
FINGERPRINT_SPAN = 4096
MAX_LINE = 10 * 1024 * 1024
"""Longest source line converted; longer ones are skipped whole."""


def whole_lines(data: bytes, max_line: int = MAX_LINE) -> tuple[list[bytes], int, int] | None:
    """The complete lines of `data` (bytes read from a line's start), the bytes they take
    with their newlines, and how many lines over `max_line` were left out; None when `data`
    holds no newline."""
    cut = data.rfind(b"\n")
    if cut < 0:
        return None
    lines = data.split(b"\n")
    del lines[-1]  # what follows the last newline (no copy of the block, unlike a slice)
    if len(data) > max_line:  # a block larger than the limit may hold an over-long line
        kept = [line for line in lines if len(line) <= max_line]
        if len(kept) < len(lines):  # rare: the per-line call only then (catch-up's hot loop)
            kept = [part for line in lines if (part := within(line, max_line)) is not None]
        return kept, cut + 1, len(lines) - len(kept)
    return lines, cut + 1, 0


def within(line: bytes, max_line: int = MAX_LINE) -> bytes | None:
    """`line` when it is at most `max_line` bytes; else what follows its last NUL byte when
    that is (a region of zeros, a crash's or a preallocation's, then a line: no JSON text
    holds a raw NUL, so the line is what follows it); else None (an over-long line)."""
    if len(line) <= max_line:
        return line
    nul = line.rfind(b"\0", len(line) - max_line - 1)
    return line[nul + 1 :] if nul >= 0 else None


def fingerprint(fd: int, offset: int) -> str:
    """A digest of the bytes before `offset`: the first and the last `FINGERPRINT_SPAN`
    bytes of `[0, offset)` (so all of it for a short prefix)."""
    return PrefixPrint.read(fd, offset).digest()


@dataclass(frozen=True)
class PrefixPrint:
    """The bytes `fingerprint` digests for the prefix `[0, offset)` of a file, kept in
    memory: a live tail checks its prefix by comparing bytes (no digest) and learns the next
    prefix's from the bytes it read (no `pread`), so a step hashes once, not twice.

    `head` is `[0, min(offset, FINGERPRINT_SPAN))`, `tail` the last `FINGERPRINT_SPAN` bytes
    before `offset` that are not in `head` (none for a prefix that fits in the head)."""

    offset: int
    head: bytes
    tail: bytes

    @classmethod
    def read(cls, fd: int, offset: int) -> PrefixPrint:
        """The print of `[0, offset)` of the file open at `fd` (of what it reads there: a
        file shorter than `offset` reads short, and its print matches no full one)."""
        head = os.pread(fd, min(offset, FINGERPRINT_SPAN), 0)
        start = max(len(head), offset - FINGERPRINT_SPAN)
        return cls(offset, head, os.pread(fd, offset - start, start) if start < offset else b"")

    def digest(self) -> str:
        """`v2:<offset, hex>:` then a CRC-32 and an Adler-32 of the head and of the tail: what
        tells a rewritten source from the one read (the file is its own user's: no adversary
        to resist), at under half of a blake2b's cost, since a live step makes one per line."""
        head, tail = self.head, self.tail
        sums = (zlib.crc32(head), zlib.adler32(head), zlib.crc32(tail), zlib.adler32(tail))
        return f"v2:{self.offset:x}:{sums[0]:08x}{sums[1]:08x}{sums[2]:08x}{sums[3]:08x}"

    def has_digest(self, fp: str) -> bool:
        """Whether `fp` is this print's digest, in either format: a marker written before the
        `v2:` digests holds a blake2b of the same bytes (`_blake2b`)."""
        return fp == (self.digest() if fp.startswith("v2:") else self._blake2b())

    def _blake2b(self) -> str:
        h = hashlib.blake2b(digest_size=16)
        h.update(str(self.offset).encode())
        h.update(self.head)
        h.update(self.tail)
        return h.hexdigest()

    def matches(self, fd: int) -> bool:
        """Whether the file open at `fd` still holds these bytes where they were."""
        if os.pread(fd, len(self.head), 0) != self.head:
            return False
        return not self.tail or os.pread(fd, len(self.tail), self.offset - len(self.tail)) == (
            self.tail
        )

    def advanced(self, data: bytes | memoryview) -> PrefixPrint:
        """The print of the prefix that goes on with `data` (the bytes at `offset`); this
        print must be of whole reads (`read` of a file at least `offset` long, or advanced)."""
        span = FINGERPRINT_SPAN
        return self.advanced_by(len(data), data[:span], data[-span:] if len(data) else b"")

    def advanced_by(
        self, size: int, first: bytes | memoryview, last: bytes | memoryview
    ) -> PrefixPrint:
        """`advanced` by `size` bytes of which only the edges are at hand: `first` and
        `last`, their first and last `FINGERPRINT_SPAN` (or all of them when fewer)."""
        span = FINGERPRINT_SPAN
        offset = self.offset + size
        head = self.head
        if len(head) < span:
            head += bytes(first[: span - len(head)])
        # The last `span` bytes before the new offset; before the old one they are the head
        # and tail together (contiguous while the prefix is under two spans, else the tail).
        window = ((self.head + self.tail)[-span:] + bytes(last[-span:]))[-span:]
        past_head = offset - max(len(head), offset - span)
        tail = window[len(window) - past_head :] if past_head > 0 else b""
        return PrefixPrint(offset, head, tail)


_SOURCE_ID = re.compile(rb'"source_id":("(?:[^"\\]|\\.)*")')


def prior_ids(session_dir: Path, marker_extra: object = None) -> object:
    """The agent message ids of a resumed session's earlier parts (`PRIOR_IDS`, written once
    when the part started; a recording of an earlier version keeps them in its marker, given
    as `marker_extra`). The list as stored: `captured_ids` keeps only its strings."""
    try:
        return json.loads(read_regular(session_dir / PRIOR_IDS, MAX_PRIOR_IDS_BYTES))
    except FileNotFoundError:
        return marker_extra
    except (OSError, ValueError, UnsafePathError, RecursionError) as exc:  # a link, bad JSON
        log.warning("%s: earlier parts' ids unreadable (%s): they may be captured again",
                    session_dir.name, exc)  # fmt: skip
        return marker_extra


MAX_PRIOR_IDS_BYTES = 64 * 1024 * 1024


def captured_ids(
    raw: Path,
    also: object = None,
    size: int | None = None,
    open_calls: dict[str, str] | None = None,
) -> set[str]:
    """The `source_id`s of the entries already in `raw.jsonl` (in its first `size` bytes when
    given: the committed ones), plus the strings of the list `also` (`prior_ids`: data, so
    anything else in it is ignored). With `open_calls`, also fills it with the tool calls no
    result answers yet (call id → tool name, `note_call`), in the same pass."""
    ids: set[str] = {i for i in also if isinstance(i, str)} if isinstance(also, list) else set()
    left = size
    with contextlib.suppress(FileNotFoundError), os.fdopen(open_regular(raw), "rb") as f:
        for line in f:
            if left is not None:
                left -= len(line)
                if left < 0:  # past the commit: a failed batch's, cut off by the next commit
                    break
            match = _SOURCE_ID.search(line)
            if match:
                with contextlib.suppress(ValueError):
                    ids.add(json.loads(match.group(1)))
            if open_calls is not None and b'"call_id":' in line:
                note_call(open_calls, line)
    return ids


MAX_OPEN_CALLS = 4096
"""Calls kept by `note_call` (an adapter's `Calls` keeps as many)."""


def note_call(open_calls: dict[str, str], line: bytes) -> None:
    """Update `open_calls` with one `raw.jsonl` line: a tool call opens its id (with its tool
    name), a result closes it. A tail that starts again (a daemon restart, finalization's
    catch-up) gives them to its new adapter, so that a result written after the restart
    still names its tool. Anything else, or a line of another shape, is ignored."""
    try:
        entry = json.loads(line)
    except (ValueError, RecursionError):
        return
    if not isinstance(entry, dict) or entry.get("type") != "tool":
        return
    call_id, name = entry.get("call_id"), entry.get("tool_name")
    if not isinstance(call_id, str) or not call_id:
        return
    if "tool_output" in entry:
        open_calls.pop(call_id, None)
    elif isinstance(name, str) and name:
        open_calls[call_id] = name
        if len(open_calls) > MAX_OPEN_CALLS:
            del open_calls[next(iter(open_calls))]


_TEXT_FIELDS = ("content", "tool_input", "tool_output")


def redact_fields(entries: list[dict[str, Any]], redact: Redactor) -> None:
    """Pass every text field of `entries` (the tail's plain-dict entries, changed in place)
    through `redact` (a `LedgerRedactor` does the whole batch at once)."""
    slots = [
        (entry, field, text)
        for entry in entries
        for field in _TEXT_FIELDS
        if (text := entry.get(field)) and isinstance(text, str)
    ]
    many = getattr(redact, "many", None)
    texts = [text for _, _, text in slots]
    cleaned = many(texts) if many is not None else [redact(t) for t in texts]
    for (entry, field, before), after in zip(slots, cleaned, strict=True):
        if after is not before:
            entry[field] = after


Fields = dict[str, Any]


BUILT_IN_ADAPTERS = frozenset(
    f"ox_session_capture.adapters.{module}" for module in ("claude_code", "codex", "gemini")
)
"""The modules of the adapters whose `parse_fields` gives `RawEntry`'s fields in its types:
their entries are written as they are (a catch-up's millions are not validated again)."""

ENTRY_FIELDS = tuple(RawEntry.model_fields)

MAX_ENTRIES_PER_LINE = 100_000
"""Most entries kept of one line from a third party's adapter (one that gives millions, or
never stops giving, would hold the capture thread and fill the memory)."""


def entry_parser(adapter: Any) -> Callable[[bytes], list[Fields]]:
    """The adapter's `parse_fields` (or `parse_line`) as plain-dict entries. A third party's
    entries are checked (`checked_entries`): redaction passes only the text fields of
    `RawEntry`, and `raw.jsonl` is published, so a field of another name or type (the tool's
    input as a dict) would be written unredacted; and a value no JSON holds (bytes, a
    recursive dict) would stop the recording at that line for good."""
    fast: Callable[[bytes], Any] | None = getattr(adapter, "parse_fields", None)
    if fast is not None and type(adapter).__module__ in BUILT_IN_ADAPTERS:
        return fast
    parse: Callable[[bytes], Any] = fast if fast is not None else adapter.parse_line
    kind = dict if fast is not None else RawEntry  # what each method returns
    name = str(getattr(adapter, "name", "?"))

    def checked(line: bytes) -> list[Fields]:
        return checked_entries(parse(line), kind, name)

    return checked


def checked_entries(got: Iterable[object], kind: type, adapter: str) -> list[Fields]:
    """The entries among `got` (a third party's for one line: `kind`, a dict or a `RawEntry`,
    each) as `RawEntry`'s fields in its types plus a text `source_id`, at most
    `MAX_ENTRIES_PER_LINE`; anything else is dropped and logged."""
    out: list[Fields] = []
    dropped = 0
    for item in itertools.islice(got, MAX_ENTRIES_PER_LINE + 1):
        entry = _checked_entry(item) if item.__class__ is kind else None
        if entry is None:
            dropped += 1
        elif len(out) < MAX_ENTRIES_PER_LINE:
            out.append(entry)
        else:
            log.warning("adapter %s: more than %d entries for one line; the rest dropped",
                        adapter, MAX_ENTRIES_PER_LINE)  # fmt: skip
    if dropped:
        log.warning("adapter %s: %d results of a line are no entry; dropped", adapter, dropped)
    return out


def _checked_entry(item: object) -> Fields | None:
    try:
        fields: Any = item.model_dump() if isinstance(item, RawEntry) else item
        if fields.__class__ is not dict:
            return None
        known = {key: fields[key] for key in ENTRY_FIELDS if key in fields}
        entry = RawEntry.model_validate(known).model_dump(exclude_none=True)
        sid = fields.get("source_id")
    except Exception:  # a ValidationError, or a hostile key's own fault (its `__eq__`)
        return None
    if sid.__class__ is str:
        entry["source_id"] = sid
    return entry


def convert_lines(
    parse: Callable[[bytes], list[Fields]],
    lines: Sequence[bytes],
    seen: set[str],
    batch_ids: set[str],
    where: str,
) -> tuple[list[Fields], int, int]:
    """The entries of `lines` not captured yet, how many were dropped as captured (an agent
    message id in `seen` or earlier in the batch: `batch_ids`, which grows), and how many
    lines the adapter failed on. Such a line, or an entry that is not a dict, is skipped and
    logged (`where` names the recording and the adapter): a third-party adapter that broke
    its contract never stops the following; the recording counts the lines it lost
    (`ADAPTER_FAILED`), for status."""
    out: list[Fields] = []
    dups = failed = 0
    for line in lines:
        try:
            entries = parse(line)
        except Exception:
            log.exception("%s: the adapter failed on a line", where)
            failed += 1
            continue
        for entry in entries:
            if entry.__class__ is not dict:
                log.warning("%s: the adapter gave a %s, not an entry; dropped",
                            where, type(entry).__name__)  # fmt: skip
                continue
            sid = entry.get("source_id")
            if sid.__class__ is str:
                if sid in seen or sid in batch_ids:
                    dups += 1
                    continue
                batch_ids.add(sid)
            out.append(entry)
    return out, dups, failed


def entry_line(entry: dict[str, Any]) -> bytes:
    """One `raw.jsonl` line for `entry` (its fields as given); text the encoder refuses (a
    lone surrogate from a `\\ud800` escape in the source) is replaced, never fatal."""
    try:
        return pydantic_core.to_json(entry) + b"\n"
    except ValueError:
        fixed = {
            key: value.encode("utf-8", "replace").decode("utf-8")
            if isinstance(value, str)
            else value
            for key, value in entry.items()
        }
        return pydantic_core.to_json(fixed) + b"\n"


def entry_lines(entries: list[dict[str, Any]]) -> bytes:
    """The `raw.jsonl` lines of `entries` (`entry_line` each), made in one C-level loop; an
    entry the encoder refuses sends the batch through `entry_line`, which mends it."""
    try:
        lines = list(map(pydantic_core.to_json, entries))
    except ValueError:
        return b"".join([entry_line(e) for e in entries])
    lines.append(b"")  # the last newline, without copying the block to add it
    return b"\n".join(lines) if entries else b""


def ledger_of(session_dir: Path) -> Path | None:
    """The ledger of a session folder in its cache (`<ledger>/.ox/cache/sessions/<name>`)."""
    parents = session_dir.parents
    if len(parents) >= 4 and parents[1].name == "cache" and parents[2].name == ".ox":
        return parents[3]
    return None


@dataclass
class RawBatch:
    """Converted source blocks waiting for one durable commit: their `raw.jsonl` lines, how
    many entries, the agent message ids among them, the source offset after the last block."""

    end: int
    chunks: list[bytes] = dataclasses.field(default_factory=list)
    size: int = 0
    count: int = 0
    duplicates: int = 0
    skipped_long: int = 0
    failed: int = 0  # lines the adapter failed on
    ids: list[str] = dataclasses.field(default_factory=list)
    unknown: dict[str, int] = dataclasses.field(default_factory=dict)  # line types, counted

    def add(self, entries: list[dict[str, Any]], duplicates: int, end: int) -> None:
        ids = [sid for entry in entries if isinstance(sid := entry.get("source_id"), str)]
        self.add_lines(entry_lines(entries), len(entries), ids, duplicates, end)

    def add_lines(self, data: bytes, count: int, ids: list[str], duplicates: int, end: int) -> None:
        """Like `add`, for `count` entries already serialised (`data`, a line each; `ids` the
        agent message ids among them)."""
        self.chunks.append(data)
        self.size += len(data)
        self.count += count
        self.duplicates += duplicates
        self.end = end
        self.ids.extend(ids)


ADAPTER_FAILED = "(the adapter failed on it)"
"""The key the lines an adapter failed on are counted under, with the unknown line types."""
UNKNOWN_KEY = "unknown_lines"
"""Extra key of the marker and the footer: lines of types the adapter does not know, by type."""


def take_unknown(adapter: object) -> dict[str, int]:
    """The adapter's counts of lines of unknown types (its `unknown` dict) since the last
    call, which sets them back to zero; {} for an adapter that keeps none. Lines read again
    (a step that did not commit) are counted again, so each committed line counts once.

    The types stay in the dict: the ones an adapter counts (its first `UNKNOWN_TYPES_KEPT`)
    are then the file's first, wherever the commits fell. Emptied, each commit would count
    another 50, and a catch-up with helpers, which commits at other places than the tail
    alone, would count other types."""
    counts = getattr(adapter, "unknown", None)
    if not isinstance(counts, dict) or not counts:
        return {}
    taken: dict[str, int] = {}
    for key, n in counts.items():
        if isinstance(key, str) and isinstance(n, int) and n:
            name = storable_text(key, MAX_DETAIL)
            taken[name] = taken.get(name, 0) + n
    counts.update(dict.fromkeys(counts, 0))
    return taken


def merge_counts(old: object, new: dict[str, int]) -> dict[str, int]:
    """`old` (a stored count dict, maybe hostile or absent) plus `new`, by key."""
    merged = (
        {k: v for k, v in old.items() if isinstance(k, str) and isinstance(v, int)}
        if (isinstance(old, dict))
        else {}
    )
    for key, n in new.items():
        merged[key] = merged.get(key, 0) + n
    return merged


MAX_DETAIL = 200
"""Longest session detail kept (a model name, a line type): they are written into the marker
at every step that changes them, and one longer than a commit slot holds makes every step
rewrite the whole marker."""


def storable_text(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with what UTF-8 cannot encode (a lone surrogate from
    a `\\ud800` escape in the source) replaced: the marker's writer refuses such text, and a
    marker that cannot be written stops the recording."""
    text = text[:limit]
    try:
        text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode()
    return text


def session_info(adapter: object) -> dict[str, str]:
    """The adapter's `info` (`SESSION_INFO_KEYS` with text values only, made storable: the
    source's text, so hostile)."""
    info = getattr(adapter, "info", None)
    if not isinstance(info, dict):
        return {}
    return {
        k: storable_text(v, MAX_DETAIL)
        for k, v in info.items()
        if k in SESSION_INFO_KEYS and isinstance(v, str)
    }


def note_session(marker: object, info: dict[str, str], unknown: dict[str, int]) -> None:
    """Keep what the adapter learnt in the marker's extra keys: `info` (`model`,
    `agent_version`) as it is, `unknown` (lines of unknown types) added to `UNKNOWN_KEY`."""
    for key, value in info.items():
        setattr(marker, key, value)
    if unknown:
        old = (getattr(marker, "model_extra", None) or {}).get(UNKNOWN_KEY)
        setattr(marker, UNKNOWN_KEY, merge_counts(old, unknown))
