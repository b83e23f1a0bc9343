"""A wallet's recovery phrase wherever it stands: a BIP-39 mnemonic (12, 15, 18, 21 or 24
words of its word list) written with no name beside it, in a wallet library's call
(`Wallet.fromPhrase("…")`, `mnemonicToSeedSync('…')`), in an agent's answer (`Your recovery
phrase:` then the words), as a numbered list (`1. legal 2. winner …`, one to a line).

The words must be the list's and their checksum must hold (the last word carries the first
bits of the SHA-256 of the others' bits): a run of English words passes it once in 16 at
best, and only runs of a dozen list words are tested at all. A text is read only when it
names a phrase, a seed, a mnemonic, words, a wallet or a recovery (`MNEMONIC_ANCHORS`), or
holds nothing but the words (a phrase pasted alone; a JSON string's value, in JSON text that
names it). The word list is BIP-39's English one (`bip39_english.txt`, SHA-256
2f5eed53…3b24dbda, as in the bitcoin/bips repository and the `mnemonic` package).
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from importlib import resources

Span = tuple[int, int, str]

KIND = "MNEMONIC"
LENGTHS = (24, 21, 18, 15, 12)
"""The word counts of a BIP-39 mnemonic, longest first (a phrase read as long as it is)."""
MNEMONIC_ANCHORS = ("mnemonic", "phrase", "seed", "words", "wallet", "recover", "bip39", "bip-39")
"""What a text holding a recovery phrase says about it (lower case): the anchors of the rule of
a named phrase (`rules_configs`), whose choice by the pre-filter has this reader read a text
(`engine`: a batch without one of them costs nothing here)."""
_WORD = r"(?:\d{1,2}[.):][ \t]*)?[a-z]{3,8}"
_RUN = re.compile(
    r"(?<![\w-])" + _WORD + r"(?:(?:[ \t]*,?[ \t]*(?:\r?\n|\\n)[ \t]*|[ \t]*,[ \t]*|[ \t]+)"
    + _WORD + r"){11,}(?![\w-])"
)  # fmt: skip
"""A run of 12 or more short lower-case words (numbered or not), apart by spaces, commas or
line breaks (or their `\\n` escape in JSON text)."""
_LETTERS = re.compile(r"[a-z]{3,8}")
_ALONE = re.compile(r"[ \t\r\n]*[a-z]{3,8}(?:[ \t]+[a-z]{3,8}){11,23}[ \t\r\n]*")
"""A text of 12 to 24 short lower-case words and nothing else."""
_ALONE_SIZES = range(12 * 3 + 11, 24 * 8 + 23 + 8 + 1)
"""The lengths such a text can have (tested first: most texts are longer or shorter)."""


@cache
def _index() -> dict[str, int]:
    words = resources.files(__package__).joinpath("bip39_english.txt").read_text().split()
    return {w: i for i, w in enumerate(words)}


def is_mnemonic(indices: list[int]) -> bool:
    """Whether these word indices (12 to 24 of them, a multiple of 3) make a BIP-39 mnemonic:
    the checksum bits at the end are the first bits of the SHA-256 of the entropy before."""
    n = 0
    for i in indices:
        n = (n << 11) | i
    check_bits = len(indices) // 3  # and 32 bits of entropy for each of them
    entropy = (n >> check_bits).to_bytes(check_bits * 4, "big")
    first = hashlib.sha256(entropy).digest()[0]
    return first >> (8 - check_bits) == n & ((1 << check_bits) - 1)


def phrase_of(entropy: bytes) -> str:
    """The BIP-39 mnemonic of `entropy` (16, 20, 24, 28 or 32 bytes): what a wallet shows its
    user (for the corpus and the tests)."""
    if len(entropy) not in (16, 20, 24, 28, 32):
        raise ValueError(f"entropy of {len(entropy)} bytes: BIP-39 takes 16 to 32, by 4")
    check_bits = len(entropy) // 4
    first = hashlib.sha256(entropy).digest()[0]
    n = (int.from_bytes(entropy, "big") << check_bits) | (first >> (8 - check_bits))
    count = check_bits * 3
    words = list(_index())
    return " ".join(words[(n >> (11 * (count - 1 - k))) & 0x7FF] for k in range(count))


def batch_may_hold(texts: list[str]) -> bool:
    """Whether one of a batch's texts, though none holds one of `MNEMONIC_ANCHORS`, may hold
    a phrase: it is nothing but the words (`alone`)."""
    return any(map(alone, texts))


def alone(text: str) -> bool:
    """Whether `text` is nothing but 12 to 24 short lower-case words (a phrase pasted alone
    into a prompt; a JSON string's value, once decoded, when the JSON text names it): read
    even though it names nothing."""
    return len(text) in _ALONE_SIZES and _ALONE.fullmatch(text) is not None


def data_spans(text: str, named: bool) -> list[Span]:
    """`(start, end, "MNEMONIC")` of each BIP-39 mnemonic in `text` (see the module): read
    through when it holds one of `MNEMONIC_ANCHORS` (`named`), else only when it is nothing
    but the words."""
    if not (named or alone(text)) or text.count(" ") + text.count("\n") < 11:
        return []
    out: list[Span] = []
    for run in _RUN.finditer(text):
        out += _phrases(run.group(), run.start())
    return out


def _phrases(run: str, at: int) -> list[Span]:
    """The mnemonics in one run of words, longest first, none overlapping."""
    index = _index()
    words = [(m.start(), m.end(), index.get(m.group(), -1)) for m in _LETTERS.finditer(run)]
    found: list[Span] = []
    k = 0
    while k + LENGTHS[-1] <= len(words):
        for size in LENGTHS:
            indices = [i for _, _, i in words[k : k + size]]
            if len(indices) == size and min(indices) >= 0 and is_mnemonic(indices):
                found.append((at + words[k][0], at + words[k + size - 1][1], KIND))
                k += size
                break
        else:
            k += 1
    return found
