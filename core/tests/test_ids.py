from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from ox_core.ids import uuid7, uuid7_str


def test_uuid7_version_variant_and_time() -> None:
    import time

    before = time.time_ns() // 1_000_000
    u = uuid7()
    after = time.time_ns() // 1_000_000
    assert u.version == 7
    assert u.variant == uuid.RFC_4122
    assert before <= u.int >> 80 <= after


@settings(max_examples=20)
@given(st.integers(min_value=2, max_value=5000))
def test_uuid7_strictly_increasing(n: int) -> None:
    ids = [uuid7() for _ in range(n)]
    assert ids == sorted(ids)
    assert len(set(ids)) == n


def test_uuid7_str_matches_uuid_format() -> None:
    s = uuid7_str()
    assert str(uuid.UUID(s)) == s
    assert uuid.UUID(s).version == 7
    assert uuid7_str() > s
