"""A transcript as a reader sees it: each tool call together with its result (joined by
`call_id`, so every call is shown once), and the files the session touched, derived from the
inputs of the tools that write files.

Entries follow the rule of docs/ledger-layout.md: a tool call has `tool_input`; a tool result
has `tool_output` and no input. Older recordings put the tool name in `content` too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ox_session_capture.records import RawEntry


@dataclass(frozen=True)
class Step:
    """One thing to show: an entry, and for a tool call its result (None while none came)."""

    entry: RawEntry
    result: RawEntry | None = None

    @property
    def tool_name(self) -> str:
        own = self.entry.tool_name or (self.result.tool_name if self.result else None)
        return own or "?"

    @property
    def note(self) -> str:
        """The tool entry's own text, unless it only repeats the tool name (older files)."""
        text = self.entry.content.strip()
        return "" if text == (self.entry.tool_name or "") else text


def is_result(entry: RawEntry) -> bool:
    return entry.type == "tool" and entry.tool_input is None and entry.tool_output is not None


def steps(entries: Sequence[RawEntry]) -> list[Step]:
    """`entries` in order, each tool result folded into its call (matched by `call_id`); a
    result whose call is not in the transcript stays a step of its own."""
    calls: dict[str, int] = {}
    out: list[Step] = []
    for entry in entries:
        if is_result(entry) and entry.call_id in calls:
            index = calls.pop(entry.call_id or "")
            if out[index].result is None:
                out[index] = Step(out[index].entry, entry)
                continue
        if entry.type == "tool" and entry.tool_input is not None and entry.call_id:
            calls[entry.call_id] = len(out)
        out.append(Step(entry))
    return out


def result_label(result: RawEntry) -> str:
    """`Output`, or `Output (failed, exit code 2)` and the like."""
    notes = []
    if result.is_error:
        notes.append("failed")
    if result.exit_code is not None:
        notes.append(f"exit code {result.exit_code}")
    return f"Output ({', '.join(notes)})" if notes else "Output"


# ---------------------------------------------------------------- files touched

# Tools whose input names a file they write, by the key that holds the path.
_PATH_KEYS = ("file_path", "notebook_path", "path", "absolute_path", "filePath")
_WRITERS = frozenset(
    {
        "Write",
        "Edit",
        "MultiEdit",
        "NotebookEdit",
        "write_file",
        "replace",
        "edit",
        "edit_file",
        "create_file",
        "str_replace_based_edit_tool",
    }
)
# codex patches, in its freeform `apply_patch` tool or inside the JavaScript of its `exec`
# tool (where the patch is a JSON string: its newlines are `\n` escapes).
_PATCH_FILE = re.compile(
    r"\*\*\* (?:Add|Update|Delete) File: ([^\n\\\"]+)|\*\*\* Move to: ([^\n\\\"]+)"
)


def _input_paths(name: str, tool_input: str) -> Iterator[str]:
    if "*** " in tool_input and ("apply_patch" in tool_input or name in ("apply_patch", "exec")):
        for match in _PATCH_FILE.finditer(tool_input):
            yield (match.group(1) or match.group(2)).strip()
        return
    if name not in _WRITERS:
        return
    try:
        data = json.loads(tool_input)
    except (ValueError, RecursionError):  # the transcript's: nested beyond reason names no file
        return
    if isinstance(data, dict):
        for key in _PATH_KEYS:
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                yield value.strip()
                return


def files_touched(entries: Sequence[RawEntry], limit: int = 200) -> list[str]:
    """The files the session's tools wrote or edited, in first-touch order, from the inputs of
    calls that did not fail (Write, Edit, write_file, replace, apply_patch…)."""
    seen: dict[str, None] = {}
    for step in steps(entries):
        entry = step.entry
        if entry.type != "tool" or not entry.tool_input:
            continue
        if step.result is not None and step.result.is_error:
            continue
        for path in _input_paths(entry.tool_name or "", entry.tool_input):
            if len(seen) < limit and len(path) <= 4096:
                seen.setdefault(path, None)
    return list(seen)


def model_of(header_model: str, footer_extra: dict[str, object] | None) -> str:
    """The session's model: the header's, else the one the adapter saw (kept in the footer)."""
    if header_model:
        return header_model
    value = (footer_extra or {}).get("model")
    return value if isinstance(value, str) else ""
