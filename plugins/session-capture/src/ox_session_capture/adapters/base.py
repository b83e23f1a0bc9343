"""The adapter protocol, shared helpers, and loading by name (ox-core's plugin loader,
entry-point group `ox.adapters`)."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol, runtime_checkable

import pydantic_core

from ox_core.errors import OxError
from ox_session_capture.records import RawEntry, canonical_adapter

log = logging.getLogger(__name__)


class AdapterError(OxError):
    """An adapter name that no installed distribution provides, or one that fails to load."""


@runtime_checkable
class SessionAdapter(Protocol):
    """Converts the lines of one agent's session file into raw entries.

    `name` is the canonical adapter name (`claude-code`); `roots` are the folders, relative to
    `$HOME`, where that agent keeps its session files (a watched file must lie under one; a
    root that is absolute, climbs out with `..` or is `$HOME` itself is ignored).
    """

    name: str
    roots: tuple[str, ...]

    def parse_line(self, line: bytes) -> list[RawEntry]:
        """The raw entries of one complete source line (without its newline), in order.

        An adapter may also have `parse_fields(line)`, the same entries as plain dicts
        (`Fields`); the tail then uses it and builds no model object per entry.

        Must never raise, whatever the bytes: an unparseable or uninteresting line gives [].
        Entries carry the agent's own message id in the extra field `source_id` where the
        format has one, so a re-read of the file can skip what was already captured.
        An adapter may also keep an `info` dict (`model`, `agent_version`) of what it saw,
        and an `unknown` dict counting the lines of types it does not know, by type (the
        tail takes and empties it per batch, and the recording reports the totals).
        The entries of an adapter other than ox's own are checked: only `RawEntry`'s fields in
        its types and a text `source_id` are kept (redaction passes those, and `raw.jsonl` is
        published), an entry of another shape is dropped, and so are a line's entries past
        `raw_lines.MAX_ENTRIES_PER_LINE`.
        What each entry keeps (user, assistant, system, tool call, tool result) is one rule
        for every agent: docs/ledger-layout.md, "What a session keeps".
        """
        ...


Fields = dict[str, Any]
"""One entry as a plain dict: the fields of `RawEntry` in its order with the None ones left
out, then `source_id`. What `parse_fields` returns and the tail writes, one JSON line each:
the entries of a long catch-up are never turned into model objects."""


UNKNOWN_TYPES_KEPT = 50
"""How many line types an adapter counts as unknown (a hostile file could name millions)."""


UNREADABLE = "(unreadable line)"
"""The type a line that is no JSON object ox can read (bad JSON or UTF-8, nested too deep, a
list...) is counted under in `unknown`: it is reported with the unknown types, not lost
silently."""


class BaseAdapter:
    """Helpers for the built-in adapters: JSON decoding that never raises, timestamps.
    Subclasses implement `parse_object` (and may pre-filter lines in `parse_fields`);
    `parse_line` is the same entries as validated `RawEntry` objects.

    `info` collects what the lines say about the session as they are parsed: `model` and
    `agent_version` (the latest value seen wins). `unknown` counts lines of unknown types;
    `calls` remembers the names of open tool calls, so a result (which names only its call
    id) gets its tool's name.
    """

    name: ClassVar[str] = ""
    roots: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self.info: dict[str, str] = {}
        self.unknown: dict[str, int] = {}
        self.calls = Calls()

    def _unknown(self, kind: Any) -> None:
        """Count a line (or item) of a type this adapter does not know: a new CLI version may
        have moved something worth keeping there. Reported in the recording's status."""
        key = kind if isinstance(kind, str) and kind else "?"
        key = key[:60]
        if key in self.unknown or len(self.unknown) < UNKNOWN_TYPES_KEPT:
            self.unknown[key] = self.unknown.get(key, 0) + 1

    def _note(self, key: str, value: Any) -> None:
        if isinstance(value, str) and value:
            self.info[key] = value

    def parse_line(self, line: bytes) -> list[RawEntry]:
        return [RawEntry.model_validate(fields) for fields in self.parse_fields(line)]

    def parse_fields(self, line: bytes) -> list[Fields]:
        obj = load_json_object(line)
        if obj is None:
            if line.strip(b" \t\r\0"):  # not a blank line: one the agent wrote, lost
                self._unknown(UNREADABLE)
            return []
        try:
            return self.parse_object(obj)
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            # A line of an unexpected shape is skipped (and consumed), never fatal.
            log.debug("%s: skipping a line of unexpected shape: %s", self.name, exc)
            return []

    def parse_object(self, obj: dict[str, Any]) -> list[Fields]:
        raise NotImplementedError


