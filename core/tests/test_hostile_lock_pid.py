"""A second `ox-core serve` names the running daemon's pid from the lock file, a file in the
ledger's cache that the module itself calls "a file anyone with the cache may write": a
`pid` that is a string with escape sequences reaches the terminal raw in the one-line error
(`ox-core: error: another ox-core daemon (pid ...)`)."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
from pathlib import Path

import pytest

from ox_core import cli
from ox_core.daemon_lock import lock_path

HOSTILE = "\x1b]52;c;cm0gLXJmIH4K\x07\x1b[2J\u202e"


def test_a_second_serve_shows_the_lock_files_pid_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "ledger"
    subprocess.run(["git", "init", "-q", str(ledger)], check=True)
    (ledger / ".gitignore").write_text(".ox/cache/\n")
    git = ["git", "-C", str(ledger), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "add", ".gitignore"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("OX_LEDGER", str(ledger))
    monkeypatch.setenv("OX_CONFIG_FILE", str(tmp_path / "none.toml"))
    path = lock_path(ledger)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pid": HOSTILE, "socket": "/nowhere"}))
    fd = os.open(path, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # "the running daemon"
    try:
        assert cli.main(["serve"]) == 1
    finally:
        os.close(fd)
    err = capsys.readouterr().err
    assert "another ox-core daemon" in err
    for char in ("\x1b", "\x07", "\u202e"):
        assert char not in err
