"""A project's settings are committed and shared: `hooks install --project` wrote the
absolute path of this machine's `ox-core` (`/home/alice/.venv/bin/ox-core`) into them, which
names the user's home on every teammate's machine, runs nothing there, and makes each
teammate's `hooks install --project` repoint it to their own path (a commit war)."""

import json
import os
import subprocess
import sys
from pathlib import Path


def ox(
    home: Path, cwd: Path, *argv: str, path: str = "/usr/bin:/bin"
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
    env.update(HOME=str(home), PATH=path)
    return subprocess.run(
        [sys.executable, "-m", "ox_core.cli", "hooks", *argv],
        env=env, capture_output=True, text=True, timeout=60, cwd=cwd,
    )  # fmt: skip


def commands(settings: Path) -> list[str]:
    hooks = json.loads(settings.read_text())["hooks"]
    return [h["command"] for entries in hooks.values() for e in entries for h in e["hooks"]]


def git_repo(path: Path) -> Path:
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True, timeout=60)
    return path


def test_a_project_install_writes_no_path_of_this_machine(tmp_path: Path) -> None:
    home, project = tmp_path / "home", git_repo(tmp_path / "project")
    home.mkdir()
    done = ox(home, project, "install", "--project", "--agent", "claude")
    assert done.returncode == 0, done.stderr
    written = commands(project / ".claude" / "settings.json")
    assert written == [
        "ox-core hook claude-code SessionStart",
        "ox-core hook claude-code SessionEnd",
    ]
    # not on this PATH (a checkout's `./scripts/ox`): status says the agent cannot run it
    status = ox(home, project, "status", "--project", "--agent", "claude")
    assert "claude-code: error: they run ox-core, which is not on PATH" in status.stdout
    on_path = f"{Path(sys.executable).parent}:/usr/bin:/bin"  # the venv's ox-core
    status = ox(home, project, "status", "--project", "--agent", "claude", path=on_path)
    assert "claude-code: installed" in status.stdout, status.stdout


def test_a_teammates_absolute_path_in_a_project_is_made_portable(tmp_path: Path) -> None:
    home, project = tmp_path / "home", git_repo(tmp_path / "project")
    home.mkdir()
    settings = project / ".claude" / "settings.json"
    settings.parent.mkdir()
    alice = "/home/alice/.venv/bin/ox-core"  # committed by a teammate; not on this machine
    hooks = {e: [{"hooks": [{"type": "command", "command": f"{alice} hook claude-code {e}"}]}]
             for e in ("SessionStart", "SessionEnd")}  # fmt: skip
    settings.write_text(json.dumps({"hooks": hooks}))
    done = ox(home, project, "install", "--project", "--agent", "claude")
    assert done.returncode == 0, done.stderr
    assert commands(settings) == [
        "ox-core hook claude-code SessionStart",
        "ox-core hook claude-code SessionEnd",
    ]
    # and the next teammate's install changes nothing
    again = ox(home, project, "install", "--project", "--agent", "claude")
    assert "already installed" in again.stdout, again.stdout
