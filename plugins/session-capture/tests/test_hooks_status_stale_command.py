"""`ox-core hooks status` and `ox-core doctor` with hooks whose absolute `ox-core` is gone (ox
reinstalled elsewhere, its old venv removed): the agent runs a missing command at every
session start and end, so nothing is recorded, yet both said the hooks were in place
(`installed`, `✓ claude-code hooks: in place`). `hooks install` already repoints them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

STALE = "/opt/removed-ox/bin/ox-core"


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
    env.update(HOME=str(home), PATH="/usr/bin:/bin", OX_LEDGER=str(home / "ledger"))
    return env


def _ox(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ox_core.cli", *args],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _stale_claude_settings(home: Path) -> Path:
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True)
    hooks = {
        event: [{"hooks": [{"type": "command", "command": f"{STALE} hook claude-code {event}"}]}]
        for event in ("SessionStart", "SessionEnd")
    }
    settings.write_text(json.dumps({"hooks": hooks}))
    return settings


def test_hooks_status_says_hooks_running_a_removed_ox_core_are_broken(tmp_path: Path) -> None:
    settings = _stale_claude_settings(tmp_path)

    shown = _ox(tmp_path, "hooks", "status", "--agent", "claude-code")
    rows = json.loads(_ox(tmp_path, "hooks", "status", "--agent", "claude-code", "--json").stdout)

    why = f"they run {STALE}, which is gone: `ox-core hooks install` repoints them"
    assert shown.stdout == f"claude-code: error: {why} ({settings})\n", shown.stderr
    assert rows[0]["installed"] is False
    assert rows[0]["error"] == why


def test_doctor_does_not_call_hooks_running_a_removed_ox_core_in_place(tmp_path: Path) -> None:
    _stale_claude_settings(tmp_path)

    report = json.loads(_ox(tmp_path, "doctor", "--json").stdout)

    rows = [c for c in report["checks"] if c["check"] == "claude-code hooks"]
    why = f"they run {STALE}, which is gone: `ox-core hooks install` repoints them"
    assert rows == [
        {"handler": "session-capture", "check": "claude-code hooks", "ok": False, "detail": why}
    ]


def test_hooks_status_after_install_repoints_them(tmp_path: Path) -> None:
    settings = _stale_claude_settings(tmp_path)

    assert _ox(tmp_path, "hooks", "install", "--agent", "claude-code").returncode == 0
    shown = _ox(tmp_path, "hooks", "status", "--agent", "claude-code")

    assert shown.stdout == f"claude-code: installed ({settings})\n", shown.stderr
