"""Hygiene every test tree shares (loaded for `core/tests`, `plugins/*/tests` and `tests`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    # `ox-core serve` run in-process (`cli.main(["serve"])`) installs a root handler on the
    # test's captured stderr; left in place, a later test's log lines land in its own captured
    # stderr, or in a closed stream as "--- Logging error ---" tracebacks.
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
