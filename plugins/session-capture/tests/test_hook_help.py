"""`ox-core hook --help` says what the command is, like every other command's `--help`.

The hook's fast path took `--help` for an agent's call with a wrong argument count: it printed
nothing, exited 0 and logged `usage: ...` to `hooks.log`, which `status` then showed as a
failed detection for an hour.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_hook_help_prints_the_usage_and_logs_no_problem(home: Path, flag: str) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
    environ["HOME"] = str(home)
    result = subprocess.run(
        [sys.executable, "-m", "ox_core.cli", "hook", flag],
        stdin=subprocess.DEVNULL, env=environ, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: ")
    assert "what agent hooks run" in result.stdout
    assert not (home / ".local" / "state" / "ox" / "hooks.log").exists()
