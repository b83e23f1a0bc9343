"""Credentials in tables: a column named for one (`password`, `api_token`) under a header
(`psql`, `mysql`, CSV, TSV, a Markdown table, `docker ps --format table`), and a row that
names one in its first cell with the value in its second (`wp config list`, `vault kv get`,
`pulumi stack output --show-secrets`, `heroku config`'s wide form). No `name = value` stands
beside such a value, so no rule reads it.

`data_spans` reads a text line by line (also at the `\\n` escapes of JSON text that did not
parse). A line is cut into cells at `|` (or a box's `│`, `┃`, `║`), a tab (or its `\\t`
escape), a comma, or two spaces or more, the first of these it holds. A header is a line of
two cells or more, all short names, one of them a credential's (`names.classify`): the cell
under it in each following row of as many cells is replaced, up to a line of another shape
(a `---` or `├───┼───┤` rule line is skipped). A row whose first cell is a credential's name
has its second cell replaced, also inside a table whose header names none (`| Key | Value
|`). A column or a row named only as one that may hold a credential (`Key`, `Session`) takes
a random-looking value only. A value counts as a password counts in prose (no word of a
sentence: `not_a_word`) or looks random; a value with a space, a placeholder
(`(sensitive)`, `********`) or a word is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ox_session_capture.redact.names import NameClass, classify, is_literal_secret, kind_of
from ox_session_capture.redact.rules import line_start, not_a_word, token_like

_WORDS = ("pass", "pwd", "secret", "token", "key", "cred", "auth")
"""What a credential's name holds (lower case)."""
_CELL_END = re.compile(r"[\w.-]{0,40}[\"'`]?[ \t]*(?:[|│┃║]|\t|\\t|,|  |\r?\n|\\n|$)")
"""The rest of a name, then where its cell ends."""
_HINT = re.compile(r"(?i:pass|pwd|secret|token|key|cred|auth)" + _CELL_END.pattern)
_RULE_LINE = re.compile(
    r"(?=.*?-{3})[ \t|:+=-]++"
    r"|(?=.*?[─━═]{3})[ \t─━═├┼┤╞╪╡╟╫╢┝┿┥┠╂┨]++"
)
"""A header's underline (`---+---`, `|---|:---:|`, `=== ===`, a box's `├───┼───┤`)."""
_BOX_BARS = str.maketrans("│┃║", "|||")
"""A box-drawn table's bars (`railway variables`, `netlify env:list`, Python's `rich`), read
as `|` (one character for one: offsets stay)."""
_NAME = re.compile(r"[A-Za-z_][\w .-]{0,40}")
_DELIMITERS = ("|", "\t", "\\t", ",")
_SPACES = re.compile(r" {2,}")
MAX_LINE = 4096
"""Characters before a credential's word looked through for its line's start."""


def _hints(text: str) -> list[int]:
    """Where a credential's word ends a cell (a table may begin on its line), in order. Each
    word is looked for with `str.find` (C speed; a case-insensitive regex of seven words
    tried at every position cost as much as every rule)."""
    low = text.lower()
    if len(low) != len(text):  # a character whose lower case is longer: offsets would shift
        return [m.start() for m in _HINT.finditer(text)]
    found = []
    for word in _WORDS:
        at = low.find(word)
        while at >= 0:
            if _CELL_END.match(low, at + len(word)):
                found.append(at)
            at = low.find(word, at + 1)
    return sorted(found)


def _lines_from(text: str, pos: int) -> Iterator[tuple[int, str]]:
    """`(offset, line)` of each line from `pos` on (a line's start), split at newlines and at
    `\\n` escapes."""
    size = len(text)
    newline = -1  # the next one at or after `pos` (found again once passed)
    while pos <= size:
        if newline < pos:
            newline = text.find("\n", pos) % (size + 1)  # `size` when there is none
        # An escape only up to the newline: each character is looked at once per table.
        escape = text.find("\\n", pos, newline)
        end, width = (newline, 1) if escape < 0 else (escape, 2)
        yield pos, text[pos:end].rstrip("\r")
        pos = end + width


def _cells(line: str) -> tuple[str, list[tuple[int, str]]] | None:
    """The line's delimiter and its cells as `(offset in the line, text stripped)`; None for
    a line of one cell. A `|` table's outer bars make no cells."""
    line = line.translate(_BOX_BARS)
    for delim in _DELIMITERS:
        if delim in line:
            parts = line.split(delim)
            break
    else:
        pieces = _SPACES.split(line.strip(" \t"))
        if len(pieces) < 2:
            return None
        spaced: list[tuple[int, str]] = []
        at = 0
        for piece in pieces:
            at = line.index(piece, at)
            spaced.append((at, piece))
            at += len(piece)
        return "  ", spaced
    cells = []
    at = 0
    for part in parts:
        stripped = part.strip(" \t")
        if stripped:
            cells.append((at + part.index(stripped), stripped))
        elif delim != "|":
            cells.append((at, ""))
        at += len(part) + len(delim)
    return (delim, cells) if len(cells) >= 2 else None


def _bare(cell: str) -> str:
    return cell.strip("`\"'")


