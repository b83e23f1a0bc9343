"""pytest fixtures for tests that record sessions (import them into a `conftest.py`):
`home` (a private `$HOME`, where the adapters' roots are) and `src` (a claude-code session
file under it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ox_session_capture.testing import claude_session_file


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def src(home: Path) -> Path:
    return claude_session_file(home)
