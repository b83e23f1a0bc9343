"""A ledger whose `.git` is not a folder (a linked worktree, a clone with a separate git dir,
a `.git` link) stays a ledger for the clone that adopted it, as one with a `.git` folder does
(`test_ledger_marker`): its git dir's `info/exclude` lists the cache. Real git, a bare remote
on disk, a teammate's clone."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ox_core.ledger_setup import GITIGNORE_LINE, open_ledger


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"}  # fmt: skip
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def my_clone(how: str, remote: Path, root: Path) -> Path:
    """My ledger, a clone of `remote` whose `.git` is a file or a link (`how`)."""
    mine = root / "mine"
    if how == "worktree":
        primary = root / "primary"
        git(root, "clone", "-q", str(remote), str(primary))
        git(primary, "checkout", "-q", "--detach")
        git(primary, "worktree", "add", "-q", str(mine), "main")
    elif how == "separate-git-dir":
        separate = str(root / "git-dir")
        git(root, "clone", "-q", "--separate-git-dir", separate, str(remote), str(mine))
    else:
        git(root, "clone", "-q", str(remote), str(mine))
        (mine / ".git").rename(root / "git-dir")
        (mine / ".git").symlink_to(root / "git-dir")
    assert not (mine / ".git").is_dir() or (mine / ".git").is_symlink()
    return mine


@pytest.mark.parametrize("how", ["worktree", "separate-git-dir", "git-link"])
def test_a_teammate_dropping_the_cache_line_never_stops_a_gitfile_ledger(
    tmp_path: Path, how: str
) -> None:
    remote, mate = tmp_path / "remote.git", tmp_path / "mate"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    git(tmp_path, "clone", "-q", str(remote), str(mate))
    (mate / ".gitignore").write_text(f"{GITIGNORE_LINE}\n*.log\n")
    git(mate, "add", ".gitignore")
    git(mate, "commit", "-q", "-m", "ledger")
    git(mate, "push", "-q", "origin", "HEAD:main")
    mine = my_clone(how, remote, tmp_path)
    assert open_ledger(mine, default=False) == mine
    (mine / ".ox" / "cache" / "x.jsonl").write_text("private\n")
    (mate / ".gitignore").write_text("*.log\n")
    git(mate, "commit", "-q", "-am", "tidy .gitignore")
    git(mate, "push", "-q", "origin", "HEAD:main")
    git(mine, "pull", "-q", "--ff-only", "origin", "main")
    assert GITIGNORE_LINE not in (mine / ".gitignore").read_text()
    assert open_ledger(mine, default=False) == mine  # was: "not an ox ledger", no daemon
    assert git(mine, "status", "--porcelain", "--untracked-files=all") == ""
    git(mine, "check-ignore", "-q", ".ox/cache/x.jsonl")