def _credential(cell: str) -> NameClass | None:
    """The class of a credential's name (`password`, `DB_PASSWORD`, `api token`), or None; a
    name that only may hold one (`Key`, `Session`: `WEAK`) takes only a value that looks
    random."""
    name = _bare(cell)
    if not _NAME.fullmatch(name):
        return None
    return classify(name.replace(" ", "_"))


def _secret_value(cell: str, cls: NameClass) -> bool:
    value = _bare(cell)
    if not value or any(c.isspace() for c in value) or value[0] + value[-1] in ("()", "[]"):
        return False  # (sensitive), [hidden]
    if not is_literal_secret(value, cls, quoted=True, code_after=False):
        return False
    return not_a_word(value) or token_like(value)


def _key_value(cells: list[tuple[int, str]]) -> tuple[int, str, NameClass] | None:
    """`(offset, value, kind)` of a row naming a credential in its first cell, its value in
    the second."""
    cls = _credential(cells[0][1])
    if cls is None:
        return None
    at, value = cells[1]
    return (at, value, cls) if _secret_value(value, cls) else None


def _header(cells: list[tuple[int, str]]) -> tuple[int, NameClass] | None:
    """`(column, kind)` of a header's credential column: every cell a short name."""
    if not all(_NAME.fullmatch(_bare(c)) for _, c in cells):
        return None
    found = [(n, cls) for n, (_, cell) in enumerate(cells) if (cls := _credential(cell))]
    if not found:
        return None
    # A credential's own name before a column that only may hold one (`Key`).
    return next((col for col in found if col[1] != "WEAK"), found[0])


_VALUE_HEADS = frozenset(
    {"value", "values", "val", "secret", "secrets", "password", "token", "key", "content",
     "contents", "setting", "data"}
)  # fmt: skip
"""A second column's header under which a row's first cell may name what its second holds
(`| Key | Value |`, `NAME  VALUE`)."""


_CAPS = re.compile(r"[A-Z][A-Z _-]{0,40}")


def _rows_under(text: str, pos: int) -> int:
    """Where the rows end that start at `pos` under a header (the line before) whose columns
    name no credential and whose second column is no value's (`kubectl get secrets`' `NAME
    TYPE DATA AGE`: a row's first cell names a resource, not what its second cell holds);
    `pos` when the line before is no such header."""
    if pos < 2 or text[pos - 1] != "\n":
        return pos
    start = text.rfind("\n", 0, pos - 1) + 1
    cut = _cells(text[start : pos - 1].rstrip("\r"))
    if cut is None:
        return pos
    delim, head = cut
    # A listing's header, as kubectl, helm and docker print it: capitals, `NAME` first (a
    # key/value table's row of a name and a word is no header: `| DB_NAME | wordpress |`).
    if head[0][1] not in ("NAME", "NAMESPACE") or not all(_CAPS.fullmatch(c) for _, c in head):
        return pos
    if _header(head) is not None or head[1][1].lower() in _VALUE_HEADS:
        return pos
    end = pos
    for offset, line in _lines_from(text, pos):
        row = _cells(line)
        if row is None or (row[0], len(row[1])) != (delim, len(head)):
            break
        end = offset + len(line)
    return end


def _read(text: str, pos: int, spans: list[tuple[int, int, str]]) -> int:
    """Read the table whose line starts at `pos`; where reading stopped."""
    under = _rows_under(text, pos)
    if under > pos:
        return under
    shape: tuple[str, int, int, NameClass] | None = (
        None  # a header's delimiter, cells, column, kind
    )
    end = pos
    for offset, line in _lines_from(text, pos):
        end = max(end, offset + len(line) if offset == pos else end)  # its first line, at least
        if shape is not None and _RULE_LINE.fullmatch(line):
            end = offset + len(line)
            continue
        cut = _cells(line)
        if cut is None:
            break
        delim, cells = cut
        if shape is not None and (delim, len(cells)) == shape[:2]:
            at, value = cells[shape[2]]
            if _secret_value(value, shape[3]):
                spans.append((offset + at, offset + at + len(value), kind_of(shape[3])))
            elif (row := _key_value(cells)) is not None:  # `| Key | Value |`, then `| TOKEN | … |`
                at, value, cls = row
                spans.append((offset + at, offset + at + len(value), kind_of(cls)))
        elif (row := _key_value(cells)) is not None:
            at, value, cls = row
            spans.append((offset + at, offset + at + len(value), kind_of(cls)))
            shape = None
        elif (head := _header(cells)) is not None:
            shape = (delim, len(cells), *head)
        else:
            break
        end = offset + len(line)
    return end


def data_spans(text: str) -> list[tuple[int, int, str]]:
    """`(start, end, kind)` of each cell of `text` holding a credential (see the module): each
    table is read from the line of a credential's name on."""
    spans: list[tuple[int, int, str]] = []
    if "\n" not in text and "|" not in text and "\t" not in text and "\\" not in text:
        # One line of prose or code, no bar, tab or escape: no table (most texts), at the cost
        # of four scans.
        return spans
    done = -1
    for at in _hints(text):
        if at > done:
            # `MAX_LINE` back at most: one long line of many credential words would be
            # read back once for each.
            done = _read(text, line_start(text, at, MAX_LINE), spans)
    return spans
