"""A folder name that is not UTF-8, committed by a teammate under `sessions/`, must not stop
this machine's recordings.

A new recording's name must be one no folder of the remote's `sessions/` has, so the
remote's folder names are listed with git (`identity.remote_session_names`). git writes a
name as its bytes (`core.quotePath=false`), and the listing was decoded as strict UTF-8: one
pushed folder named with a byte like 0xff made every new recording on every teammate's
machine fail, after their next fetch, with `UnicodeDecodeError` (the agent's session went
unrecorded; the hook only logged the exception's name).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ox_core.testing import git, make_ledger
from ox_session_capture.identity import taken_names
from ox_session_capture.records import RAW, ledger_cache_sessions, read_marker
from ox_session_capture.testing import append, claude_session_file, claude_text, numbered_user

BAD = os.fsdecode(b"2026-01-01T00-00-mate-\xff\xfe")


def pushed_by_a_teammate(tmp_path: Path) -> Path:
    """A ledger whose remote, as last fetched, holds `sessions/<BAD>/`; its path."""
    team = make_ledger(tmp_path / "team")
    mate = team.clone_remote(tmp_path / "mate")
    folder = mate / "sessions" / BAD
    folder.mkdir(parents=True)
    (folder / "raw.jsonl").write_text('{"_meta": {}}\n')
    git(mate, "add", "-A")
    git(mate, "-c", "user.name=Mate", "-c", "user.email=mate@example.invalid",
        "commit", "-q", "-m", "a session")  # fmt: skip
    git(mate, "push", "-q", "origin", "HEAD:main")
    git(team.path, "fetch", "-q", "origin")
    return team.path


def test_the_remote_names_are_listed_whatever_their_bytes(tmp_path: Path) -> None:
    ledger = pushed_by_a_teammate(tmp_path)
    assert taken_names(ledger, "2026-01-01T00-00-mate-") == {BAD}


def test_a_hook_still_records_the_session(tmp_path: Path, home: Path) -> None:
    ledger = pushed_by_a_teammate(tmp_path)
    src = claude_session_file(home)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
    environ.update(HOME=str(home), OX_LEDGER=str(ledger), XDG_RUNTIME_DIR=str(home / "run"))
    (home / "run").mkdir(mode=0o700)
    data = json.dumps(
        {"session_id": "f04c7045-b614-40b5-816d-7256c84b37f6", "transcript_path": str(src),
         "source": "startup"}
    ).encode()  # fmt: skip

    def hook(event: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "ox_core.cli", "hook", "claude-code", event],
            input=data, env=environ, capture_output=True, timeout=60,
        )  # fmt: skip

    assert hook("SessionStart").returncode == 0
    (folder,) = ledger_cache_sessions(ledger).iterdir()
    assert read_marker(folder).agent_session_id == "f04c7045-b614-40b5-816d-7256c84b37f6"
    append(src, numbered_user(1) + claude_text("a1", "first answer"))
    assert hook("SessionEnd").returncode == 0
    assert "first answer" in (folder / RAW).read_text()
    assert not (home / ".local" / "state" / "ox" / "hooks.log").exists()
