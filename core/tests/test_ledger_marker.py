"""A ledger stays a ledger for the clone that adopted it, whatever a teammate commits to
`.gitignore`: real git, a bare remote on disk, a teammate's clone."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ox_core.errors import ConfigError
from ox_core.ledger_setup import GITIGNORE_LINE, open_ledger


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"}  # fmt: skip
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def team(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(the bare remote, my clone, a teammate's clone) of a ledger with its `.gitignore`."""
    remote, mine, mate = tmp_path / "remote.git", tmp_path / "mine", tmp_path / "mate"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    git(tmp_path, "clone", "-q", str(remote), str(mate))
    (mate / ".gitignore").write_text(f"{GITIGNORE_LINE}\n*.log\n")
    git(mate, "add", ".gitignore")
    git(mate, "commit", "-q", "-m", "ledger")
    git(mate, "push", "-q", "origin", "HEAD:main")
    git(tmp_path, "clone", "-q", str(remote), str(mine))
    return remote, mine, mate


def test_a_teammate_dropping_the_cache_line_neither_stops_ox_nor_unignores_the_cache(
    team: tuple[Path, Path, Path],
) -> None:
    _, mine, mate = team
    assert open_ledger(mine, default=False) == mine
    (mine / ".ox" / "cache" / "x.jsonl").write_text("private\n")
    (mate / ".gitignore").write_text("*.log\n")
    git(mate, "commit", "-q", "-am", "tidy .gitignore")
    git(mate, "push", "-q", "origin", "HEAD:main")
    git(mine, "pull", "-q", "--ff-only")
    assert GITIGNORE_LINE not in (mine / ".gitignore").read_text()
    assert open_ledger(mine, default=False) == mine  # was: "not an ox ledger", no daemon
    assert git(mine, "status", "--porcelain", "--untracked-files=all") == ""
    git(mine, "check-ignore", "-q", ".ox/cache/x.jsonl")


def test_a_project_never_adopted_is_still_refused(tmp_path: Path) -> None:
    project = tmp_path / "project"
    git(tmp_path, "init", "-q", "-b", "main", str(project))
    (project / "README").write_text("code\n")
    (project / ".git" / "info").mkdir(exist_ok=True)
    (project / ".git" / "info" / "exclude").write_text("# git's own comments\n*.swp\n")
    git(project, "add", "README")
    git(project, "commit", "-q", "-m", "code")
    with pytest.raises(ConfigError, match="not an ox ledger"):
        open_ledger(project, default=False)
    assert GITIGNORE_LINE not in (project / ".git" / "info" / "exclude").read_text()


def test_the_local_exclude_is_never_written_through_a_link(
    team: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, mine, _ = team
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("mine\n")
    exclude = mine / ".git" / "info" / "exclude"
    exclude.unlink(missing_ok=True)
    exclude.symlink_to(elsewhere)
    assert open_ledger(mine, default=False) == mine  # a warning, not a refusal to start
    assert elsewhere.read_text() == "mine\n"
    assert exclude.is_symlink()
