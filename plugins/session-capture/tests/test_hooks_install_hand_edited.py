"""ox's hook edited by hand (a variable set before it, `env`, its stderr sent to a file) is
still ox's: `hooks install` adds no second one beside it (the agent would run both at every
event), `hooks status` counts it, `hooks uninstall` removes it; and when its `ox-core` is gone,
install points it at the new one and keeps the user's edits. Real files, real commands."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ox_session_capture import hooks_install
from ox_session_capture.hooks_install import claude_code


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    os.chmod(path, 0o755)
    return path


def settings(tmp_path: Path, commands: dict[str, str]) -> Path:
    path = claude_code.path(home=tmp_path / "home")
    path.parent.mkdir(parents=True)
    data = {
        "model": "opus",
        "hooks": {
            event: [{"hooks": [{"type": "command", "command": command}]}]
            for event, command in commands.items()
        },
    }
    path.write_text(json.dumps(data))
    return path


def commands(path: Path) -> dict[str, list[str]]:
    hooks = json.loads(path.read_text()).get("hooks", {})
    return {e: [h["command"] for x in hooks.get(e, []) for h in x["hooks"]] for e in hooks}


def reinstalled_elsewhere(tmp_path: Path, old: Path, hooks: dict[str, str]) -> tuple[Path, Path]:
    """Settings with `hooks` that run `old`, then `old` removed and ox installed anew
    elsewhere: the settings file and the new `ox-core`, after `install` changed it."""
    executable(old)
    new = executable(tmp_path / "new-venv" / "bin" / "ox-core")
    path = settings(tmp_path, hooks)
    old.unlink()
    assert claude_code.gone(json.loads(path.read_text())) == [str(old)]
    change = hooks_install.install(claude_code, path, ox=str(new))
    assert change.changed, change.detail
    return path, new


def edited(ox: Path) -> dict[str, str]:
    return {
        "SessionStart": f"OX_LOG_LEVEL=DEBUG {ox} hook claude-code SessionStart 2>>/tmp/ox.log",
        "SessionEnd": f"env OX_NOTE=ox-core-debug '{ox}' hook claude-code SessionEnd",
    }


def test_a_hook_edited_by_hand_is_still_ox_s(tmp_path: Path) -> None:
    ox = executable(tmp_path / "venv" / "bin" / "ox-core")
    path = settings(tmp_path, edited(ox))
    before = path.read_text()
    data = json.loads(before)
    assert claude_code.present(data) == {"SessionStart": True, "SessionEnd": True}

    change = hooks_install.install(claude_code, path, ox=str(ox))
    assert not change.changed, change.detail
    assert path.read_text() == before  # no second hook beside the user's

    hooks_install.uninstall(claude_code, path)
    assert json.loads(path.read_text()) == {"model": "opus"}


def test_a_hand_edited_hook_whose_ox_core_is_gone_keeps_its_edits(tmp_path: Path) -> None:
    old = tmp_path / "old-venv" / "bin" / "ox-core"
    path, new = reinstalled_elsewhere(tmp_path, old, edited(old))
    assert commands(path) == {
        "SessionStart": [f"OX_LOG_LEVEL=DEBUG {new} hook claude-code SessionStart 2>>/tmp/ox.log"],
        "SessionEnd": [f"env OX_NOTE=ox-core-debug {new} hook claude-code SessionEnd"],
    }
    assert claude_code.gone(json.loads(path.read_text())) == []


def test_a_guarded_hook_whose_ox_core_is_gone_runs_the_new_one_after_install(
    tmp_path: Path,
) -> None:
    """A hook that checks its `ox-core` before running it (so that the agent never sees an
    error once ox is gone) names it twice: both are repointed, or the guard passes on the new
    one and the hook runs the gone one."""
    old = tmp_path / "old venv" / "bin" / "ox-core"
    guarded = {
        "SessionStart": f'[ -x "{old}" ] && "{old}" hook claude-code SessionStart || true',
        "SessionEnd": f"test -x '{old}' && '{old}' hook claude-code SessionEnd",
    }
    path, new = reinstalled_elsewhere(tmp_path, old, guarded)
    assert commands(path) == {
        "SessionStart": [f"[ -x {new} ] && {new} hook claude-code SessionStart || true"],
        "SessionEnd": [f"test -x {new} && {new} hook claude-code SessionEnd"],
    }
    assert claude_code.gone(json.loads(path.read_text())) == []
    assert hooks_install.status(claude_code, path, runnable=True)["installed"]


@pytest.mark.parametrize(
    "mine",
    [
        {  # no ox-core in it; ox's hook of another agent
            "SessionStart": "my-logger hook claude-code SessionStart",
            "SessionEnd": "{ox} hook codex SessionEnd",
        },
        {  # ox's hook joined to the user's program; ox's hook only named
            "SessionStart": "./scripts/warm-cache.sh && {ox} hook claude-code SessionStart",
            "SessionEnd": "echo {ox} hook claude-code SessionEnd",
        },
    ],
)
def test_a_hook_of_the_user_s_own_is_not_taken_for_ox_s(
    tmp_path: Path, mine: dict[str, str]
) -> None:
    """A command that also runs another program is the user's: uninstall must not take their
    program away, and install adds ox's own hook beside it."""
    ox = executable(tmp_path / "venv" / "bin" / "ox-core")
    mine = {event: command.format(ox=ox) for event, command in mine.items()}
    path = settings(tmp_path, mine)
    assert claude_code.present(json.loads(path.read_text())) == dict.fromkeys(mine, False)
    hooks_install.install(claude_code, path, ox=str(ox))
    assert commands(path) == {e: [c, f"{ox} hook claude-code {e}"] for e, c in mine.items()}
    hooks_install.uninstall(claude_code, path)
    assert commands(path) == {e: [c] for e, c in mine.items()}


def test_a_guard_or_an_exit_beside_ox_s_hook_keeps_it_ox_s(tmp_path: Path) -> None:
    ox = executable(tmp_path / "venv" / "bin" / "ox-core")
    path = settings(
        tmp_path,
        {
            "SessionStart": f"[ -x {ox} ] && {ox} hook claude-code SessionStart || true",
            "SessionEnd": f"{ox} hook claude-code SessionEnd >/dev/null 2>&1; exit 0",
        },
    )
    before = path.read_text()
    assert not hooks_install.install(claude_code, path, ox=str(ox)).changed
    assert path.read_text() == before
    hooks_install.uninstall(claude_code, path)
    assert json.loads(path.read_text()) == {"model": "opus"}
