"""Opening the ledger: the embedded default one is created on first start.

The default ledger is a local git repository under the user's data dir, with no remote; its
`.gitignore` excludes `.ox/cache/` (recordings and locks are never committed). A configured
ledger must already be a git clone: ox never creates or re-points a team's repository.

What makes a git repository an ox ledger is that line: its own `.gitignore` (at the top of the
work tree) lists `.ox/cache/`. A repository without it (a project clone the ledger setting
points at by mistake) is refused, never adopted: ox would commit and push into it. Once
adopted, the clone's own `.git/info/exclude` lists the cache too: `.gitignore` is a file any
teammate can commit, and a commit dropping the line must neither stop this clone's daemon
(the line is committed again by the plugin that publishes) nor let the cache be tracked.
"""

from __future__ import annotations

import logging
import os
import stat
import subprocess
from pathlib import Path

from ox_core.errors import ConfigError

log = logging.getLogger(__name__)

CACHE_DIR = Path(".ox") / "cache"
GITIGNORE_LINE = ".ox/cache/"
ORIGINAL_GITIGNORE_LINE = ".sageox/cache/"
"""The original (Go) daemon's cache: a ledger it used ignores it, and is a ledger too (ox adds
its own line at the first start)."""


def _spellings(line: str) -> frozenset[str]:
    """The `.gitignore` lines that ignore the top-level folder of `line` (with or without the
    leading and the trailing slash)."""
    folder = line.strip("/")
    return frozenset({folder, f"{folder}/", f"/{folder}", f"/{folder}/"})


IGNORE_SPELLINGS: dict[str, frozenset[str]] = {
    line: _spellings(line) for line in (GITIGNORE_LINE, ORIGINAL_GITIGNORE_LINE)
}
"""Each cache line ox needs, and the `.gitignore` lines that say the same."""
_MARKER_LINES = frozenset().union(*IGNORE_SPELLINGS.values())
"""The lines of a `.gitignore` that mark a ledger."""
_MAX_GITIGNORE = 1024 * 1024
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
NO_HOOKS = ("-c", "core.hooksPath=/dev/null")
"""git options under which git runs no hook. The user's configuration decides where hooks
come from, and in a ledger that can be files any teammate commits: a global `core.hooksPath`
that is relative (`.githooks`) is read from the work tree, and a hook a template put into
every clone (`init.templateDir`, e.g. pre-commit's) runs the config file a teammate
committed. Every git process ox runs in a ledger runs under these (a push runs git-lfs'
upload and nothing else: `ox_handler_session_finalize.git`)."""


