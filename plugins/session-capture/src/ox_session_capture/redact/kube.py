"""Kubernetes Secrets: every value of a Secret's `data` and `stringData` is a secret, whatever
its key (`DB_URL`, `config.json`, `.dockerconfigjson`, `tls.key`), and `data` values are
base64, which hides them from the rules. `kubectl get secret -o yaml` and `-o json` print
them one per line; so do the manifests an agent writes or reads.

`data_spans` finds them in text (YAML, or JSON indented as kubectl prints it, also cut or
escaped); a decoded JSON document is handled by the engine (`is_secret_object`).

kubectl prints `data` before `kind` (its keys are sorted), and a successful tool result is
kept as its first 500 characters: a Secret with more data than that loses its `kind: Secret`
before it is redacted. An object with an `apiVersion` and no `kind` line (cut away) whose
`data` values are all base64, one of them 16 characters or more, is taken for a Secret.
"""

from __future__ import annotations

import re
from typing import Any

KIND = "KUBERNETES_SECRET"
MAPS = ("data", "stringData")

# A line may end with a YAML comment (`kind: Secret  # by hand`); its spaces are matched once.
_END = r"""(?:[ \t]*,)?(?:[ \t]+(?:#.*)?)?$"""
_KIND_LINE = re.compile(r"""^[ \t]*(?:- )?(["']?)kind\1[ \t]*:[ \t]*(["']?)Secret\2""" + _END)
_ANY_KIND_LINE = re.compile(r"""^[ \t]*(?:- )?(["']?)kind\1[ \t]*:""")
_API_LINE = re.compile(r"""^[ \t]*(?:- )?(["']?)apiVersion\1[ \t]*:""")
_MAP_LINE = re.compile(r"""^[ \t]*(?:- )?(["']?)(?:data|stringData)\1[ \t]*:(?:[ \t]*\{)?""" + _END)
_ENTRY = re.compile(r"""[ \t]*(?:"[^"\n]*"|'[^'\n]*'|[-._A-Za-z0-9]+)[ \t]*:[ \t]+(?=\S)""")
"""An entry up to its value (a Secret's keys are `[-._a-zA-Z0-9]+`)."""
_BLOCK = re.compile(r"[|>][+-]?\d*")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_LONG = 16
"""A cut Secret's `data` has a value this long (a ConfigMap's `info`, `true` are base64 too)."""


def may_hold(text: str) -> bool:
    """A cheap test: `text` names a Secret's kind, or holds an object's `apiVersion` and
    `data` (its `kind` may be cut away)."""
    return ("Secret" in text and "kind" in text) or ("apiVersion" in text and "data" in text)


def batch_may_hold(low: bytes) -> bool:
    """`may_hold` for a batch's lower-cased UTF-8 (bytes: one byte a character, where a
    batch's `str` with one emoji takes four), or its distinct words NUL-joined: it may pass
    more, never less."""
    return (b"apiversion" in low and b"data" in low) or (b"secret" in low and b"kind" in low)


def is_secret_object(obj: dict[str, Any]) -> bool:
    return obj.get("kind") == "Secret"


def _lines(text: str) -> list[tuple[int, str]]:
    """`(offset, line)` of each line, split at newlines and at the `\\n` escapes of JSON text
    that did not parse."""
    out: list[tuple[int, str]] = []
    for m in re.finditer(r"[^\n]*(?:\n|$)", text):
        pos = m.start()
        for part in m.group().rstrip("\n").split("\\n"):
            out.append((pos, part.rstrip("\r")))
            pos += len(part) + 2
        if m.end() == len(text):
            break
    return out


def _column(line: str) -> int:
    """Where a line's key starts (`- ` of a list item counted as indentation), or -1 when
    blank."""
    stripped = line.lstrip(" \t")
    if not stripped:
        return -1
    if stripped.startswith("- "):
        return len(line) - len(stripped[2:].lstrip(" "))
    return len(line) - len(stripped)


