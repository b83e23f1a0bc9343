"""The batch pre-filter of `LedgerRedactor.many`: which anchors a batch of texts holds.

Only a filter, but one that must never miss: a text whose anchor the batch scan does not
report skips the rules that anchor gates, and its secret is kept in clear. Both ways of
scanning (word by word, `in_words`; anchor by anchor, `in_batch`) must report exactly the
anchors found by searching the batch's lower-cased text.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ox_session_capture.redact import engine
from ox_session_capture.redact.anchors import Scan, anchors_in, batch_text, framed

SCANS = {"plain": engine._SCAN_PLAIN, "token": engine._SCAN_TOKEN}
ANCHORS = sorted({a for scan in SCANS.values() for a in scan.order})
SPACED = sorted(a for a in ANCHORS if any(c.isspace() for c in a))

# Pieces that build and break spaced anchors: the anchors themselves, their pieces between
# spaces, every kind of white space, the NUL that joins a batch's texts, and filler.
_PIECES = st.sampled_from(
    [
        *SPACED,
        *{p for a in SPACED for p in a.split(" ") if p},
        " ",
        "  ",
        "\t",
        "\n",
        "\r\n",
        "\x0b",
        "\x00",
        "\u3000",
        "x",
        "-",
        ":",
        '"',
        "|",
        ">",
        "." * 70,
        "=" * 90,
    ]
)
_TEXTS = st.lists(st.lists(_PIECES, max_size=12).map("".join), min_size=1, max_size=6)


def exact(scan: Scan, low: bytes) -> list[str]:
    return [a for a in scan.order if scan.encoded[a][0] in low]


@settings(max_examples=400, deadline=None)
@given(texts=_TEXTS)
def test_both_scans_find_exactly_the_anchors_the_batch_holds(texts: list[str]) -> None:
    _, low, distinct = batch_text("\x00".join(texts))
    for scan in SCANS.values():
        expected = exact(scan, low)
        assert scan.in_batch(framed(distinct), low) == expected
        fresh = Scan(scan.order)  # nothing remembered; its order of anchors its own
        by_words = fresh.in_words(distinct, low)
        if by_words is not None:
            assert by_words == exact(fresh, low)


@settings(max_examples=200, deadline=None)
@given(texts=_TEXTS, filler=st.integers(min_value=0, max_value=3))
def test_a_large_batch_gates_its_spaced_anchors_by_their_words(
    texts: list[str], filler: int
) -> None:
    """Past `GATED_BYTES` a spaced anchor is first looked for piece by piece among the
    distinct words (its first piece ends a word, its last begins one): never missed."""
    pad = "z" * (Scan.GATED_BYTES + 1) if filler else ""
    texts = [*texts, pad]
    _, low, distinct = batch_text("\x00".join(texts))
    for scan in SCANS.values():
        expected = exact(scan, low)
        assert anchors_in(scan, distinct, low, framed(distinct)) == expected
        fresh = Scan(scan.order)
        by_words = fresh.in_words(distinct, low)
        if by_words is not None:
            assert by_words == exact(fresh, low)


def test_a_spaced_anchor_is_skipped_when_a_piece_is_not_where_it_must_be() -> None:
    scan = Scan([": |"])
    # ':' ends no word (it starts one): the anchor cannot be in the text, nor is searched.
    low = b":x |y " * 20_000
    _, low, distinct = batch_text(low.decode())
    assert scan.in_batch(framed(distinct), low) == []
    low = b"a: |" + b" pad" * 20_000
    _, low, distinct = batch_text(low.decode())
    assert scan.in_batch(framed(distinct), low) == [": |"]
    assert Scan([": |"]).in_words(distinct, low) == [": |"]


def test_a_long_word_is_searched_only_for_anchors_made_of_its_bytes() -> None:
    scan = Scan(["secret", "..", "=="])
    dots = b"." * 5000
    assert scan._anchors_of(dots) == ("..",)
    assert scan._anchors_of(dots + b"secret") == ("..", "secret")
    assert scan._anchors_of(b"=" * 100 + b".") == ("==",)


# Anchors and texts over a few letters and white space: anchors that begin or end with a
# space, of one piece and of several; texts with spaces that are not ASCII ones too.
_ANCHOR_PIECES = st.sampled_from(["a", "b", "ab", " ", "\t", "\n"])
_TEXT_PIECES = st.sampled_from(["a", "b", "ab", " ", "\t", "\n", "\u3000", "\x00", "\u00a0"])
_ANCHOR = st.lists(_ANCHOR_PIECES, min_size=1, max_size=5).map("".join).filter(str.strip)


@settings(max_examples=400, deadline=None)
@given(
    anchors=st.lists(_ANCHOR, min_size=1),
    texts=st.lists(st.lists(_TEXT_PIECES, max_size=16).map("".join), min_size=1, max_size=4),
)
def test_a_small_batch_finds_every_spaced_anchor_by_the_word_its_first_piece_ends(
    anchors: list[str], texts: list[str]
) -> None:
    """A small batch looks only for the spaced anchors whose piece before the first space
    ends one of its words (remembered with the word); one that begins with a space is always
    looked for."""
    scan = Scan(anchors)
    _, low, distinct = batch_text("\x00".join(texts))
    first = scan.in_words(distinct, low)
    again = scan.in_words(distinct, low)  # every word remembered now
    assert first == again == exact(scan, low)


# A batch's bytes are lowered as ASCII: the words of other scripts keep their capitals there,
# where `str.lower` lowers them for a text alone. Each rule's anchor must still be reported,
# for a word in capitals, lower case or title case (an anchor is a word's tail where its
# first letter has a case: `ароль` of `Пароль`, `ωδικός` of `Κωδικός`).
_WORDS_ABROAD = ["Пароль", "Токен", "Ключ", "Hasło", "Jelszó", "Κωδικός", "Mật khẩu", "Clé API"]
_CASED = st.one_of(
    st.sampled_from(_WORDS_ABROAD).flatmap(
        lambda w: st.sampled_from([w, w.lower(), w.upper(), w.title()])
    ),
    st.sampled_from(sorted(a for a in engine._PLAIN_ANCHORS if not a.isascii())).flatmap(
        lambda a: st.sampled_from([a, a.upper()])
    ),
)
_SCRIPT_TEXTS = st.lists(
    st.lists(st.one_of(_CASED, st.sampled_from([" ", "=", ": ", "x", "\n"])), max_size=8).map(
        "".join
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(texts=_SCRIPT_TEXTS)
def test_a_batch_reports_every_anchor_a_text_alone_holds_in_any_case(texts: list[str]) -> None:
    _, low, distinct = batch_text("\x00".join(texts))
    found = engine._as_anchors(
        anchors_in(engine._SCAN_PLAIN, distinct, low, framed(distinct)),
        engine._PLAIN_SPELT,
        engine._PLAIN_CAPITALS,
    )
    for text in texts:
        alone = {a for a in engine._PLAIN_ANCHORS if a in text.lower()}
        assert alone <= set(found), (text, alone - set(found))
