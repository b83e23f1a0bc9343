"""A ledger ready for a team: the `.gitignore` lines ox needs, committed once.

A fresh clone (or a ledger whose `.gitignore` was edited by hand and never committed) would
show ox's cache as untracked in `git status` and, on a teammate's machine, not ignore it at
all. At the first start ox appends what is missing and commits `.gitignore` alone.
"""

from __future__ import annotations

from pathlib import Path

import trio

from ox_core.errors import LedgerBlockedError
from ox_core.ledger_setup import GITIGNORE_LINE, IGNORE_SPELLINGS
from ox_handler_session_finalize.compat import ORIGINAL_CACHE, uses_original_layout
from ox_handler_session_finalize.ledger import Ledger
from ox_handler_session_finalize.ledger_files import append_lines

IGNORE_LINES = (GITIGNORE_LINE,)
"""What every ledger's `.gitignore` lists: ox's cache (recordings, locks) is never committed."""
MAX_GITIGNORE = 1024 * 1024


def needed_lines(ledger: Path) -> tuple[str, ...]:
    """`IGNORE_LINES`, plus the original daemon's cache in a ledger it used."""
    return (*IGNORE_LINES, ORIGINAL_CACHE) if uses_original_layout(ledger) else IGNORE_LINES


def missing_ignore_lines(text: str, needed: tuple[str, ...] = IGNORE_LINES) -> list[str]:
    """The lines of `needed` that `text` (a `.gitignore`) lacks."""
    present = {line.strip() for line in text.splitlines()}
    return [line for line in needed if not present & IGNORE_SPELLINGS.get(line, {line})]


def _read_gitignore(ledger: Ledger) -> str:
    """`.gitignore` as text ("" without one), never through a link. A teammate can commit it
    as a link or a folder: `LedgerBlockedError` then, which the sync service logs and runs on
    (an `UnsafePathError` stopped it before its first sync, at every restart)."""
    from ox_session_capture.confined import UnsafePathError, read_regular

    try:
        return read_regular(ledger.path / ".gitignore", MAX_GITIGNORE).decode("utf-8", "replace")
    except FileNotFoundError:
        return ""
    except (OSError, UnsafePathError) as exc:
        raise LedgerBlockedError(f"the ledger's .gitignore is not read: {exc}") from None


async def ensure_ignore_lines(ledger: Ledger) -> bool:
    """Add the missing `IGNORE_LINES` to `.gitignore` and commit it when it differs from
    HEAD; True when a commit was made. Holds the ledger lock. Raises `LedgerBlockedError`
    (no git identity; `.gitignore` is a link, a folder or unreadable)."""
    async with ledger.lock:
        text = await trio.to_thread.run_sync(_read_gitignore, ledger)
        missing = missing_ignore_lines(text, needed_lines(ledger.path))
        if missing:
            await trio.to_thread.run_sync(append_lines, ledger.path / ".gitignore", text, missing)
        status = await ledger.git("status", "--porcelain", "--", ".gitignore")
        if not status.stdout.strip():
            return False
        env = await ledger.commit_env()
        await ledger.git("add", "--", ".gitignore")
        message = "ox: ignore its cache (" + ", ".join(missing or IGNORE_LINES) + ")"
        await ledger.git("commit", "-q", "-m", message, "--", ".gitignore", env=env)
        return True
