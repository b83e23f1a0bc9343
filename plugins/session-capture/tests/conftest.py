"""Fixtures of the session-capture package's tests: `home` and `src` (from
`ox_session_capture.testing.fixtures`) and `ledger` (a plain folder: capture needs no git)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ox_session_capture.testing.fixtures import home as home
from ox_session_capture.testing.fixtures import src as src


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    return tmp_path / "ledger"
