"""The hook's one problem line is written whatever bytes its arguments hold.

`ox-core hook <adapter> <event>` logs why it did nothing to `hooks.log` (`status` shows it).
An argument that is not UTF-8 (its bytes come as lone surrogates) made the strict encoding of
the line fail, and the failure was swallowed: the hook exited 0, recorded nothing and said
nothing anywhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_a_hook_whose_adapter_is_not_utf8_logs_its_line(home: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
    environ["HOME"] = str(home)
    result = subprocess.run(
        [sys.executable, "-m", "ox_core.cli", "hook", b"claude\xff", "SessionStart"],
        input=b"{}", env=environ, capture_output=True, timeout=60,
    )  # fmt: skip
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
    (line,) = (home / ".local" / "state" / "ox" / "hooks.log").read_text().splitlines()
    assert line.endswith("hook claude\\udcff SessionStart: invalid adapter name 'claude\\udcff'")
