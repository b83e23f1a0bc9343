"""ox's hook whose absolute `ox-core` is gone (ox reinstalled elsewhere, its old venv
removed) counts as installed: `hooks install` answers "already installed" and never repairs
it, so the agent keeps running a missing command and nothing is recorded."""

import json
import os
from pathlib import Path

from ox_session_capture import hooks_install
from ox_session_capture.hooks_install import claude_code


def test_reinstall_repoints_hooks_whose_ox_core_is_gone(tmp_path: Path) -> None:
    old = tmp_path / "old-venv" / "bin" / "ox-core"
    new = tmp_path / "new-venv" / "bin" / "ox-core"
    for exe in (old, new):
        exe.parent.mkdir(parents=True)
        exe.write_text("#!/bin/sh\n")
        os.chmod(exe, 0o755)
    path = claude_code.path(home=tmp_path / "home")
    path.parent.mkdir(parents=True)
    path.write_text('{"model": "opus"}')
    hooks_install.install(claude_code, path, ox=str(old))
    old.unlink()  # the old install is removed

    change = hooks_install.install(claude_code, path, ox=str(new))

    commands = [
        h["command"]
        for event in claude_code.events
        for entry in json.loads(path.read_text())["hooks"][event]
        for h in entry["hooks"]
    ]
    assert change.changed, change.detail  # today: "already installed"
    assert all(c.startswith(str(new)) for c in commands), commands
    # and uninstall still gives the user's file back
    hooks_install.uninstall(claude_code, path)
    assert json.loads(path.read_text()) == {"model": "opus"}
