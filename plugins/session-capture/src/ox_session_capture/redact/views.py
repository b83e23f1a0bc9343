"""What a text reads as once what only changes how it is shown is taken out, and the way back
from a span of that reading to the text.

Terminal escape sequences hide a secret from rules written for the text a reader sees: a
token printed bold (`ESC[1mghp_…ESC[0m`) follows the letter `m` of the code, where no word
starts, and a name colored apart from its value (`ESC[36mpassword ESC[0m=ESC[35mvalue`, a
structured logger, `grep --color=always`, `jq -C`) is no assignment. Tools print them when
they believe they write to a terminal or are told to (`FORCE_COLOR`). The rules run on the
reading too (`engine`), and what they find there is replaced in the text, escapes inside
included.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

HIDING = ("\x1b", "\x9b")
"""What a text holds when its reading may differ from it (ESC, and the one-character CSI)."""

_TERMINAL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]|\x9b[0-?]*[ -/]*[@-~]"
)
"""Terminal escape sequences (CSI, OSC, the two-character ones), as `export` removes them."""


@dataclass(frozen=True)
class Reading:
    """`text`, the reading of an original text: pieces of the original, each either copied
    (`copied`) or replaced by what it reads as; `at` is where each piece starts in `text`,
    `start`/`end` where it is in the original."""

    text: str
    at: list[int]
    start: list[int]
    end: list[int]
    copied: list[bool]

    def origin(self, start: int, end: int) -> tuple[int, int]:
        """The original span that the reading's non-empty span `[start, end)` comes from: a
        replaced piece is taken whole."""
        i = bisect_right(self.at, start) - 1
        j = bisect_right(self.at, end - 1) - 1
        first = self.start[i] + (start - self.at[i]) if self.copied[i] else self.start[i]
        last = self.start[j] + (end - self.at[j]) if self.copied[j] else self.end[j]
        return first, last


def _rewrite(text: str, pattern: re.Pattern[str], by: Callable[[re.Match[str]], str]) -> Reading:
    """`text` with every match of `pattern` replaced by `by(match)`."""
    out: list[str] = []
    at: list[int] = []
    start: list[int] = []
    end: list[int] = []
    copied: list[bool] = []
    size = 0

    def piece(part: str, begin: int, stop: int, same: bool) -> None:
        nonlocal size
        if part:  # an empty piece holds no character a span could start or end on
            out.append(part)
            at.append(size)
            start.append(begin)
            end.append(stop)
            copied.append(same)
            size += len(part)

    pos = 0
    for m in pattern.finditer(text):
        piece(text[pos : m.start()], pos, m.start(), True)
        piece(by(m), m.start(), m.end(), False)
        pos = m.end()
    piece(text[pos:], pos, len(text), True)
    return Reading("".join(out), at, start, end, copied)


def reading(text: str) -> Reading | None:
    """How `text` reads without its terminal escapes; None when it holds none."""
    if not any(h in text for h in HIDING):
        return None
    seen = _rewrite(text, _TERMINAL, lambda m: "")
    return seen if seen.text != text else None
