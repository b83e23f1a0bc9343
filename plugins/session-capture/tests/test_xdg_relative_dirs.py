"""Relative `XDG_*` values are ignored, as the XDG base-directory spec says ("If an
implementation encounters a relative path in any of these variables it should consider the
path invalid and ignore it").

Taken as they were, they were relative to wherever the command ran: an agent's hook runs in
the user's project, so `XDG_DATA_HOME=share` made a default ledger (a git repository) inside
the project and recorded the session there, and `XDG_STATE_HOME="~/state"` (a quoted `~` the
shell did not expand) put the hook's log under a folder literally named `~` in the project.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ox_core import paths
from ox_session_capture.records import RAW, ledger_cache_sessions
from ox_session_capture.testing import append, claude_session_file, claude_text, numbered_user

RELATIVE = {"XDG_DATA_HOME": "share", "XDG_STATE_HOME": "~/state", "XDG_CONFIG_HOME": "./conf"}


def hook(home: Path, cwd: Path, event: str, src: Path) -> subprocess.CompletedProcess[bytes]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
    environ.update(HOME=str(home), **RELATIVE)
    data = json.dumps(
        {"session_id": "f04c7045-b614-40b5-816d-7256c84b37f6", "transcript_path": str(src),
         "cwd": str(cwd), "source": "startup"}
    ).encode()  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "ox_core.cli", "hook", "claude-code", event],
        input=data, env=environ, cwd=cwd, capture_output=True, timeout=60,
    )  # fmt: skip


def test_a_hook_in_a_project_writes_nothing_into_it(home: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "main.py").write_text("print('hi')\n")
    src = claude_session_file(home)
    started = hook(home, project, "SessionStart", src)
    append(src, numbered_user(1) + claude_text("a1", "first answer"))
    ended = hook(home, project, "SessionEnd", src)
    assert (started.returncode, started.stderr, ended.returncode, ended.stderr) == (0, b"", 0, b"")

    assert sorted(p.name for p in project.iterdir()) == ["main.py"]
    ledger = home / ".local" / "share" / "ox" / "ledger"
    (folder,) = ledger_cache_sessions(ledger).iterdir()
    assert "first answer" in (folder / RAW).read_text()
    assert not (home / ".local" / "state" / "ox" / "hooks.log").exists()


@pytest.mark.parametrize("value", ["share", "~/state", "./conf", "..", "."])
def test_a_relative_value_falls_back_to_the_default_under_home(
    home: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    for variable in RELATIVE:
        monkeypatch.setenv(variable, value)
    assert (paths.user_data_dir(), paths.user_state_dir(), paths.user_config_dir()) == (
        f"{home}/.local/share/ox",
        f"{home}/.local/state/ox",
        f"{home}/.config/ox",
    )
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    assert paths.runtime_dir() == f"{home}/.local/state/ox/run"
    assert paths.default_ledger_path() == f"{home}/.local/share/ox/ledger"


@pytest.mark.parametrize("value", ["", ".", "project", "~", "\x00"])
def test_an_empty_or_relative_home_is_the_accounts_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """`HOME` empty or relative (an agent started by a tool that cleared it) led into the
    folder the hook runs in, the user's project: its state and problem log were made there.
    The account's own home (the password database) is used instead."""
    import pwd
    from types import SimpleNamespace

    from ox_session_capture.hook import note_problem

    account, project = tmp_path / "account", tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    monkeypatch.setattr(pwd, "getpwuid", lambda uid: SimpleNamespace(pw_dir=str(account)))
    if value == "\x00":
        monkeypatch.delenv("HOME")
    else:
        monkeypatch.setenv("HOME", value)
    for variable in (*RELATIVE, "XDG_RUNTIME_DIR"):
        monkeypatch.delenv(variable, raising=False)
    assert paths.home_dir() == str(account)
    assert paths.user_state_dir() == f"{account}/.local/state/ox"
    assert paths.default_ledger_path() == f"{account}/.local/share/ox/ledger"
    assert paths.absolute_path("~/team-ledger") == f"{account}/team-ledger"
    note_problem(["claude-code", "SessionStart"], "something went wrong")
    assert "something went wrong" in (account / ".local/state/ox/hooks.log").read_text()
    assert list(project.iterdir()) == []


def test_no_absolute_home_at_all_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pwd
    from types import SimpleNamespace

    from ox_core.errors import ConfigError

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pwd, "getpwuid", lambda uid: SimpleNamespace(pw_dir="nowhere"))
    monkeypatch.setenv("HOME", "relative")
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    with pytest.raises(ConfigError, match=r"no home folder: HOME is 'relative'.*set HOME"):
        paths.user_state_dir()
    assert list(tmp_path.iterdir()) == []
