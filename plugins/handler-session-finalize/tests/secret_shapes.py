"""The secrets corpus (`corpus.secrets`) as (kind, text, secret) rows, for the tests that
feed shapes through capture and publication."""

from __future__ import annotations

from .corpus.secrets import SHAPES

SECRET_SHAPES: list[tuple[str, str, str]] = [(s.kind, s.text, s.secret) for s in SHAPES]
