"""Fixtures of the session-capture package's tests: `home` and `src` (from
`ox_session_capture.testing.fixtures`), `ledger` (a plain folder: capture needs no git) and
`manager` (a running session watcher manager on it, polling every 20 ms)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from ox_session_capture.testing.fixtures import home as home
from ox_session_capture.testing.fixtures import src as src
from ox_session_capture.watcher import SessionWatcherManager


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    # Made here as `ox-core serve` makes it: capture never makes a missing ledger.
    path = tmp_path / "ledger"
    path.mkdir()
    return path


@pytest.fixture
async def manager(ledger: Path, nursery: trio.Nursery) -> AsyncIterator[SessionWatcherManager]:
    m = SessionWatcherManager(ledger, poll_interval=0.02)
    await nursery.start(m.run)
    yield m
    await m.stop_all()