def load_json_object(line: bytes) -> dict[str, Any] | None:
    """The JSON object on `line`, or None for anything else (bad UTF-8, bad JSON, a list...)."""
    try:
        # pydantic-core's parser is ~3x faster than `json`; `json` still decides the lines it
        # refuses (e.g. a lone surrogate escape), so both accept the same lines.
        obj = pydantic_core.from_json(line)
    except ValueError:
        nul = line.rfind(b"\0")
        if nul >= 0:
            # A run of NUL bytes before the line (a file extended by a crash, or preallocated,
            # then appended to): no JSON text holds a raw NUL, so the line is what follows.
            return load_json_object(line[nul + 1 :])
        if not _object_shaped(line):
            return None  # `json` refuses it too: not asked (its error costs 7x pydantic's)
        try:
            obj = json.loads(line, parse_int=_parse_int)
        except (ValueError, RecursionError):
            return None
    return obj if isinstance(obj, dict) else None


def _object_shaped(line: bytes) -> bool:
    """Whether `line` may hold a JSON object for `json`: `{` to `}` between JSON whitespace,
    after a UTF-8 byte-order mark or not. A file of blank or junk lines (a byte each) made
    every line raise in both parsers: 4.5 µs a line, 50 s of the capture thread for 10 MB."""
    body = (line[3:] if line.startswith(b"\xef\xbb\xbf") else line).strip(b" \t\r\n")
    return body[:1] == b"{" and body[-1:] == b"}"


def _parse_int(digits: str) -> int | str:
    """A JSON integer; one longer than `int()` converts (4300 digits) is kept as its text,
    not fatal to its whole line (the message and every block of it)."""
    try:
        return int(digits)
    except ValueError:
        return digits


def parse_ts(value: Any) -> datetime | None:
    """An ISO 8601 timestamp with its offset; None when absent, unreadable or without an
    offset. An offset with seconds (ISO allows it, RFC 3339 does not, and a `RawEntry` would
    write it cut to the minute) is moved to UTC."""
    if value.__class__ is not str or not value:
        return None
    try:
        ts = datetime.fromisoformat(value)  # `Z` included, since Python 3.11
    except ValueError:
        return None
    offset = ts.utcoffset()
    if offset is None:
        return None
    if offset.seconds % 60 or offset.microseconds:
        try:
            return ts.astimezone(UTC)
        except OverflowError:  # past year 9999 or before year 1 in UTC: no time to write
            return None
    return ts


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def to_json(value: Any) -> str:
    """`value` as compact JSON text (a string stays as it is)."""
    if isinstance(value, str):
        return value
    try:
        return pydantic_core.to_json(value).decode()
    except (ValueError, UnicodeDecodeError):
        pass
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return str(value)


