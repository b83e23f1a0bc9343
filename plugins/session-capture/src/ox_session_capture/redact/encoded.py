"""Text hidden in base64 or hex: the runs of a text that decode to readable text, which the
engine redacts like any other (`engine`), replacing the whole run when that finds a secret.

Agents print base64 as often as they print secrets: `echo -n … | base64`, `kubectl get
secret -o yaml` (every `data:` value), a docker `config.json`, `.dockerconfigjson`, an
`Authorization: Basic` header, `gh api …/contents/…`. No rule sees a token there, since
its characters are spread over the bits of others.

Cheap on ordinary text: a text costs one `bytes.translate` and a substring search unless it
holds a run of `MIN_RUN` base64 characters; each such run (a hash, a path, an identifier)
costs a regex test of its first characters (`_TEXT_HEAD`), which few pass; those are
decoded at C speed, and only one that decodes to UTF-8 without control characters is read
further. Binary data (an image, a hash, a gzip) never decodes to such text.

Hex is read the same way (`xxd -p`, `od -An -tx1` joined, `hexdump -ve '1/1 "%.2x"'`, a
`0x…` literal): its digits are base64 characters, so its runs are found with the same pass;
one whose first bytes are ASCII text (`_HEX_HEAD`: a SHA-1 or SHA-256 fails it) is decoded.
Base64 of gzip (`H4sI…`: `… | gzip | base64`, a Helm release) is inflated, a megabyte at
most, and read the same way. Bytes written as `\\x` escapes (`printf '\\x70\\x61…'`, a bytes
literal), eight or more in a row, are decoded too when they make readable text.
"""

from __future__ import annotations

import binascii
import re
import zlib
from collections.abc import Iterator

MIN_RUN = 20
"""Shortest run decoded: 15 bytes of text (`redis://:pw@db1`, `password=abcde`)."""

_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_")
_TABLE = bytes(ord("a") if i in _ALPHABET else ord(" ") for i in range(256))
_NEEDLE = b"a" * MIN_RUN
_WRAPS = frozenset({60, 64, 76})
"""Line widths of wrapped base64 (GitHub's contents API, PEM and `openssl base64`, `base64`):
a full line followed by another is one encoded text."""
_BREAKS = (b"\r\n", b"\n", b"\\n")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TEXT_HEAD = re.compile(rb"(?:[CDI-Za-f][A-Za-z0-9+/_-]{3}){4}")
"""The first 12 bytes of base64 of text that begins in ASCII: each group of 4 characters
begins with the top six bits of a byte below 0x80 (a tab, a newline or a printable
character). Paths, hashes and identifiers rarely look so (one in 16), so few runs are decoded
at all. Twelve, not the fifteen of `MIN_RUN`: a text may go on in another script after a few
words (`Admin login → …`)."""
_HEX_HEAD = re.compile(
    rb"(?:0x)?(?:(?:[2-7][0-9a-f]|0[9ad]|(?:c[2-9a-f]|d[0-9a-f])[89ab][0-9a-f]"
    rb"|e[0-9a-f][89ab][0-9a-f][89ab][0-9a-f]){8}"
    rb"|(?:[2-7][0-9A-F]|0[9AD]|(?:C[2-9A-F]|D[0-9A-F])[89AB][0-9A-F]"
    rb"|E[0-9A-F][89AB][0-9A-F][89AB][0-9A-F]){8})"
)
"""The first 8 characters of hex of text (one case of digit), after an optional `0x`: ASCII,
or UTF-8 of two or three bytes (`пароль`, `密码`: a name in another script may begin the
text); a random hash passes it once in 2^10 or so."""
_HEX = frozenset(b"0123456789abcdefABCDEF")
_GZIP_HEAD = rb"H4sI"
"""Base64 of a gzip stream's first bytes (`1f 8b 08`): `… | gzip | base64`, a Helm release."""
_HEAD = re.compile(_TEXT_HEAD.pattern + b"|" + _HEX_HEAD.pattern + b"|" + _GZIP_HEAD)
"""Either head, in one test: a run that passes neither costs one regex call."""


def _runs(data: bytes, marks: bytes) -> Iterator[tuple[int, int]]:
    """The `[start, end)` of each run of `MIN_RUN`+ base64 characters in `data` (`marks`: its
    translation by `_TABLE`), its `=` padding included, wrapped lines joined, that may encode
    ASCII text (`_TEXT_HEAD`, `_HEX_HEAD`)."""
    find, rfind, head = marks.find, marks.rfind, _HEAD.match  # once per run: kept bound
    pos = find(_NEEDLE)
    while pos >= 0:
        start = rfind(b" ", 0, pos) + 1
        if not head(data, start):
            # After the escape `\n` of JSON text that did not parse, the run starts one on.
            escaped = data[start - 1 : start] == b"\\" and data[start] in b"nrt"
            if not (escaped and head(data, start + 1)):
                after = find(b" ", pos)
                pos = -1 if after < 0 else find(_NEEDLE, after)
                continue
            start += 1
        end = _run_end(data, marks, pos)
        # Hex lines join hex lines only: `xxd -p` prints 60 digits to a line, and the line
        # after a hex value of 64 (a SHA-256) is no part of it.
        digits = _HEX.issuperset(data[start:end].removeprefix(b"0x"))
        line = start
        while (nxt := _next_line(data, marks, line, end)) is not None:
            if digits and not _HEX.issuperset(data[nxt[0] : nxt[1]]):
                break
            line, end = nxt
        yield start, end
        pos = find(_NEEDLE, end)


