"""The artifacts of a finalized session (docs/ledger-layout.md) and the files it uploads.

Everything written here is redacted once more (defence in depth: a raw file written by
something else, or a summary that quotes a secret, must not reach the shared remote), JSON
decoded before matching (`redact.redact_value`). Blocking: call from a thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

from ox_handler_session_finalize.steps import (
    Step,
    files_touched,
    model_of,
    result_label,
    steps,
)
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
    NotableMoment,
    RawEntry,
    RawHeaderMeta,
    SessionMeta,
    Summary,
)
from ox_session_capture.redact import (
    redact_entries,
    redact_file_bytes,
    redact_raw_bytes,
    redact_value,
)
from ox_session_capture.transcript import RawTranscript

FOLD_AT = 1500
_BACKTICKS = re.compile(r"`+")
# Terminal escape sequences (CSI, OSC, the two-character ones), removed whole: `cat` of an
# export would run them (clear the screen, set the title, write the clipboard with OSC 52).
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]|\x9b[0-?]*[ -/]*[@-~]"
)
# Any other control character but tab and newline, and the bidi controls that reorder what a
# reader sees (an override makes `gnp.exe` read `exe.png`).
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
# Inline markdown a viewer acts on: raw HTML and autolinks (`<`), links and images (`[`, `]`:
# an image is fetched as the page renders, from a URL carrying what the text put there),
# entities (`&`: `&#x202e;` is an override), code spans and fences, and the escape itself.
_INLINE = re.compile(r"([\\`<\[\]&])")
# What makes a line a heading, quote, list, table, fence or break: escaped at a text's start.
_BLOCK = re.compile(r"[#>+\-*=|~_]|\d{1,9}[.)]")
# A fence's opening or closing line (up to three spaces, then three or more ` or ~).
_FENCE_LINE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")
# A fence line holding a pipe: it may head a table too, for a viewer that reads tables first.
_FENCE_PIPE = re.compile(r"^ {0,3}(?:`{3,}|~{3,})[^\n]*\|", re.MULTILINE)
# Outside code, a backslash escape (of any ASCII punctuation) or a run of backticks.
_TICKS_OR_ESCAPE = re.compile(r"\\[!-/:-@\[-`{-~]|`+")
# What a viewer fetches or acts on in a message's markdown: raw HTML and autolinks, images;
# with the backslashes before it (an odd run has escaped it already). Matched from the
# run's start only: from each of its backslashes, a long run would be scanned once each.
_ACTIVE = re.compile(r"(?<!\\)(\\*)(<|!\[)")
# CommonMark's block structure only (a viewer's): which lines are a fence's is decided by the
# lists and quotes around it, which no line on its own tells.
_BLOCKS = MarkdownIt("commonmark").disable("inline")
# What a teammate's forge makes of a whole message: CommonMark and GitHub's tables.
_VIEWER = MarkdownIt("commonmark").enable("table")
_LIVE = frozenset({"html_block", "html_inline", "image"})


# ------------------------------------------------------------------ markdown


def _info_rows(
    name: str, header: RawHeaderMeta | None, count: int, model: str = ""
) -> list[tuple[str, str]]:
    h = header or RawHeaderMeta()
    return [
        ("Session", name),
        ("Session ID", h.session_id or "-"),
        ("Agent", f"{h.agent_type or '-'} ({h.agent_id or '-'})"),
        ("Model", model or h.model or "-"),
        ("User", h.username or "-"),
        ("Started", h.started_at.isoformat() if h.started_at else "-"),
        ("Entries", str(count)),
    ]


def _visible(text: str) -> str:
    """`text` without terminal escapes, control characters (but tab and newline: a carriage
    return is a newline) and bidi controls: what a reader's terminal or viewer shows is the
    text."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _INVISIBLE.sub("", _ESCAPES.sub("", text))


def _text(text: str) -> str:
    """`text` (the answer's, or the transcript's) as one line of plain markdown text: visible
    (`_visible`), one line, with every character that would start markup escaped."""
    text = _INLINE.sub(r"\\\1", _one_line(_visible(text)))
    block = _BLOCK.match(text)
    return f"{text[: block.end() - 1]}\\{text[block.end() - 1 :]}" if block else text


