"""`ox-core hooks install|uninstall` over several agents stops at the first agent whose
settings ox refuses: the agents before it were changed without a word (only the error is
printed), the agents after it are never done."""

import os
import subprocess
import sys
from pathlib import Path


def ox(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
    env["HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "ox_core.cli", "hooks", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=home,
    )


def test_one_agents_refused_settings_do_not_stop_or_hide_the_others(tmp_path: Path) -> None:
    home = tmp_path
    for folder in (".claude", ".codex", ".gemini"):
        (home / folder).mkdir()
    jsonc = b'{\n  // my own\n  "model": "opus"\n}\n'
    (home / ".claude" / "settings.json").write_bytes(jsonc)  # refused: comments
    done = ox(home, "install")
    assert done.returncode != 0  # the refusal is still an error
    assert "comments" in done.stderr
    # codex and gemini come after claude-code: installed all the same, and said so
    assert "hook codex SessionStart" in (home / ".codex" / "hooks.json").read_text()
    assert "hook gemini SessionStart" in (home / ".gemini" / "settings.json").read_text()
    assert "codex: installed" in done.stdout, done.stdout
    assert "gemini: installed" in done.stdout, done.stdout
    assert (home / ".claude" / "settings.json").read_bytes() == jsonc