def _run_end(data: bytes, marks: bytes, pos: int) -> int:
    end = marks.find(b" ", pos)
    end = len(marks) if end < 0 else end
    for _ in range(2):
        if data[end : end + 1] == b"=":
            end += 1
    return end


def _next_line(data: bytes, marks: bytes, line: int, end: int) -> tuple[int, int] | None:
    """`(start, end)` of the line after `[line, end)` when that is a full line of wrapped
    base64 followed by more (the last line of a block may be shorter), else None."""
    if end - line not in _WRAPS or data[end - 1] == ord("="):
        return None
    for brk in _BREAKS:
        if data.startswith(brk, end):
            nxt = end + len(brk)
            if nxt < len(data) and marks[nxt] == ord("a"):
                return nxt, _run_end(data, marks, nxt)
    return None


HEX, BASE64 = "HEX", "BASE64"


def decode(run: bytes) -> tuple[str, str] | None:
    """The text `run` encodes and the encoding (`HEX`, or `BASE64` of the standard or URL-safe
    alphabet, padding optional; wrapped lines joined), or None when it is not readable UTF-8
    text so encoded. Hex that is not of text may still be base64 of text: both are tried."""
    body = run.replace(b"\\n", b"").translate(None, b"\r\n")
    digits = body[2:] if body[:2] == b"0x" else body
    if len(digits) % 2 == 0 and _HEX.issuperset(digits) and _HEX_HEAD.match(digits):
        text = _readable(bytes.fromhex(digits.decode("ascii")))
        if text is not None:
            return text, HEX
    body = body.rstrip(b"=")
    if b"-" in body or b"_" in body:
        if b"+" in body or b"/" in body:
            return None  # both alphabets: a path or an identifier, not base64
        body = body.replace(b"-", b"+").replace(b"_", b"/")
    if len(body) % 4 == 1:
        return None
    try:
        raw = binascii.a2b_base64(body + b"=" * (-len(body) % 4), strict_mode=True)
    except binascii.Error:
        return None
    if raw[:3] == b"\x1f\x8b\x08":
        raw = _gunzipped(raw)
    text = _readable(raw)
    return None if text is None else (text, BASE64)


MAX_INFLATED = 1 << 20
"""Bytes a gzip stream is inflated to at most: a bomb's first megabyte is read, no more."""


def _gunzipped(raw: bytes) -> bytes:
    """The text a gzip stream holds (its first `MAX_INFLATED` bytes; a cut stream gives what it
    has), or b"" when it does not inflate."""
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, MAX_INFLATED)
    except zlib.error:
        return b""


def _readable(raw: bytes) -> str | None:
    """`raw` as text when it is UTF-8 without control characters (tab and newlines aside)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if _CONTROL.search(text) else text


_ESCAPES = re.compile(r"(?:\\{1,2}x[0-9a-fA-F]{2}){8,}")
"""Bytes written as `\\x` escapes (`printf '\\x70\\x61…'`, a Python bytes literal, `echo -e`),
eight at least; escaped once more in JSON text."""
_ESCAPES_BYTES = re.compile(_ESCAPES.pattern.encode())


def _escaped_texts(text: str) -> Iterator[tuple[int, int, str, str]]:
    """`encoded_texts` for runs of `\\x` escapes (ASCII: their offsets are characters')."""
    for m in _ESCAPES.finditer(text):
        digits = m.group().replace("\\", "").replace("x", "")
        decoded = _readable(bytes.fromhex(digits))
        if decoded is not None:
            yield m.start(), m.end(), decoded, HEX


def encoded_texts(text: str) -> Iterator[tuple[int, int, str, str]]:
    """`(start, end, decoded, encoding)` for each run of `text` that is base64 or hex of
    readable text (hex also as `\\x` escapes)."""
    if "\\x" in text:
        yield from _escaped_texts(text)
    data = text.encode("utf-8", "surrogatepass")
    marks = data.translate(_TABLE)
    if _NEEDLE not in marks:
        return
    ascii_only = len(data) == len(text)
    at_byte = at_char = 0  # the last run's end: offsets are counted on from there
    for start, end in _runs(data, marks):
        decoded = decode(data[start:end])
        if decoded is None:
            continue
        if not ascii_only:  # byte offsets → character offsets (a run is ASCII)
            at_char += len(data[at_byte:start].decode("utf-8", "surrogatepass"))
            at_byte = start
            yield at_char, at_char + end - start, *decoded
        else:
            yield start, end, *decoded


def batch_texts_with_encoded_text(
    data: bytes, count: int, words: bytes | None = None
) -> set[int] | None:
    """Which of the `count` texts NUL-joined in UTF-8 `data` hold a run that is base64 or hex
    of readable text (their indices), found in one pass over the batch: the others skip the
    search on their own. None when the NULs do not tell the texts apart (a text holds one).
    A run never spans a NUL, and is found alike in the batch and in its text alone.

    `words`: the batch's distinct words, lower-cased and NUL-framed (`anchors.framed`), when
    made: a run or an escape lies inside one word, so a batch whose words hold neither is
    passed without a look at all of its text."""
    if words is not None and b"\\x" not in words and _NEEDLE not in words.translate(_TABLE):
        return set()
    marks = data.translate(_TABLE)
    escaped = b"\\x" in data and _ESCAPES_BYTES.search(data) is not None
    if _NEEDLE not in marks and not escaped:
        return set()
    if data.count(b"\x00") != count - 1:
        return None
    if escaped:
        return set(range(count))  # rare: each text is looked at on its own
    found: set[int] = set()
    index = at = 0
    for start, end in _runs(data, marks):
        if decode(data[start:end]) is not None:
            index += data.count(b"\x00", at, start)  # runs come in order: one pass in all
            at = start
            found.add(index)
    return found
