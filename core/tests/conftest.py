"""Fixtures shared by ox-core's tests."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A new user's environment: HOME is `tmp_path`, no `OX_*`/`XDG_*` settings, and a private
    runtime dir (short, so socket paths stay under the 108-byte limit)."""
    for key in list(os.environ):
        if key.startswith(("OX_", "XDG_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(tmp_path))
    with tempfile.TemporaryDirectory(prefix="oxt") as runtime:
        monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
        yield tmp_path
