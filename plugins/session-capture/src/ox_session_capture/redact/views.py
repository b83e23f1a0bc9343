"""What a text reads as once what only changes how it is written is taken out, and the way
back from a span of that reading to the text.

JSON escapes left in text that is no JSON document (a log of JSON lines, `curl -i` output, a
cut tool output) hide a secret from rules written for decoded text: PHP writes
`mysql:\\/\\/app:pw@db`, Go `\\u003cpassword\\u003e`, .NET the `+` of a key as `\\u002B`.

Terminal escape sequences hide a secret from rules written for the text a reader sees: a
token printed bold (`ESC[1mghp_…ESC[0m`) follows the letter `m` of the code, where no word
starts, and a name colored apart from its value (`ESC[36mpassword ESC[0m=ESC[35mvalue`, a
structured logger, `grep --color=always`, `jq -C`) is no assignment. Tools print them when
they believe they write to a terminal or are told to (`FORCE_COLOR`). The rules run on the
reading too (`engine`), and what they find there is replaced in the text, escapes inside
included.

URL-encoding hides the separators the rules read between a name and its value: a redirect
carries `next=https%3A%2F%2Fapp%2Fcb%3Ftoken%3D…`, a form body `client_secret%3D…%26…`, a
database URL set through a web console `postgres%3A%2F%2Fapp%3Apw%40db`. A text holding the
URL-encoded character (or words joined by `+`, a form's spaces) is also read decoded (twice
over for one encoded again).
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

_LOOKALIKES = {
    **dict.fromkeys(
        ["\u00a0", *map(chr, range(0x2000, 0x200B)), "\u202f", "\u205f", "\u3000"], " "
    ),
    "\uff1a": ":",
    "\uff1d": "=",
}
"""Spaces and signs of other scripts read as the ASCII ones the rules separate a name from its
value with: a no-break space pasted from a web page (`password:\u00a0value`, macOS types one
with Option+Space), the ideographic space and the full-width colon and equals sign of a CJK
input method."""

_URL_ENCODED = r"%[0-9A-Fa-f]{2}"
"""A URL-encoded character (`%XX`)."""

HIDING = ("\\/", "\\u", "\x1b", "\x9b", *_LOOKALIKES)
"""What a text holds when its reading may differ from it: a JSON escape that spells a
character otherwise, ESC or the one-character CSI, a space or sign of another script; or
what `_URL_ENCODED` matches."""

_JSON_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\(?:/|u([0-9a-fA-F]{4}))")
"""`\\/` and `\\uXXXX` at any depth (an odd run of backslashes: `\\\\\\/` is `\\/` escaped again,
JSON inside a JSON string); an even run is escaped backslashes, and `\\n`, `\\"` are kept (the
rules take them as separators)."""

_HIDES = re.compile("|".join([*map(re.escape, HIDING), _URL_ENCODED]))
_HIDES_BYTES = re.compile(
    b"|".join([*(re.escape(h.encode()) for h in HIDING), _URL_ENCODED.encode()])
)


def may_read_otherwise(text: str) -> bool:
    """Whether `text` holds one of `HIDING` (one pass, not one per form)."""
    return _HIDES.search(text) is not None


def batch_may_read_otherwise(data: bytes) -> bool:
    """`may_read_otherwise` for texts joined and UTF-8 encoded (lowercased or not)."""
    return _HIDES_BYTES.search(data) is not None


_LOOKALIKE = re.compile(f"[{''.join(_LOOKALIKES)}]")

_TERMINAL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]|\x9b[0-?]*[ -/]*[@-~]"
)
"""Terminal escape sequences (CSI, OSC, the two-character ones), as `export` removes them."""


@dataclass(frozen=True)
class Reading:
    """`text`, the reading of an original text, and its replaced pieces (what lies between
    them is copied): piece k is at `at[k]` in `text`, `size[k]` characters long (none for an
    escape taken out), and comes from `[start[k], end[k])` of the original. Arrays: a text can
    hold millions of escapes."""

    text: str
    at: array[int]
    size: array[int]
    start: array[int]
    end: array[int]
    under: Reading | None = None
    """The reading this one was made from (then the original is that one's)."""

    def origin(self, start: int, end: int) -> tuple[int, int]:
        """The original span that the reading's non-empty span `[start, end)` comes from: a
        replaced piece is taken whole."""
        first, last = self._place(start, False), self._place(end - 1, True)
        return (first, last) if self.under is None else self.under.origin(first, last)

    def _place(self, pos: int, after: bool) -> int:
        """Where the character at `pos` of the reading starts in the original (`after`: ends)."""
        k = bisect_right(self.at, pos) - 1
        if k < 0:
            return pos + after
        if pos < self.at[k] + self.size[k]:
            return self.end[k] if after else self.start[k]
        # Copied, after piece k (the last one at or before `pos`: past any escape taken out
        # right before it).
        return self.end[k] + pos - (self.at[k] + self.size[k]) + after


def _rewrite(
    text: str,
    pattern: re.Pattern[str],
    by: Callable[[re.Match[str]], str],
    under: Reading | None = None,
) -> Reading:
    """`text` with every match of `pattern` replaced by `by(match)` (`under`: the reading
    `text` is)."""
    out: list[str] = []
    at, size, start, end = array("q"), array("q"), array("q"), array("q")
    pos = shift = 0
    for m in pattern.finditer(text):
        part = by(m)
        out += (text[pos : m.start()], part)
        at.append(m.start() + shift)
        size.append(len(part))
        start.append(m.start())
        end.append(m.end())
        shift += len(part) - (m.end() - m.start())
        pos = m.end()
    out.append(text[pos:])
    return Reading("".join(out), at, size, start, end, under)


def _unescaped(m: re.Match[str]) -> str:
    return "/" if m.group(1) is None else chr(int(m.group(1), 16))


_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_PERCENT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_PERCENT_RUN_OR_PLUS = re.compile(r"(?:%[0-9A-Fa-f]{2})+|\+")
_PERCENT_LEVELS = 2
"""Decoded twice at most: a URL in a query parameter of a URL (`%253D`)."""


def _percent_decoded(m: re.Match[str]) -> str:
    # A run as one piece: its bytes are UTF-8 together (`%C3%A9`), and a span inside it takes
    # it whole.
    if m.group() == "+":
        return " "
    return bytes.fromhex(m.group().replace("%", "")).decode("utf-8", "replace")


def reading(text: str) -> Reading | None:
    """How `text` reads with its JSON escapes `\\/` and `\\uXXXX` decoded, without its
    terminal escapes, with the ASCII space or sign for each of `_LOOKALIKES`, and its `%XX`
    escapes decoded (twice over at most: `%253D` was `%3D`); None when that is `text` itself.
    Beside `%XX` escapes, a `+` is a form's space (`application/x-www-form-urlencoded`), read
    as one: kept, `password%3A+string` would read as the password `+string`. One decoded from
    `%2B` with no escape left beside it is a plus (a base64 token's own)."""
    seen: Reading | None = None
    if "\\/" in text or "\\u" in text:
        seen = _rewrite(text, _JSON_ESCAPE, _unescaped)
    shown = text if seen is None else seen.text
    if "\x1b" in shown or "\x9b" in shown:
        seen = _rewrite(shown, _TERMINAL, lambda m: "", seen)
    for _ in range(_PERCENT_LEVELS):
        shown = text if seen is None else seen.text
        if not _PERCENT.search(shown):
            break
        form = "+" in shown
        seen = _rewrite(
            shown, _PERCENT_RUN_OR_PLUS if form else _PERCENT_RUN, _percent_decoded, seen
        )
    # Last: a space of another script may have been URL-encoded (`%C2%A0`).
    shown = text if seen is None else seen.text
    if _LOOKALIKE.search(shown):
        seen = _rewrite(shown, _LOOKALIKE, lambda m: _LOOKALIKES[m.group()], seen)
    return seen if seen is not None and seen.text != text else None