class _Object:
    """An object being read: its column, what its `kind` line says, its maps' lines."""

    def __init__(self, col: int) -> None:
        self.col = col
        self.kind: bool | None = None  # `kind: Secret` (True), another kind (False), no line
        self.api = False  # it has an `apiVersion` line
        self.maps: list[int] = []

    def secret(self) -> bool | None:
        """True: a Secret; None: perhaps one, its `kind` cut away; False: not one."""
        if self.kind is None:
            return None if self.api else False
        return self.kind


def _secret_maps(lines: list[tuple[int, str]]) -> list[tuple[int, int, bool]]:
    """`(line, column, certain)` of each `data:` / `stringData:` key of an object with `kind:
    Secret` (certain), or with an `apiVersion` and no `kind` line (not certain).
    One pass, objects tracked by column: an object's keys are the lines at its column up to a
    line less indented, the next item of its list, or a YAML document marker."""
    found: list[tuple[int, int, bool]] = []
    stack: list[_Object] = []  # open objects, outermost first

    def close(keep: int) -> None:
        while len(stack) > keep:
            obj = stack.pop()
            secret = obj.secret()
            if secret is not False:
                found.extend((n, obj.col, bool(secret)) for n in obj.maps)

    for n, (_, line) in enumerate(lines):
        col = _column(line)
        if col < 0:
            continue
        if line.startswith(("---", "...")):
            close(0)
            continue
        depth = len(stack)
        while depth and stack[depth - 1].col > col:
            depth -= 1
        close(depth)
        if stack and stack[-1].col == col and line.lstrip(" \t").startswith("- "):
            close(len(stack) - 1)  # the next item of a list: another object
        if not stack or stack[-1].col < col:
            stack.append(_Object(col))
        obj = stack[-1]
        if _ANY_KIND_LINE.match(line):
            obj.kind = obj.kind or bool(_KIND_LINE.match(line))
        elif _API_LINE.match(line):
            obj.api = True
        elif _MAP_LINE.match(line):
            obj.maps.append(n)
    close(0)
    return sorted(found)


def data_spans(text: str) -> list[tuple[int, int]]:
    """The `[start, end)` of every value of the `data` / `stringData` maps of the Secrets in
    `text`."""
    if not may_hold(text):
        return []
    lines = _lines(text)
    spans: list[tuple[int, int]] = []
    done = 0  # lines already read as a map's entries (a map inside one is not read again)
    for n, col, certain in _secret_maps(lines):
        if n >= done:
            entries, end = _entries(lines, n + 1, col)
            if certain or _all_base64([text[s:e] for s, e in entries]):
                spans += entries
                done = end
    return spans


def _all_base64(values: list[str]) -> bool:
    """Whether `values` are a Secret's `data` as kubectl prints it: all base64, not all short
    (the last one may be cut, its JSON quote left open)."""
    bare = [v.strip("\"'") for v in values]
    return any(len(v) >= _LONG for v in bare) and all(_BASE64.fullmatch(v) for v in bare)


def _entries(
    lines: list[tuple[int, str]], first: int, col: int
) -> tuple[list[tuple[int, int]], int]:
    """The values of the map whose entries start at line `first`, indented past `col`, and
    the line after them."""
    spans: list[tuple[int, int]] = []
    block = -1  # the column a block scalar's lines are indented past (`key: |`)
    for n in range(first, len(lines)):
        offset, line = lines[n]
        c = _column(line)
        if c < 0:
            continue
        if block >= 0 and c > block:
            spans.append((offset + c, offset + len(line)))
            continue
        block = -1
        if c <= col or line.lstrip().startswith("}"):
            return spans, n
        m = _ENTRY.match(line)
        if m is None:
            continue
        start, end = m.end(), len(line.rstrip(" \t,"))
        value = line[start:end]
        if _BLOCK.fullmatch(value):
            block = c
            continue
        if len(value) >= 2 and value[0] in "\"'" and value[-1] == value[0]:
            start, end = start + 1, end - 1
        if end > start:
            spans.append((offset + start, offset + end))
    return spans, len(lines)
