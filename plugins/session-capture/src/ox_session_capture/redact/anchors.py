"""Which of the rules' anchors a batch of texts holds: the batch pre-filter of `LedgerRedactor`.

Only a filter: each text is checked again on its own, so a batch may be found to hold more
anchors than any one text, never fewer than one of them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

Spaced = tuple[tuple[str, bytes], ...]
"""Spaced anchors, each with its UTF-8."""
_Held = tuple[tuple[str, ...], Spaced]
"""What a word holds: its in-word anchors, and the spaced anchors whose first piece ends it."""


class Scan:
    """Finds which of `anchors` a lower-cased text holds, shortest first, skipping an anchor
    whose shorter inner anchor is absent (then it is absent too)."""

    WORD_CACHE = 50_000
    """Distinct words whose anchors are remembered (then the memory starts over)."""
    NEW_WORDS = 64
    """Unseen words past which `in_words` gives up: scanning the batch is cheaper then."""
    MEMO_WORD_BYTES = 256
    """Longest word remembered: a session file's words are hostile (a base64 image is one
    word of megabytes), so the memory holds at most `WORD_CACHE` short ones."""
    PAIRWISE_WORD_BYTES = 64
    """Longest word read pair by pair; a longer one is searched for each anchor (C speed)."""
    GATED_BYTES = 64 * 1024
    """A batch past this size looks for a spaced anchor's piece among its distinct words
    before the anchor in its whole text."""

    def __init__(self, anchors: Sequence[str]) -> None:
        every = sorted(set(anchors), key=len)
        self.inner = {a: next((b for b in every if len(b) < len(a) and b in a), a) for a in every}
        self.order = tuple(every)
        self.encoded = {a: (a.encode(), any(c.isspace() for c in a)) for a in every}
        self._in_word = tuple((a, n) for a, (n, spaced) in self.encoded.items() if not spaced)
        self._spaced = tuple((a, n) for a, (n, spaced) in self.encoded.items() if spaced)
        # A spaced anchor is searched for in the whole batch (words lose their neighbours),
        # each a pass over megabytes in a catch-up: first its pieces between spaces are
        # looked for among the distinct words (far less text), where each lies (`_gate`).
        self._gate = {a: _gate(n) for a, n in self._spaced}
        self._words: dict[bytes, _Held] = {}
        # The in-word anchors by their first two bytes: a short word is read pair by pair (a
        # dict lookup each) instead of testing every anchor against it (one `in` each: with
        # 500 anchors, most of a new word's cost). Anchors of one byte are tested as before.
        self._by_pair: dict[bytes, list[tuple[str, bytes]]] = {}
        short: list[tuple[str, bytes]] = []
        for a, n in self._in_word:
            if len(n) < 2:
                short.append((a, n))
            else:
                self._by_pair.setdefault(n[:2], []).append((a, n))
        self._one_byte = tuple(short)
        # A long word is searched only for the anchors whose every byte it holds: a line of
        # test dots or a run of `=` (too long to remember, met again at every step) costs a
        # set of its bytes instead of 400 searches.
        self._by_bytes = tuple((a, n, _byte_mask(n)) for a, n in self._in_word)
        # A spaced anchor in a text has its piece before its first ASCII space at the end of
        # one of the text's words (`bytes.split`'s): a small batch looks only for those whose
        # piece ends one of its words (remembered with the word) instead of all of them.
        # One that begins with white space, or is spaced by no ASCII one, is always looked for.
        self._rank = {a: i for i, a in enumerate(every)}
        ends: dict[bytes, list[tuple[str, bytes]]] = {}
        always: list[tuple[str, bytes]] = []
        for a, n in self._spaced:
            first = n.split(None, 1)[0] if n[:1].strip() else b""
            if first == n or not first:
                always.append((a, n))
            else:
                ends.setdefault(first, []).append((a, n))
        self._ends = {k: tuple(v) for k, v in ends.items()}
        self._end_pieces = tuple(self._ends)
        self._always_spaced = tuple(always)

    def _held(self, word: bytes) -> _Held:
        """The in-word anchors `word` holds, and the spaced anchors whose first piece ends
        it."""
        ending: Spaced = ()
        if word.endswith(self._end_pieces):
            ending = tuple(x for end, of in self._ends.items() if word.endswith(end) for x in of)
        return self._anchors_of(word), ending

    def _anchors_of(self, word: bytes) -> tuple[str, ...]:
        """The in-word anchors `word` holds."""
        if len(word) > self.PAIRWISE_WORD_BYTES:
            absent = ~_byte_mask(word)
            return tuple(a for a, n, mask in self._by_bytes if not mask & absent and n in word)
        by_pair = self._by_pair
        held = [a for a, n in self._one_byte if n in word]
        for i in range(len(word) - 1):
            candidates = by_pair.get(word[i : i + 2])
            if candidates is not None:
                held.extend(a for a, n in candidates if word.startswith(n, i))
        return tuple(held)

    def in_batch(self, words: bytes, low: bytes) -> list[str]:
        """The anchors found in a batch: `low` is its lower-cased UTF-8, `words` its distinct
        whitespace-separated words (an anchor without white space lies inside one word)."""
        found: set[str] = set()
        for anchor in self.order:
            inner = self.inner[anchor]
            needle, spaced = self.encoded[anchor]
            if inner != anchor and inner not in found:
                continue
            if not spaced:
                if needle in words:
                    found.add(anchor)
            elif all(piece in words for piece in self._gate[anchor]) and needle in low:
                found.add(anchor)
        return sorted(found, key=self._rank.__getitem__)

    def in_words(
        self, distinct: Collection[bytes], low: bytes, words: bytes | None = None
    ) -> list[str] | None:
        """`in_batch` for a small batch, word by word: a word's anchors are remembered, so a
        step that repeats the session's vocabulary costs a lookup per word instead of a scan
        per anchor (each `in` has a fixed cost near a microsecond). None when the batch has
        more than `NEW_WORDS` unseen words. `words`: `framed(distinct)`, when made already.
        Thread-safe (one dict, no iteration over it)."""
        memo = self._words
        found: set[str] = set()
        spaced: set[tuple[str, bytes]] = set()
        new = 0
        for word in distinct:
            held = memo.get(word)
            if held is None:
                new += 1
                if new > self.NEW_WORDS:
                    return None
                held = self._held(word)
                if len(word) <= self.MEMO_WORD_BYTES:
                    if len(memo) >= self.WORD_CACHE:
                        memo.clear()
                    memo[word] = held
            found.update(held[0])
            spaced.update(held[1])
        spaced.update(self._always_spaced)
        if len(low) <= self.GATED_BYTES:  # a step's few lines: their text is as short
            found.update(a for a, n in spaced if n in low)
        else:
            if words is None:
                words = framed(distinct)
            gate = self._gate
            found.update(a for a, n in spaced if all(p in words for p in gate[a]) and n in low)
        return sorted(found, key=self._rank.__getitem__)


def framed(distinct: Collection[bytes]) -> bytes:
    """The distinct words of a batch, each between NULs (`\0word\0word\0`): a word's start
    and end are found there as a piece after or before a NUL (where a word holds a NUL, two
    texts of the batch meet: a piece is found there too, never missed)."""
    return b"\x00" + b"\x00".join(distinct) + b"\x00"


def _gate(anchor: bytes) -> tuple[bytes, ...]:
    """What the distinct words (`framed`) of a text holding the spaced `anchor` hold: its
    piece before its first space ends a word, its piece after its last space begins one, and
    a piece between two spaces is a whole word. An anchor spaced otherwise than by spaces is
    gated by its longest piece alone."""
    if any(c in anchor for c in b"\t\n\r\x0b\x0c"):
        return (max(anchor.split(), key=len, default=b""),)
    first, *middle, last = anchor.split(b" ")
    pieces = [first + b"\x00", *(b"\x00" + m + b"\x00" for m in middle), b"\x00" + last]
    return tuple(p for p in pieces if len(p) > 1 and b"\x00\x00" not in p)


def _byte_mask(data: bytes) -> int:
    """The bytes `data` holds, as the bits of an integer."""
    mask = 0
    for byte in set(data):
        mask |= 1 << byte
    return mask


def batch_text(joined: str) -> tuple[bytes, bytes, set[bytes]]:
    """(UTF-8 of `joined`, its lower case, its distinct words).

    Which anchors a batch holds is only a filter (each text is checked again on its own), so
    it may find more than `str.lower` would, never less: bytes lower-case ASCII only, which
    is what the anchors are, and the two characters whose lower case is ASCII (U+0130 and the
    Kelvin sign) are spelled as `str.lower` spells them. Transcripts repeat themselves (logs,
    test dots, code): scanning each distinct word once is several times less text, in one byte
    per character where the `str` of a batch with one emoji takes four.
    """
    data = folded = joined.encode("utf-8", "surrogatepass")
    if b"\xc4\xb0" in data or b"\xe2\x84\xaa" in data:
        folded = data.replace(b"\xc4\xb0", b"i\xcc\x87").replace(b"\xe2\x84\xaa", b"k")
    low = folded.lower()
    return data, low, set(low.split())


SMALL_BATCH_WORDS = 4096


def anchors_in(scan: Scan, distinct: set[bytes], low: bytes, words: bytes) -> list[str]:
    """The anchors of `scan` in a batch: word by word when it is small, else one scan per
    anchor over its distinct words (`words`: `framed(distinct)`)."""
    if len(distinct) <= SMALL_BATCH_WORDS:
        found = scan.in_words(distinct, low, words)
        if found is not None:
            return found
    return scan.in_batch(words, low)
