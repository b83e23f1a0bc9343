"""`ox-core doctor`'s checks of the ledger, for publishing: git identity, the remote (reachable,
accepting our credentials), the `.gitignore` lines, git-lfs, the ledger's own redaction rules,
free disk space.

Blocking (doctor runs outside the daemon). Git runs through `git.run_git` (its own process
group, killed on timeout) in a private trio loop on a worker thread.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import trio

from ox_core.contracts import Diagnosis
from ox_core.errors import LedgerBlockedError
from ox_handler_session_finalize.git import GitError, GitResult, has_git_lfs, run_git
from ox_handler_session_finalize.ledger import NO_IDENTITY, Ledger
from ox_handler_session_finalize.ledger_setup import missing_ignore_lines, needed_lines
from ox_handler_session_finalize.sync import AUTH_MARKERS

REMOTE_TIMEOUT = 20.0
DISK_ERROR = 100 * 1024 * 1024
DISK_WARNING = 1024 * 1024 * 1024


def diagnose(ledger: Path, author: str = "") -> list[Diagnosis]:
    """Every check, in order (see the module)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(trio.run, _diagnose, ledger, author).result()


async def _diagnose(ledger: Path, author: str) -> list[Diagnosis]:
    repo = Ledger(ledger, author=author)
    checks = [await _identity(repo), await _remote(repo), await _ignore_lines(repo)]
    checks.append(await _lfs(repo))
    checks.append(_redaction(ledger))
    checks.append(_disk(ledger))
    return checks


async def _identity(repo: Ledger) -> Diagnosis:
    facts = await repo.facts()
    if not facts.identity:
        return Diagnosis("git identity", False, NO_IDENTITY)
    source = "the `author` option" if facts.commit_env else "git config"
    return Diagnosis("git identity", True, f"{facts.identity} (from {source})")


async def _remote(repo: Ledger) -> Diagnosis:
    remote = await repo.remote()
    if remote is None:
        return Diagnosis("remote", True, "none: a local ledger, commits stay on this machine")
    try:
        result: GitResult = await repo.git(
            "ls-remote", "--heads", remote, time_limit=REMOTE_TIMEOUT, check=False
        )
    except GitError as exc:
        return Diagnosis("remote", False, f"{remote} did not answer: {exc}")
    if result.ok:
        url = (await repo.git("remote", "get-url", remote, check=False)).stdout.strip()
        return Diagnosis("remote", True, f"{remote} ({url}) is reachable")
    text = result.stderr.lower()
    tail = result.stderr.strip()[-300:]
    if any(marker in text for marker in AUTH_MARKERS):
        return Diagnosis(
            "remote",
            False,
            f"{remote} refuses our credentials: {tail} (check your git credentials or ssh key)",
        )
    return Diagnosis("remote", False, f"{remote} is not reachable: {tail}")


async def _ignore_lines(repo: Ledger) -> Diagnosis:
    from ox_session_capture.confined import UnsafePathError, read_regular

    try:
        text = read_regular(repo.path / ".gitignore", 1024 * 1024).decode("utf-8", "replace")
    except FileNotFoundError:
        text = ""
    except (OSError, UnsafePathError) as exc:
        return Diagnosis(".gitignore", False, f"cannot be read: {exc}")
    missing = missing_ignore_lines(text, needed_lines(repo.path))
    status = await repo.git("status", "--porcelain", "--", ".gitignore", check=False)
    if missing or status.stdout.strip():
        what = ", ".join(missing) if missing else "its lines"
        return Diagnosis(
            ".gitignore",
            False,
            f"{what} not committed yet: the next `ox-core serve` commits them",
            warning=True,
        )
    return Diagnosis(".gitignore", True, "ignores " + ", ".join(needed_lines(repo.path)))


async def _lfs(repo: Ledger) -> Diagnosis:
    try:
        uses = await repo.uses_lfs()
    except LedgerBlockedError as exc:
        return Diagnosis("git-lfs", False, f"publishing paused: {exc}")
    if not has_git_lfs():
        if uses:
            return Diagnosis(
                "git-lfs", False, "the ledger uses LFS but git-lfs is not installed: install it"
            )
        return Diagnosis("git-lfs", True, "not installed (the ledger does not use LFS)")
    facts = await repo.facts()
    if facts.lfs and facts.lfs_refusal:
        return Diagnosis("git-lfs", False, f"publishing paused: {facts.lfs_refusal}")
    version = await run_git(repo.path, "lfs", "version", check=False)
    state = "used" if uses else "installed, not used by this ledger"
    return Diagnosis("git-lfs", True, f"{state}: {version.stdout.strip()}")


def _redaction(ledger: Path) -> Diagnosis:
    """A rules file a teammate broke (a pattern that does not compile or could backtrack
    exponentially) stops every finalization, which status shows only as each item's error."""
    from ox_session_capture.redact import RedactRulesError, load_ledger_rules

    try:
        rules = load_ledger_rules(ledger)
    except RedactRulesError as exc:
        return Diagnosis("redaction rules", False, f"sessions are not finalized: {exc}")
    return Diagnosis("redaction rules", True, f"built-in and {len(rules)} of the ledger's own")


def _disk(ledger: Path) -> Diagnosis:
    free = shutil.disk_usage(ledger).free
    shown = f"{free / 1024**3:.1f} GiB free"
    if free < DISK_ERROR:
        return Diagnosis("disk", False, f"{shown}: sessions cannot be recorded; free some space")
    if free < DISK_WARNING:
        return Diagnosis("disk", False, f"{shown}: running low", warning=True)
    return Diagnosis("disk", True, shown)
