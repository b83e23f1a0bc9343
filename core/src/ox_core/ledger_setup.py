"""Opening the ledger: the embedded default one is created on first start.

The default ledger is a local git repository under the user's data dir, with no remote; its
`.gitignore` excludes `.ox/cache/` (recordings and locks are never committed). A configured
ledger must already be a git clone: ox never creates or re-points a team's repository.
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

from ox_core.errors import ConfigError

log = logging.getLogger(__name__)

CACHE_DIR = Path(".ox") / "cache"
GITIGNORE_LINE = ".ox/cache/"
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


def _git(ledger: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(ledger), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **_GIT_ENV},
        timeout=30,
        check=False,
    )


def is_git_repo(path: Path) -> bool:
    """Whether `path` is the top of a git work tree."""
    if not (path / ".git").exists():
        return False
    result = _git(path, "rev-parse", "--show-toplevel")
    return result.returncode == 0 and Path(result.stdout.strip()).resolve() == path.resolve()


def create_default_ledger(path: Path) -> None:
    """Create the embedded default ledger at `path`: `git init`, `.gitignore`, first commit.

    A git identity is set locally when the user has none, so the daemon can commit.
    Raises `ConfigError` when git is missing or fails.
    """
    path.mkdir(parents=True, exist_ok=True)
    try:
        result = _git(path, "init", "-q", "-b", "main")
        if result.returncode != 0:
            raise ConfigError(f"cannot create the ledger at {path}: {result.stderr.strip()}")
        if not _git(path, "config", "user.email").stdout.strip():
            _git(path, "config", "user.email", "ox@localhost")
            _git(path, "config", "user.name", "ox")
        (path / ".gitignore").write_text(GITIGNORE_LINE + "\n", encoding="utf-8")
        for args in (("add", ".gitignore"), ("commit", "-q", "-m", "ox ledger")):
            result = _git(path, *args)
            if result.returncode != 0:
                raise ConfigError(f"cannot create the ledger at {path}: {result.stderr.strip()}")
    except FileNotFoundError:
        raise ConfigError("git is not installed: ox needs it for the ledger") from None
    log.info("created the default ledger at %s", path)


def open_ledger(path: Path, *, default: bool) -> Path:
    """Return the ledger's absolute path, creating it first when it is the default one.

    Raises `ConfigError` when a configured ledger is missing or is not a git work tree.
    Always makes sure `<ledger>/.ox/cache/` exists.
    """
    path = path.expanduser().absolute()
    if not path.exists() or (default and not any(path.iterdir())):
        if not default:
            raise ConfigError(f"the ledger {path} does not exist (setting `ledger`)")
        create_default_ledger(path)
    elif not is_git_repo(path):
        raise ConfigError(f"the ledger {path} is not a git repository")
    elif _git(path, "check-ignore", "-q", str(CACHE_DIR / "x")).returncode != 0:
        # Recordings would show up as untracked files (and could be committed by hand).
        log.warning(
            "the ledger %s does not ignore %s: add that line to its .gitignore",
            path,
            GITIGNORE_LINE,
        )
    (path / CACHE_DIR).mkdir(parents=True, exist_ok=True)
    return path


def describe_ledger(path: Path) -> dict[str, str]:
    """Facts about a ledger for `doctor`: whether it exists, is a repository, its remote."""
    facts = {"path": str(path)}
    if not path.exists():
        facts["state"] = "missing (created on first `ox-core serve`)"
        return facts
    try:
        if not is_git_repo(path):
            facts["state"] = "not a git repository"
            return facts
        facts["state"] = "ok"
        remote = _git(path, "remote", "get-url", "origin")
        facts["remote"] = remote.stdout.strip() if remote.returncode == 0 else "(none)"
    except FileNotFoundError:
        facts["state"] = "git is not installed"
    return facts
