"""The shapes of the twenty-eighth attack on redaction, a wallet's recovery phrase with no
name beside it (each leaked before its reader): a BIP-39 mnemonic given to a wallet library's
call (`Wallet.fromPhrase("…")`, `mnemonicToSeedSync`), shown in an agent's answer under
`Your recovery phrase:`, numbered, one word to a line, apart by commas, inside JSON text.
And what holds no mnemonic: words whose checksum fails, prose about phrases (kept)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ox_session_capture.redact import mnemonic
from ox_session_capture.redact.mnemonic import is_mnemonic, phrase_of
from ox_session_capture.testing.redacted import assert_hidden, redacted

_WORDS = (Path(mnemonic.__file__).parent / "bip39_english.txt").read_text().split()

PHRASE = phrase_of(hashlib.sha256(b"ox test wallet").digest()[:16])
P18 = phrase_of(hashlib.sha256(b"ox test wallet 18").digest()[:24])
P24 = phrase_of(hashlib.sha256(b"ox test wallet 24").digest())
NUMBERED = " ".join(f"{n}. {w}" for n, w in enumerate(PHRASE.split(), 1))
ONE_A_LINE = "\n".join(f"{n}. {w}" for n, w in enumerate(PHRASE.split(), 1))

LEAKED = [
    (f'const wallet = ethers.Wallet.fromPhrase("{PHRASE}");', PHRASE),
    (f"wallet = Wallet.fromMnemonic('{PHRASE}')", PHRASE),
    (f'seed = bip39.mnemonicToSeedSync("{PHRASE}")', PHRASE),
    (f"Write down these 12 words: {PHRASE}", PHRASE),
    (f"Your recovery phrase:\n{PHRASE}", PHRASE),
    (f"Recovery phrase: {NUMBERED}", NUMBERED.split(" ", 1)[1]),
    (f"Your seed words:\n{ONE_A_LINE}", ONE_A_LINE.split(" ", 1)[1]),
    (f"phrase: {PHRASE.replace(' ', ', ')}", PHRASE.replace(" ", ", ")),
    (f'{{"text": "Your recovery phrase:\\n{PHRASE}"}}', PHRASE),
    (f"solana-keygen recover # seed: {P18}", P18),
    (f"The wallet's 24 words are {P24}.", P24),
    (PHRASE, PHRASE),  # pasted alone into a prompt
]

KEPT = [
    "The seed phrase is: abandon ability able about above absent absorb abstract absurd abuse "
    "access accident",  # list words, but their checksum fails
    "The phrase is made of words that are easy to read and write and the list has them all",
    "Write down these words: apple banana cherry grape lemon mango olive peach pear plum lime kiwi",
    f"Twelve words: {' '.join(PHRASE.split()[:11])}",  # one short
]


@pytest.mark.parametrize(("text", "phrase"), LEAKED)
def test_a_recovery_phrase_of_the_twenty_eighth_attack_is_redacted(text: str, phrase: str) -> None:
    assert_hidden(text, phrase)
    for word in set(PHRASE.split()) | set(P18.split()) | set(P24.split()):
        if f" {word} " in f" {phrase} ":
            assert f" {word} " not in f" {redacted(text)} ".replace("\n", " "), word


@pytest.mark.parametrize("text", KEPT)
def test_words_that_are_no_mnemonic_are_kept(text: str) -> None:
    assert redacted(text) == text


def test_the_official_vectors_check() -> None:
    assert phrase_of(bytes([0x7F] * 16)) == (
        "legal winner thank year wave sausage worth useful legal winner thank yellow"
    )
    assert phrase_of(bytes(16)).split() == ["abandon"] * 11 + ["about"]
    assert phrase_of(bytes([0xFF] * 32)).split() == ["zoo"] * 23 + ["vote"]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([16, 20, 24, 28, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
    st.sampled_from(
        [
            "fromPhrase('{}')",
            "Your recovery phrase:\n{}",
            'mnemonic = "{}"',
            "seed words: {}",
            '{{"seed": "{}", "n": 1}}',  # a JSON string's whole value
            "{}",  # pasted alone
            "  {}\n",
        ]
    ),
)
def test_any_mnemonic_is_redacted_named_or_alone(entropy: bytes, frame: str) -> None:
    phrase = phrase_of(entropy)
    out = redacted(frame.format(phrase))
    assert phrase not in out
    assert "[REDACTED_MNEMONIC]" in out


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=16, max_size=16), st.integers(0, 2047))
def test_a_phrase_checks_exactly_when_it_is_the_mnemonic_of_its_entropy(
    entropy: bytes, last: int
) -> None:
    # The checker against the encoder: with its last word changed, twelve words check when
    # they are what `phrase_of` makes of the 128 bits of entropy they now carry.
    index = {w: i for i, w in enumerate(_WORDS)}
    indices = [index[w] for w in phrase_of(entropy).split()]
    assert is_mnemonic(indices)
    changed = [*indices[:-1], last]
    n = 0
    for i in changed:
        n = (n << 11) | i
    carried = (n >> 4).to_bytes(16, "big")
    assert is_mnemonic(changed) == (phrase_of(carried).split() == [_WORDS[i] for i in changed])
