"""The building blocks of the secrets corpus: deterministic random characters (`rnd`), the
`Shape` record, the `SHAPES` list and the helpers that append to it (`add`, `tok`)."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

_rng = random.Random(20261201)

ALNUM = string.ascii_letters + string.digits
LOWER = string.ascii_lowercase + string.digits
UPPER = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "_-"
BECH32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"


def rnd(alphabet: str, n: int) -> str:
    """`n` deterministic random characters of `alphabet`, always with a digit and a letter
    when the alphabet has both (a real key's look)."""
    while True:
        value = "".join(_rng.choice(alphabet) for _ in range(n))
        letters = any(c.isalpha() for c in alphabet)
        digits = any(c.isdigit() for c in alphabet)
        if (not letters or any(c.isalpha() for c in value)) and (
            not digits or any(c.isdigit() for c in value)
        ):
            return value


@dataclass(frozen=True)
class Shape:
    vendor: str
    kind: str
    text: str
    secret: str
    form: str = "inline"


SHAPES: list[Shape] = []


def add(vendor: str, kind: str, secret: str, template: str = "{s}", form: str = "inline") -> None:
    SHAPES.append(Shape(vendor, kind, template.format(s=secret), secret, form))


def tok(vendor: str, kind: str, prefix: str, alphabet: str, n: int, template: str = "") -> None:
    secret = prefix + rnd(alphabet, n)
    add(vendor, kind, secret, template or f"export {kind}={{s}}")