def source_id(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


MAX_ID_PART = 256
"""Longest agent id kept as it is in a `source_id` (the agents' ids are UUIDs and the like)."""


def sid_part(value: Any) -> str | None:
    """An agent's id (`value`, when it is text) as a part of a `source_id`; None otherwise.

    Adapters join parts with `#` (`<uuid>#2`, `<call id>#output`), so the parts are made
    one-to-one: a `#` or `%` inside is escaped (`%23`, `%25`), and a line whose id is
    `<uuid>#0` never takes the `source_id` of another line's block 0 (which would be dropped
    as captured). An id longer than `MAX_ID_PART`, or one UTF-8 cannot encode, is replaced
    by its digest (`%h…`, which no escaped id can be): the id is copied into every entry of
    its line, and a line of thousands of blocks with a megabyte id would write gigabytes."""
    if value.__class__ is not str or not value:
        return None
    text: str = value
    if len(text) <= MAX_ID_PART:
        if text.isascii() and "#" not in text and "%" not in text:
            return text
        try:
            text.encode()
            return text.replace("%", "%25").replace("#", "%23")
        except UnicodeEncodeError:
            pass
    data = text.encode("utf-8", "surrogatepass")
    return "%h" + hashlib.blake2b(data, digest_size=16).hexdigest()


def entry(**fields: Any) -> Fields:
    """An entry's `Fields` (pass them in `RawEntry`'s order); None values are left out."""
    if None in fields.values():
        return {key: value for key, value in fields.items() if value is not None}
    return fields


# ---------------------------------------------------------------- tool results (one rule)

OUTPUT_EXCERPT = 500
"""Characters kept of a successful tool result (its start, then a note of what was cut)."""
FAILED_OUTPUT_LIMIT = 16000
"""Characters kept of a failed tool result."""

EXIT_CODE = r"(-?\d{1,10})(?!\d)"
"""An exit code in text: at most 10 digits (any 32-bit status). A longer number is no exit
code (a command's output that merely mentions one), and past 4300 digits `int()` refuses it."""
_EXIT_LINE = re.compile(
    r"^[ \t]*(?:exit code:?|process exited with code)[ \t]+" + EXIT_CODE,
    re.IGNORECASE | re.MULTILINE,
)
_EXIT_JSON = re.compile(r'"exit_code"\s*:\s*' + EXIT_CODE)


def exit_code_of(text: str) -> int | None:
    """The exit code a tool result reports: a line `Exit code 2` / `Exit code: 2` / `Exit
    Code: 2` / `Process exited with code 2`, or a JSON `"exit_code": 2` (`EXIT_CODE`); None
    when it does not say. Only the first 64 KiB are searched (a huge output is not scanned
    whole)."""
    head = text[:65536]
    match = _EXIT_LINE.search(head) or _EXIT_JSON.search(head)
    return int(match.group(1)) if match else None


CUT_REACH = 512
"""How far past its limit `bounded` may move a cut to the end of the line or of the word."""
_WORD_END = re.compile(r"[\s\"'`<>()\[\]{},;|\\]")


def word_end(text: str, at: int) -> int:
    """Where the word that `text[at - 1]` belongs to ends (a token, a URL, a base64 value),
    for a cut at `at` that redaction, which runs after it, must not split: `at` itself when
    the word ends there, or when it goes on for `CUT_REACH` characters or more."""
    if at <= 0 or at >= len(text) or _WORD_END.match(text, at - 1):
        return at
    found = _WORD_END.search(text, at, at + CUT_REACH)
    if found is not None:
        return found.start()
    return len(text) if len(text) <= at + CUT_REACH else at


def bounded(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with a note of how many were left out.

    The text is redacted after it is cut, so the cut never splits what a rule needs whole: it
    moves to the end of its line when that is within `CUT_REACH` characters, else to the end
    of its word (a token, a URL, a base64 value), else it stays. A secret cut in two would
    match no rule, and its start (all but its last characters: guessed in a few tries) would
    be stored and published; cut `CUT_REACH` characters or more before its end, a secret
    is no longer usable."""
    if len(text) <= limit:
        return text
    cut = limit
    if text[cut - 1] != "\n":
        line_end = text.find("\n", cut, cut + CUT_REACH)
        cut = line_end if line_end >= 0 else word_end(text, cut)
    if cut >= len(text):
        return text
    return f"{text[:cut]}\n[… {len(text) - cut} more characters]"


def tool_result(
    *,
    ts: Any,
    output: str,
    failed: bool,
    call_id: str | None,
    name: str | None,
    exit_code: int | None = None,
    sid: str | None = None,
) -> Fields:
    """A tool result entry: `tool_output` bounded (`FAILED_OUTPUT_LIMIT` when it failed, else
    `OUTPUT_EXCERPT`), `is_error`, `exit_code` when known, joined to its call by `call_id`
    (and `tool_name` when the adapter saw the call). A non-zero exit code is a failure."""
    failed = failed or exit_code not in (None, 0)
    fields: Fields = {"ts": ts} if ts is not None else {}
    fields["type"] = "tool"
    fields["content"] = ""
    if name:
        fields["tool_name"] = name
    fields["tool_output"] = bounded(output, FAILED_OUTPUT_LIMIT if failed else OUTPUT_EXCERPT)
    fields["is_error"] = failed
    if exit_code is not None:
        fields["exit_code"] = exit_code
    if call_id is not None:
        fields["call_id"] = call_id
    if sid is not None:
        fields["source_id"] = sid
    return fields


def tool_call(
    *, ts: Any, name: str, tool_input: Any, call_id: str | None, sid: str | None
) -> Fields:
    """A tool call entry: `tool_name`, `tool_input` (JSON, or the text of a freeform tool),
    `call_id`; `content` stays empty (the name is in `tool_name`)."""
    return entry(
        ts=ts,
        type="tool",
        content="",
        tool_name=name,
        tool_input=to_json(tool_input),
        call_id=call_id,
        source_id=sid,
    )


class Calls:
    """The names of the tool calls seen and not yet answered, by call id: a result line names
    only the call id. Bounded: past `limit` open calls the oldest are forgotten."""

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._names: dict[str, str] = {}

    def add(self, call_id: str | None, name: str) -> None:
        if call_id:
            self._names[call_id] = name
            if len(self._names) > self.limit:
                del self._names[next(iter(self._names))]

    def pop(self, call_id: str | None) -> str | None:
        return self._names.pop(call_id, None) if call_id else None


_WRAPPER_OPEN = re.compile(
    r"<(system-reminder|local-command-caveat|command-message|user-prompt-submit-hook)>"
)


def strip_wrappers(text: str) -> str:
    """`text` without the `<system-reminder>` and similar blocks the CLIs inject: from an
    opening tag to the first closing tag of its kind.

    In linear time: a tag once found without a closing tag after it has none after any later
    opening either, so it is not searched for again (a lazy `<tag>[\\s\\S]*?</tag>` regex
    searches the rest of the text from every opening: hours for a pasted 9 MB log of them)."""
    if "<" not in text:
        return text.strip()
    kept: list[str] = []
    unclosed: set[str] = set()
    copied = scan = 0
    while (match := _WRAPPER_OPEN.search(text, scan)) is not None:
        tag = match.group(1)
        close = -1 if tag in unclosed else text.find(f"</{tag}>", match.end())
        if close < 0:
            unclosed.add(tag)
            scan = match.end()
            continue
        kept.append(text[copied : match.start()])
        copied = scan = close + len(tag) + 3
    if not kept:
        return text.strip()
    kept.append(text[copied:])
    return "".join(kept).strip()


# ---------------------------------------------------------------- loading by name

_cache: dict[str, Callable[[], Any]] = {}


def adapter_names() -> list[str]:
    """The names of the installed adapters (from metadata; imports nothing)."""
    from ox_core.plugins import ADAPTERS_GROUP, list_entry_points

    return sorted({p.name for p in list_entry_points([ADAPTERS_GROUP])})


def load_adapter(name: str) -> SessionAdapter:
    """A new adapter for `name` (aliases `claude` → `claude-code`, `gemini-cli` → `gemini`).

    Adapters come from ox-core's plugin loader (entry-point group `ox.adapters`, hook
    `ox_register_adapters`); a name not seen yet reloads them, so an adapter installed while
    the daemon runs is found. Raises `AdapterError` for a name no installed distribution
    provides, for an entry point that fails to load, and for an object that is not a
    `SessionAdapter`.
    """
    canonical = canonical_adapter(name)
    factory = _cache.get(canonical)
    if factory is None:
        from ox_core.plugins import ADAPTERS_GROUP, load_plugins

        loaded = load_plugins(groups=(ADAPTERS_GROUP,))
        _cache.update(loaded.adapters)
        factory = _cache.get(canonical)
        if factory is None:
            failed = next((e for e in loaded.errors if e.name == canonical), None)
            if failed is not None:
                raise AdapterError(f"session adapter {canonical!r} failed to load: {failed.error}")
            known = ", ".join(adapter_names()) or "none"
            raise AdapterError(f"unknown session adapter {name!r} (installed: {known})")
    adapter = factory()
    if not isinstance(adapter, SessionAdapter):
        raise AdapterError(f"session adapter {canonical!r} does not provide parse_line/roots")
    return adapter
