"""A corpus of ordinary lines (code, prose, logs, hashes, UUIDs, base64 images, git SHAs,
URLs without passwords, code that names a secret without holding one): `LINES`.

Redaction must leave all but a tiny fraction of them unchanged (the test asserts < 2 %).
Half is hand-written (`benign.txt`), the rest generated deterministically: random hex
digests, UUIDs, git SHAs, base64 data URLs, npm integrity hashes, container digests.
"""

from __future__ import annotations

import base64
import hashlib
import random
import uuid
from pathlib import Path

_rng = random.Random(4242)


def _bytes(n: int) -> bytes:
    return bytes(_rng.randrange(256) for _ in range(n))


def _generated() -> list[str]:
    lines: list[str] = []
    for n in range(12):
        blob = _bytes(64)
        sha1 = hashlib.sha1(blob).hexdigest()
        lines += [
            f"commit {sha1}",
            f"{sha1[:7]} Fix the parser for case {n}",
            f"sha256:{hashlib.sha256(blob).hexdigest()}",
            f"id = '{uuid.UUID(bytes=_bytes(16), version=4)}'",
            f'<img src="data:image/png;base64,{base64.b64encode(_bytes(96)).decode()}">',
            f'"integrity": "sha512-{base64.b64encode(hashlib.sha512(blob).digest()).decode()}"',
            f"md5 {hashlib.md5(blob).hexdigest()}  dist/file-{n}.whl",
        ]
    return lines


LINES: list[str] = [
    line for line in (Path(__file__).with_name("benign.txt").read_text().splitlines()) if line
] + _generated()