def git_command(ledger: Path, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run `git -C ledger *args` (blocking; no prompts, C locale), for checks outside the
    daemon. Raises `FileNotFoundError` without git, `subprocess.TimeoutExpired`.

    Output that is not UTF-8 (a name a teammate committed, a path) is decoded as `os`
    decodes file names (`surrogateescape`): the same bytes on disk, never an error."""
    return subprocess.run(
        ["git", "-C", str(ledger), *NO_HOOKS, *args],
        capture_output=True,
        text=True,
        errors="surrogateescape",
        env={**os.environ, **_GIT_ENV},
        timeout=timeout,
        check=False,
    )


def is_git_repo(path: Path) -> bool:
    """Whether `path` is the top of a git work tree."""
    if not (path / ".git").exists():
        return False
    result = git_command(path, "rev-parse", "--show-toplevel")
    return result.returncode == 0 and Path(result.stdout.strip()).resolve() == path.resolve()


def is_empty_clone(path: Path) -> bool:
    """Whether the work tree at `path` holds nothing but `.git` and has no commit yet (a
    clone of an empty repository): safe to make a ledger of, nothing of anyone's is there."""
    with os.scandir(path) as it:
        if any(entry.name != ".git" for entry in it):
            return False
    return git_command(path, "rev-parse", "-q", "--verify", "HEAD").returncode != 0


def create_default_ledger(path: Path) -> None:
    """Create the embedded default ledger at `path`: `git init`, `.gitignore`, first commit.

    A git identity is set locally when the user has none, so the daemon can commit.
    Raises `ConfigError` when git is missing or fails.
    """
    path.mkdir(parents=True, exist_ok=True)
    try:
        result = git_command(path, "init", "-q", "-b", "main")
        if result.returncode != 0:
            raise ConfigError(f"cannot create the ledger at {path}: {result.stderr.strip()}")
        if not git_command(path, "config", "user.email").stdout.strip():
            git_command(path, "config", "user.email", "ox@localhost")
            git_command(path, "config", "user.name", "ox")
        (path / ".gitignore").write_text(GITIGNORE_LINE + "\n", encoding="utf-8")
        for args in (("add", ".gitignore"), ("commit", "-q", "-m", "ox ledger")):
            result = git_command(path, *args)
            if result.returncode != 0:
                raise ConfigError(f"cannot create the ledger at {path}: {result.stderr.strip()}")
    except FileNotFoundError:
        raise ConfigError("git is not installed: ox needs it for the ledger") from None
    log.info("created the default ledger at %s", path)


def _lists_marker(file: Path) -> bool:
    """Whether the ignore file `file` (a regular file, never read through a link) lists a
    line of `_MARKER_LINES`."""
    from ox_core.fs import UnsafePathError, read_regular

    try:
        data = read_regular(file, _MAX_GITIGNORE)
    except (OSError, UnsafePathError):
        return False
    text = data.decode("utf-8", "replace")
    return any(line.strip() in _MARKER_LINES for line in text.splitlines())


def _local_exclude(path: Path) -> Path | None:
    """The clone's own `info/exclude`, the one git reads: `.git/info/exclude`, or in the git
    dir a `.git` file or link names (a linked worktree's is its repository's, a clone's made
    with `--separate-git-dir` is beside it). None when git cannot tell."""
    try:
        result = git_command(path, "rev-parse", "--git-path", "info/exclude")
    except (OSError, subprocess.SubprocessError):
        return None
    found = result.stdout.strip()
    return path / found if result.returncode == 0 and found else None


def has_ledger_marker(path: Path) -> bool:
    """Whether the work tree at `path` is marked as an ox ledger: its own `.gitignore`
    (teammate-controlled content) lists `.ox/cache/`, or ox adopted this clone before (its
    `.git/info/exclude` does, `mark_adopted`)."""
    exclude = _local_exclude(path)
    return _lists_marker(path / ".gitignore") or (exclude is not None and _lists_marker(exclude))


def mark_adopted(path: Path) -> None:
    """Add `.ox/cache/` to the clone's `.git/info/exclude` unless it lists it (never through
    a link: `UnsafePathError`). Blocking; `OSError` as it comes."""
    from ox_core.fs import atomic_write, read_regular

    exclude = _local_exclude(path)
    if exclude is None or _lists_marker(exclude):
        return
    exclude.parent.mkdir(exist_ok=True)
    try:
        text = read_regular(exclude, _MAX_GITIGNORE).decode("utf-8", "replace")
    except FileNotFoundError:
        text = ""
    sep = "" if not text or text.endswith("\n") else "\n"
    atomic_write(exclude, f"{text}{sep}{GITIGNORE_LINE}\n", mode=0o644)


def open_ledger(path: Path, *, default: bool) -> Path:
    """Return the ledger's absolute path, creating it first when it is the default one.

    Raises `ConfigError` (one line, naming the `ledger` setting) when a configured ledger is
    missing, is not a git work tree, is not marked as an ox ledger (see `has_ledger_marker`),
    or cannot be written; and when its `.ox/cache/` cannot be made a real directory.
    Always makes sure `<ledger>/.ox/cache/` exists.
    """
    path = path.expanduser().absolute()
    if not_utf8 := _not_utf8(path):
        raise ConfigError(f"the ledger path {not_utf8} (setting `ledger`)")
    if not path.exists() or (default and not any(path.iterdir())):
        if not default:
            raise ConfigError(f"the ledger {path} does not exist (setting `ledger`)")
        create_default_ledger(path)
    elif not is_git_repo(path):
        raise ConfigError(f"the ledger {path} is not a git repository (setting `ledger`)")
    elif is_empty_clone(path):
        # A fresh clone of a new, empty team repository: it becomes the ledger. The line is
        # committed by the plugin that publishes to the ledger, with the user's identity.
        (path / ".gitignore").write_text(GITIGNORE_LINE + "\n", encoding="utf-8")
        log.info("%s is an empty repository: made it an ox ledger (.gitignore)", path)
    elif not has_ledger_marker(path):
        raise ConfigError(
            f"the ledger {path} is a git repository but not an ox ledger: its .gitignore "
            f"does not list {GITIGNORE_LINE} (setting `ledger`); if it is meant to be one, "
            "add that line and commit it"
        )
    for part in (path, path / ".git"):
        if not os.access(part, os.W_OK):
            raise ConfigError(
                f"the ledger {path} is not writable ({part}): ox commits to it (setting `ledger`)"
            )
    ensure_cache_dir(path)
    from ox_core.fs import UnsafePathError

    try:
        mark_adopted(path)
    except (OSError, UnsafePathError) as exc:  # a second safeguard: never a reason to stop
        log.warning("cannot list %s in %s/.git/info/exclude: %s", GITIGNORE_LINE, path, exc)
    return path


def _not_utf8(path: Path) -> str:
    """Why the ledger cannot be at `path` when its name is not UTF-8 text (a byte like 0xff
    in a folder name on the way, or in `$HOME`), else "". Its path is written into the
    recordings' JSON and the work items, which hold UTF-8 text only: every session would fail
    to record, with a serializer's error."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return f"{str(path)!r} is not UTF-8 text: ox writes it into JSON records; rename it"
    return ""


def ensure_cache_dir(ledger: Path) -> Path:
    """Make `<ledger>/.ox/cache/` a real directory (never following a link) and return it.

    Raises `ConfigError` when `.ox` or `.ox/cache` is a link or a file, or cannot be made.
    """
    current = ledger
    for part in CACHE_DIR.parts:
        current = current / part
        try:
            os.mkdir(current, 0o700 if part == "cache" else 0o777)
        except FileExistsError:
            pass
        except OSError as exc:
            raise ConfigError(
                f"cannot create {current}: {exc.strerror} (the ledger must be writable)"
            ) from None
        st = os.lstat(current)
        if stat.S_ISLNK(st.st_mode):
            raise ConfigError(
                f"{current} is a symbolic link; ox does not follow links in the ledger: remove it"
            )
        if not stat.S_ISDIR(st.st_mode):
            raise ConfigError(f"{current} is not a directory: remove the file in the way")
    return current


def describe_ledger(path: Path) -> dict[str, str]:
    """Facts about a ledger for `doctor`: whether it exists, is a repository, its remote."""
    facts = {"path": str(path)}
    if not_utf8 := _not_utf8(path):
        facts["state"] = not_utf8
        return facts
    if not path.exists():
        facts["state"] = "missing (created on first `ox-core serve`)"
        return facts
    try:
        if not is_git_repo(path):
            facts["state"] = "not a git repository"
            return facts
        if is_empty_clone(path):
            facts["note"] = "an empty repository: the first `ox-core serve` makes it a ledger"
        elif not has_ledger_marker(path):
            facts["state"] = f"not an ox ledger (its .gitignore does not list {GITIGNORE_LINE})"
            return facts
        facts["state"] = "ok"
        remote = git_command(path, "remote", "get-url", "origin")
        facts["remote"] = remote.stdout.strip() if remote.returncode == 0 else "(none)"
    except FileNotFoundError:
        facts["state"] = "git is not installed"
    return facts