def _paragraphs(text: str) -> str:
    """`text` as paragraphs of `_text` (its blank lines kept, every other line break a space)."""
    return "\n\n".join(_text(p) for p in re.split(r"\n\s*\n", _visible(text)) if p.strip())


def _cell(text: str) -> str:
    return _text(text).replace("|", "\\|")


def _one_line(text: str) -> str:
    """`text` with every run of whitespace (newlines included) made one space: a list item of
    `summary.md` must not start lines of its own (a heading, a `---`, raw HTML)."""
    return " ".join(text.split())


def _code(text: str) -> str:
    """`text` on one line as an inline code span that its own backticks cannot end."""
    text = _one_line(_visible(text))
    longest = max(map(len, _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _moment(m: NotableMoment) -> str:
    kind = f" ({_text(m.type)})" if m.type.strip() else ""
    why = f" — {_text(m.why)}" if m.why.strip() else ""
    return f"#{m.seq} {_text(m.role) or '?'}{kind}: “{_text(m.highlight)}”{why}"


def render_summary_md(
    name: str,
    summary: Summary,
    header: RawHeaderMeta | None,
    entry_count: int,
    *,
    model: str = "",
) -> str:
    """`summary.md`: title, session info (model included), summary, chapters, notable
    moments, key actions, files touched, topics, the summary for agents."""
    # Every text here is the answer's or the transcript's (the answer is the transcript's to
    # steer): plain text (`_text`), never markup a teammate's viewer acts on.
    title = _text(summary.title) or f"Session {name} (summary unavailable)"
    parts = [f"# {title}", "", "## Session", ""]
    parts += [f"- **{k}:** {_text(v)}" for k, v in _info_rows(name, header, entry_count, model)]
    if summary.outcome:
        parts.append(f"- **Outcome:** {_text(summary.outcome)}")
    unusable = f"_{_text(summary.validation_error or 'none')}_"
    parts += ["", "## Summary", "", _paragraphs(summary.summary) or unusable]
    for heading, items in (
        (
            "Chapters",
            [f"{n}. {_text(t)}" for n, t in enumerate(summary.chapter_titles, start=1)],
        ),
        ("Notable moments", [f"- {_moment(m)}" for m in summary.aha_moments]),
        ("Key actions", [f"- {_text(a)}" for a in summary.key_actions]),
        ("Files touched", [f"- {_code(f)}" for f in summary.files_modified]),
        ("Topics", [f"- {_text(t)}" for t in summary.topics_found]),
    ):
        parts += ["", f"## {heading}", ""]
        parts += items or ["_none_"]
    if agent_summary := _paragraphs(summary.agent_summary):
        parts += ["", "## For the next agent", "", agent_summary]
    return "\n".join(parts) + "\n"


def _fenced(label: str, text: str) -> str:
    # One backtick longer than the longest run inside, found in one pass: growing the fence
    # until it is no longer in the text scans it once per backtick of its longest run.
    longest = max(map(len, _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(4, longest + 1)
    return f"{label}:\n\n{fence}\n{text}\n{fence}"


def _inert(text: str) -> str:
    """A message's markdown (a user's or an agent's: the agent's is anything a page it read
    told it to write) as written, but for what a teammate's viewer would fetch or run outside
    code: raw HTML and autolinks (`<`), images (`![`, fetched from a URL that can carry what
    the text put in it) are escaped. Fenced blocks (in a list or a quote too) and inline code
    spans are left alone; a fence the message leaves open is closed at its end."""
    shown, kept = _escaped(text, spans=True)
    # The code spans are paired as CommonMark pairs them, but a table's pipe, a link's
    # destination or a block a line starts can take their backticks first: when what was
    # kept in them is live as a viewer reads the message, it is escaped in code spans too
    # (a backslash shown in code is the price).
    if kept and _live(shown):
        shown, _ = _escaped(text, spans=False)
    # A fence line with a pipe, and a delimiter row after it, is a table to a viewer that
    # reads tables before fences (VS Code's preview): the fence's lines are its cells, and
    # what is kept in them as code is live there. Then fences are escaped too.
    if _FENCE_PIPE.search(shown) and _live(shown):
        shown, _ = _escaped(text, spans=False, fences=False)
    return shown


def _escaped(text: str, *, spans: bool, fences: bool = True) -> tuple[str, bool]:
    """`text` with what is active escaped outside fenced blocks (everywhere without `fences`;
    and outside inline code spans when `spans`), and whether a code span kept some as
    written."""
    lines = text.split("\n")
    code = _fenced_lines(text)[0] if fences else set()
    while True:
        out, kept = _escaped_lines(lines, code, spans=spans)
        # What is code is decided on the text as published: an escape can end an HTML block
        # that held a fence line (the fence then starts there), so what was code before the
        # escapes is kept as written only where it still is.
        shown, left_open = _fenced_lines("\n".join(out))
        if code <= shown:
            break
        code &= shown
    if left_open:  # closed here: left open, it would make the entries after it code
        out.append(left_open)
    return "\n".join(out), kept


def _escaped_lines(lines: list[str], code: set[int], *, spans: bool) -> tuple[list[str], bool]:
    """`lines`, those in `code` as written, the others escaped a paragraph at a time: a code
    span runs on across the lines of its paragraph, never past a blank line or a fence."""
    out: list[str] = []
    kept = False
    paragraph: list[str] = []

    def flush() -> None:
        nonlocal kept
        if paragraph:
            escaped, in_spans = _outside_spans("\n".join(paragraph), spans=spans)
            out.extend(escaped.split("\n"))
            kept |= in_spans
            paragraph.clear()

    for n, line in enumerate(lines):
        if n in code or not line.strip(" \t"):
            flush()
            out.append(line)
        else:
            paragraph.append(line)
    flush()
    return out, kept


def _outside_spans(text: str, *, spans: bool) -> tuple[str, bool]:
    """`text` (a paragraph) escaped outside its code spans, and whether one held `<` or `![`."""
    parts, at, kept = [], 0, False
    for start, end in _code_spans(text) if spans else ():
        span = text[start:end]
        parts += [_ACTIVE.sub(_escape, text[at:start]), span]
        kept |= "<" in span or "![" in span
        at = end
    return "".join([*parts, _ACTIVE.sub(_escape, text[at:])]), kept


def _code_spans(text: str) -> list[tuple[int, int]]:
    """Where `text`'s inline code spans are, as CommonMark pairs them: a run of backticks not
    escaped by a backslash opens one, the next run of the same length closes it (a backslash
    in a span is text), and a run that none closes is text. Linear: the next run of each
    length is looked up from where the last look-up for it stopped."""
    runs: dict[int, list[int]] = {}
    for run in _BACKTICKS.finditer(text):
        runs.setdefault(len(run[0]), []).append(run.start())
    looked = dict.fromkeys(runs, 0)
    found: list[tuple[int, int]] = []
    at = 0
    while (token := _TICKS_OR_ESCAPE.search(text, at)) is not None:
        at = token.end()
        if token[0][0] == "\\":
            continue
        width, starts = len(token[0]), runs.get(len(token[0]), [])
        i = looked.get(width, 0)
        while i < len(starts) and starts[i] <= token.start():
            i += 1
        looked[width] = i
        if i < len(starts):
            at = starts[i] + width
            found.append((token.start(), at))
    return found


def _live(markdown: str) -> bool:
    """Whether a viewer would fetch or run something in `markdown`: raw HTML, an autolink or
    an image."""
    tokens = _VIEWER.parse(markdown)
    while tokens:
        token = tokens.pop()
        if token.type in _LIVE or token.markup == "autolink":
            return True
        tokens += token.children or []
    return False


def _fenced_lines(text: str) -> tuple[set[int], str]:
    """The lines of `text` (0-based) inside fenced code blocks, as a CommonMark viewer reads
    them, and the fence to close when the last top-level one runs to the end ("" when none
    does; a fence in a list or a quote ends with it)."""
    lines = text.split("\n")
    fenced: set[int] = set()
    left_open = ""
    for token in _BLOCKS.parse(text):
        if token.type != "fence" or token.map is None:
            continue
        start, end = token.map
        fenced.update(range(start, end))
        # Left open, a fence runs to the end of the text (its last blank lines aside).
        if token.level == 0 and not "".join(lines[end:]).strip():
            closed = end - 1 > start and _closes(lines[end - 1], token.markup)
            left_open = "" if closed else token.markup
    return fenced, left_open


def _closes(line: str, fence: str) -> bool:
    """Whether `line` is a closing line of the fence opened with `fence`."""
    found = _FENCE_LINE.fullmatch(line)
    if found is None:
        return False
    run, rest = found[1], found[2]
    return run[0] == fence[0] and len(run) >= len(fence) and not rest.strip(" \t")


def _escape(active: re.Match[str]) -> str:
    backslashes, what = active[1], active[2]
    if what == "<" and len(backslashes) % 2:
        return active[0]  # escaped already
    return backslashes + ("!\\[" if what == "![" else "\\<")


def _visible_entry(entry: RawEntry) -> RawEntry:
    fields = ("content", "tool_name", "tool_input", "tool_output")
    texts = {f: getattr(entry, f) for f in fields}
    return entry.model_copy(update={f: _visible(t) for f, t in texts.items() if t})


def _step_section(seq: int, step: Step) -> list[str]:
    entry = step.entry
    when = f" · {entry.ts.isoformat()}" if entry.ts else ""
    label = entry.type if entry.type != "tool" else f"tool: {_text(step.tool_name)}"
    lines = [f"### {seq}. {label}{when}", ""]
    body = entry.content
    if entry.type == "tool":
        chunks = []
        if entry.tool_input:
            chunks.append(_fenced("Input", entry.tool_input))
        result = step.result or (entry if entry.tool_output is not None else None)
        if result is not None and result.tool_output is not None:
            chunks.append(_fenced(result_label(result), result.tool_output))
        elif entry.tool_input is not None:
            chunks.append("_no result recorded_")
        if step.note:
            chunks.append(step.note)
        body = "\n\n".join(chunks)
    else:
        body = _inert(body)
    if len(body) > FOLD_AT:
        # An HTML block: markdown escapes do not hold there, entities do.
        first = html.escape(_one_line(body[:120]), quote=False)
        lines += ["<details>", f"<summary>{first}…</summary>", "", body, "", "</details>"]
    else:
        lines.append(body or "_empty_")
    lines.append("")
    return lines


def render_session_md(
    name: str,
    header: RawHeaderMeta | None,
    entries: Sequence[RawEntry],
    *,
    model: str = "",
    touched: Sequence[str] | None = None,
) -> str:
    """`session.md`: the session info table (model and files touched included), then every
    entry as a readable section; a tool call and its result are one section. `touched`: the
    files touched when the caller has them already (`files_touched(entries)`). Every text is
    made visible first (`_visible`: no terminal escape reaches a reader's `cat`)."""
    entries = [_visible_entry(e) for e in entries]
    parts = [f"# Session {name}", "", "| | |", "|---|---|"]
    parts += [f"| {k} | {_cell(v)} |" for k, v in _info_rows(name, header, len(entries), model)]
    touched = files_touched(entries) if touched is None else touched
    parts.append(f"| Files touched | {_cell(', '.join(touched)) if touched else '-'} |")
    parts += ["", "## Transcript", ""]
    for seq, step in enumerate(steps(entries), start=1):
        parts += _step_section(seq, step)
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
    redacted: Redacted | None = None,
) -> SessionMeta:
    """Write `summary.md`, `session.md`, then `meta.json` (a locked read-modify-write that
    keeps unknown keys), then `summary.json`, then remove `.needs-summary`. Returns the meta.

    Each file is written as it will be uploaded (`redact_file_bytes`, once); `redacted`, when
    given, receives those files and the upload form of `raw.jsonl`, for `upload_files`."""
    summary = Summary.model_validate(redact_value(summary.model_dump(by_alias=True), rules))
    entries = redact_entries(transcript.entries, rules)
    header = transcript.header
    footer_extra = transcript.footer.model_extra if transcript.footer else None
    model = model_of(header.model if header else "", footer_extra) or _marker_model(folder)
    # The files touched come from the tools' inputs, not from the agent's word; what it
    # listed is kept only when no tool input names a file (edits made through a shell).
    touched = files_touched(entries)
    summary.files_modified = touched or summary.files_modified
    generated = {
        SUMMARY_JSON: records.dump_json(summary),
        SUMMARY_MD: render_summary_md(name, summary, header, len(entries), model=model).encode(),
        SESSION_MD: render_session_md(name, header, entries, model=model, touched=touched).encode(),
    }
    files = {fname: redact_file_bytes(fname, data, rules) for fname, data in generated.items()}
    # summary.json goes last (after meta.json), then `.needs-summary`: until then detection
    # sees the summary as owed (missing, blank title or `.needs-summary`), never a finished
    # session whose meta.json still holds an earlier attempt's disposition (a crash or a full
    # disk there would publish a session the new summary keeps locally or discards).
    for fname, data in files.items():
        if fname != SUMMARY_JSON:
            records.atomic_write_bytes(folder / fname, data)
    raw_disk = read_regular(folder / RAW)
    raw_bytes = redact_raw_bytes(raw_disk, rules)
    if redacted is not None:
        for fname, data in files.items():
            redacted.keep(fname, data, data)
        redacted.keep(RAW, raw_disk, raw_bytes)
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
        if model:
            setattr(meta, "model", model)  # noqa: B010 - an extra (unknown) key
        setattr(meta, "disposition", disposition)  # noqa: B010 - an extra (unknown) key
        records.atomic_write_model(meta_path, meta)
    records.atomic_write_bytes(folder / SUMMARY_JSON, files[SUMMARY_JSON])
    with contextlib.suppress(FileNotFoundError):
        (folder / NEEDS_SUMMARY).unlink()
    return meta


def _marker_model(folder: Path) -> str:
    """The model the live recording's marker noted (a recording caught up after its agent
    died has no footer yet); "" without one."""
    try:
        marker = records.read_marker(folder)
    except (FileNotFoundError, records.RecordError):
        return ""
    return model_of("", marker.model_extra)[:200]


class Redacted:
    """Files already redacted for upload by `write_artifacts`, each with the digest of the
    bytes it was made from: `upload_files` reuses one only while the file still holds exactly
    those bytes (anything that changed it since is redacted again)."""

    def __init__(self) -> None:
        self._files: dict[str, tuple[bytes, bytes]] = {}

    def keep(self, name: str, source: bytes, upload: bytes) -> None:
        self._files[name] = (hashlib.sha256(source).digest(), upload)

    def get(self, name: str, source: bytes) -> bytes | None:
        known = self._files.get(name)
        if known is None or hashlib.sha256(source).digest() != known[0]:
            return None
        return known[1]


def upload_files(
    folder: Path, rules: Sequence[re.Pattern[str]] = (), redacted: Redacted | None = None
) -> dict[str, bytes]:
    """The files of `folder` that go to the ledger: regular files except dotfiles (marker,
    locks, `.needs-summary`) and the crash journal, every one redacted once more
    (`redact_file_bytes`) unless `redacted` holds it, made from the same bytes.

    Raises `UnsafePathError` when the folder holds a link or a special file (a teammate's link
    to a private file is never followed, and the folder is not published without it either):
    nothing is read then."""
    files: dict[str, bytes] = {}
    for name in sorted(regular_files(folder)):
        if name.startswith(".") or name == JOURNAL:
            continue
        data = read_regular(folder / name)
        ready = redacted.get(name, data) if redacted is not None else None
        files[name] = ready if ready is not None else redact_file_bytes(name, data, rules)
    return files
