"""Text hidden in a hex dump: the bytes a block of `xxd`, `hexdump -C` or `od -c` lines shows,
which the engine redacts like any other text (`engine`), replacing the whole block when that
finds a secret.

A dump shows a file 16 bytes to a line: `xxd .env` (what an agent runs to see why a file does
not parse: a byte order mark, CRLF) prints `DB_PASSWORD=Hun` on one line and `ter2pw` on the
next, in its text column and in its digits, and no rule sees either half as a secret. The
lines are read back into the bytes they show, and those are read as text.

Cheap on ordinary text: a dump's first line shows offset 0 (`00000000`, `0000000` for `od`),
so a text without seven zeros in a row costs one substring search; a dump printed from
another offset (`xxd -s`, `tail` of a dump) is not read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

MARK = "0000000"
"""What a dump's first line holds: its offset, 0."""

_XXD = re.compile(r"[0-9a-f]{8}: ((?:[0-9a-f]{2,16} )*[0-9a-f]{2,16}) {2}")
"""`xxd` (any `-g`): the offset, the digits in groups, two spaces, the text column."""
_HEXDUMP = re.compile(r"[0-9a-f]{8}  ((?:[0-9a-f]{2} {1,2}){1,16}) *\|")
"""`hexdump -C` / `hd`: the offset, 16 bytes in two groups of 8, the text column in bars."""
_OD_OFFSET = re.compile(r"[0-7]{7}")
"""`od -c`: the offset in octal, then each byte in a field of 4 characters: the character,
an escape (`\\n`) or three octal digits."""
_OD_ESCAPES = {"\\0": 0, "\\a": 7, "\\b": 8, "\\t": 9, "\\n": 10, "\\v": 11, "\\f": 12, "\\r": 13}

_OCTAL = frozenset("01234567")

MAX_LINE = 512
"""Characters of a dump's line read (`xxd -c 64` is 280): a longer line ends the dump."""
MAX_LINES = 65_536
"""Lines of one dump read (1 MiB shown); the rest of a longer one is read as another."""


def _xxd_bytes(line: str) -> bytes | None:
    m = _XXD.match(line)
    if m is None:
        return None
    try:
        return bytes.fromhex(m.group(1).replace(" ", ""))
    except ValueError:
        return None


def _hexdump_bytes(line: str) -> bytes | None:
    m = _HEXDUMP.match(line)
    return None if m is None else bytes.fromhex(m.group(1).replace(" ", ""))


def _od_bytes(line: str) -> bytes | None:
    fields = line[7:]
    if not fields or len(fields) % 4 or len(fields) > 64 or not _OD_OFFSET.match(line):
        return None
    out = bytearray()
    for k in range(0, len(fields), 4):
        field = fields[k : k + 4]
        if field[:3] == "   ":
            out += field[3].encode("utf-8", "surrogatepass")
        elif field[:2] == "  " and field[2:] in _OD_ESCAPES:
            out.append(_OD_ESCAPES[field[2:]])
        elif field[0] == " " and len(digits := field[1:]) == 3 and _OCTAL.issuperset(digits):
            out.append(int(digits, 8) & 0xFF)
        else:
            return None
    return bytes(out)


_READERS = (_xxd_bytes, _hexdump_bytes, _od_bytes)


def dump_texts(text: str) -> Iterator[tuple[int, int, str, str]]:
    """`(start, end, shown, "HEX")` for each dump in `text` whose first line starts a line and
    shows offset 0: the characters of its lines and the text its bytes are (UTF-8, a broken
    sequence replaced). One pass over the text: each dump's lines are read once."""
    if MARK not in text:
        return
    after = 0  # the end of the last dump: a mark inside it is its own
    for start in _line_marks(text):
        if start < after or not _first_line(text, start):
            continue
        end, shown = _block(text, start)
        if end > start:
            yield start, end, shown.decode("utf-8", "replace"), "HEX"
            after = end


def _line_marks(text: str) -> Iterator[int]:
    """Where a line starting with `MARK` starts."""
    if text.startswith(MARK):
        yield 0
    at = text.find("\n" + MARK)
    while at >= 0:
        yield at + 1
        at = text.find("\n" + MARK, at + 1)


def _first_line(text: str, start: int) -> bool:
    return text.startswith(("00000000:", "00000000  ", "0000000 "), start)


def _block(text: str, start: int) -> tuple[int, bytes]:
    """The end of the dump's lines from `start` (its first line) and the bytes they show:
    lines read by the reader that read the first, up to the first that it cannot read."""
    shown = bytearray()
    end = pos = start
    reader = None
    for _ in range(MAX_LINES):
        stop = text.find("\n", pos, pos + MAX_LINE + 2)
        if stop < 0:
            if len(text) - pos > MAX_LINE + 1:
                break  # a line too long for a dump's
            stop = len(text)
        line = text[pos:stop].rstrip("\r")  # `od` shows a space as a field of spaces
        readers = _READERS if reader is None else (reader,)
        for read in readers:
            got = read(line)
            if got is not None:
                reader = read
                shown += got
                end = stop
                break
        else:
            break
        if stop >= len(text):
            break
        pos = stop + 1
    return end, bytes(shown)
