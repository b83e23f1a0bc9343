"""The ledger's git repository: publishing a session (write, commit, push) and its state.

Git runs through `git.run_git` (see there: environment, process group, timeouts). Changes to a
ledger (`publish`) run under one `trio.Lock` per ledger, which the daemon may share
(`Ledger(path, lock)`).

Git-LFS: the ledger uses LFS when `git lfs` is installed and the ledger configures an LFS
endpoint (`lfs.url` in `.git/config` or `.lfsconfig`) or its `.gitattributes` already routes
files through `filter=lfs`. Content files are then uploaded to the LFS server *before* the
commit; when that upload fails nothing is committed and `LfsUploadError` is raised, so the
cache copy stays the one a later scan finds again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import trio

from ox_core.errors import LedgerBlockedError, OxError
from ox_handler_session_finalize.git import (
    DEFAULT_TIMEOUT,
    GitError,
    GitResult,
    has_git_lfs,
    run_git,
)

PUSH_TIMEOUT = 180.0
PUSH_ATTEMPTS = 3
PUSH_PAUSE = 1.0
LFS_PATTERNS = ("sessions/**/raw.jsonl", "sessions/**/summary.md", "sessions/**/session.md")
LFS_ATTRS = "filter=lfs diff=lfs merge=lfs -text"

# Behind the remote, or another push won the race for the ref: rebase and retry.
_REJECTED = (
    "[rejected]",
    "non-fast-forward",
    "fetch first",
    "stale info",
    "cannot lock ref",
    "failed to update ref",
    "incorrect old value",
)
# The remote refuses the push itself (a hook, a protected branch): retrying cannot help.
_REFUSED = ("[remote rejected]", "protected branch", "hook declined")
_AUTH = (
    "authentication failed",
    "could not read username",
    "could not read password",
    "permission denied",
    "access denied",
    "the requested url returned error: 403",
    "the requested url returned error: 401",
)


class LfsUploadError(OxError):
    """Uploading a session's content to the LFS server failed; nothing was committed."""


@dataclass(frozen=True)
class PublishResult:
    """What `Ledger.publish` did: `committed` a new commit, `pushed` to the remote (False when
    the ledger has no remote), `lfs` whether content went through git-LFS."""

    committed: bool
    pushed: bool
    lfs: bool


class Ledger:
    """One ledger repository. Methods are async and never block the trio loop on git.

    `lock` serialises every change to the repository; pass the daemon's lock to share it.
    """

    def __init__(self, path: Path, lock: trio.Lock | None = None) -> None:
        self.path = path
        self.lock = lock if lock is not None else trio.Lock()
        self.push_pause = PUSH_PAUSE

    async def git(
        self,
        *args: str,
        time_limit: float = DEFAULT_TIMEOUT,
        check: bool = True,
        env: Mapping[str, str] | None = None,
    ) -> GitResult:
        """`run_git` in this ledger (see there for errors and cancellation)."""
        return await run_git(self.path, *args, time_limit=time_limit, check=check, env=env)

    # ------------------------------------------------------------ state

    async def conflicts(self) -> list[str]:
        """Paths with unresolved merge conflicts, plus a note when a rebase or merge is stopped
        half-way. Empty when the ledger is clean (or not a repository yet)."""
        result = await self.git("ls-files", "-u", "-z", check=False)
        paths = sorted({rec.split("\t", 1)[-1] for rec in result.stdout.split("\0") if rec})
        git_dir = await self._git_dir()
        if git_dir is not None:
            for marker in ("rebase-merge", "rebase-apply", "MERGE_HEAD"):
                if (git_dir / marker).exists():
                    paths.append(f"({marker} in progress)")
        return paths

    async def ensure_unblocked(self) -> None:
        """Raise `LedgerBlockedError` when the ledger has unresolved merge conflicts."""
        conflicts = await self.conflicts()
        if conflicts:
            shown = ", ".join(conflicts[:5])
            raise LedgerBlockedError(f"ledger {self.path} has unresolved merge conflicts: {shown}")

    async def _git_dir(self) -> Path | None:
        result = await self.git("rev-parse", "--absolute-git-dir", check=False)
        return Path(result.stdout.strip()) if result.ok else None

    async def remote(self) -> str | None:
        """The remote to push to (`origin`, else the first one), None without a remote."""
        result = await self.git("remote", check=False)
        names = result.stdout.split()
        if not names:
            return None
        return "origin" if "origin" in names else names[0]

    async def branch(self) -> str:
        result = await self.git("symbolic-ref", "--short", "HEAD")
        return result.stdout.strip()

    async def uses_lfs(self) -> bool:
        """Whether content files go through git-LFS (see the module docstring)."""
        lfsconfig = ("config", "-f", ".lfsconfig", "--get", "lfs.url")
        for args in (("config", "--get", "lfs.url"), lfsconfig):
            if (await self.git(*args, check=False)).stdout.strip():
                return True
        with contextlib.suppress(FileNotFoundError):
            return "filter=lfs" in self._read_attributes()
        return False

    def _read_attributes(self) -> str:
        """`.gitattributes`, never through a link (a teammate's link to a private file would
        otherwise be read, and appended to by `_prepare_lfs`): `LedgerBlockedError` then."""
        from ox_session_capture.confined import UnsafePathError, read_regular

        try:
            data = read_regular(self.path / ".gitattributes", 1024 * 1024)
        except UnsafePathError as exc:
            raise LedgerBlockedError(f"the ledger's {exc}") from None
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise LedgerBlockedError(f"cannot read the ledger's .gitattributes: {exc}") from None
        return data.decode("utf-8", "replace")

    async def is_committed(self, rel: str) -> bool:
        """Whether HEAD holds anything under `rel`."""
        result = await self.git("ls-tree", "-r", "--name-only", "HEAD", "--", rel, check=False)
        return result.ok and bool(result.stdout.strip())

    async def head(self) -> str:
        result = await self.git("rev-parse", "HEAD", check=False)
        return result.stdout.strip()

    # ------------------------------------------------------------ publishing

    async def publish(self, name: str, files: Mapping[str, bytes]) -> PublishResult:
        """Place `files` in `sessions/<name>/`, commit `finalize session <name>` and push.

        Idempotent: when the folder already holds exactly these files in HEAD no commit is
        made, and a commit left unpushed by an earlier run is pushed. Holds the ledger lock.

        Raises `LedgerBlockedError` (conflicts, push refused for authentication, rebase
        conflict), `LfsUploadError` (content not uploaded, nothing committed, working tree
        restored), `GitError` (anything else: push failed, remote unreachable). Cancellation
        kills the running git command; a half-done step is picked up by the next call.
        """
        from ox_session_capture.confined import check_session_name

        rel = f"sessions/{check_session_name(name)}"
        async with self.lock:
            await self.ensure_unblocked()
            lfs = await self.uses_lfs()
            existed = await self.is_committed(rel)
            # `UnsafePathError` (a link at sessions/ or at the folder) fails this item alone.
            await trio.to_thread.run_sync(_write_folder, self.path, self.path / rel, files)
            paths = [rel]
            try:
                if lfs:
                    paths += await self._prepare_lfs()
                await self.git("add", "-A", "--", *paths)
                if lfs:
                    await self._upload_lfs(files)
            except (LfsUploadError, GitError):
                await self._restore(rel, existed, paths[1:])
                raise
            staged = await self.git("diff", "--cached", "--quiet", "--", *paths, check=False)
            committed = False
            if staged.returncode == 1:
                await self.git("commit", "-q", "-m", f"finalize session {name}", "--", *paths)
                committed = True
            pushed = await self._push()
            return PublishResult(committed=committed, pushed=pushed, lfs=lfs)

    async def _restore(self, rel: str, existed: bool, others: list[str]) -> None:
        """Undo a publish that failed before its commit: unstage, and put the folder back
        as HEAD has it (or remove it)."""
        await self.git("reset", "-q", "--", rel, *others, check=False)
        if existed:
            await self.git("checkout", "-q", "HEAD", "--", rel, check=False)
            await self.git("clean", "-fdq", "--", rel, check=False)
        else:
            folder = self.path / rel
            await trio.to_thread.run_sync(lambda: shutil.rmtree(folder, ignore_errors=True))

    async def _prepare_lfs(self) -> list[str]:
        """Install the LFS filters locally and route content files through LFS; returns the
        paths to add with the session (`.gitattributes` when it changed)."""
        if not has_git_lfs():
            raise LfsUploadError("the ledger uses git-LFS but `git lfs` is not installed")
        if not (await self.git("config", "--get", "filter.lfs.clean", check=False)).stdout.strip():
            await self.git("lfs", "install", "--local")
        from ox_session_capture.records import atomic_write_bytes

        try:
            text = self._read_attributes()
        except FileNotFoundError:
            text = ""
        present = {line.split()[0] for line in text.splitlines() if line.strip()}
        missing = [p for p in LFS_PATTERNS if p not in present]
        if not missing:
            return []
        if text and not text.endswith("\n"):
            text += "\n"
        text += "".join(f"{p} {LFS_ATTRS}\n" for p in missing)
        atomic_write_bytes(self.path / ".gitattributes", text.encode(), 0o644)
        return [".gitattributes"]

    async def _upload_lfs(self, files: Mapping[str, bytes]) -> None:
        remote = await self.remote()
        if remote is None:
            return  # A local ledger keeps its LFS objects in .git/lfs.
        oids = [
            hashlib.sha256(data).hexdigest()
            for fname, data in files.items()
            if fname in {"raw.jsonl", "summary.md", "session.md"}
        ]
        if not oids:
            return
        result = await self.git(
            "lfs", "push", "--object-id", remote, *oids, time_limit=PUSH_TIMEOUT, check=False
        )
        if not result.ok:
            raise LfsUploadError(f"LFS upload failed, session deferred: {result.failure()}")

    async def _push(self) -> bool:
        remote = await self.remote()
        if remote is None:
            return False
        branch = await self.branch()
        last = ""
        for attempt in range(PUSH_ATTEMPTS):
            if attempt:
                await trio.sleep(self.push_pause * attempt)
            result = await self.git(
                "push",
                "--porcelain",
                remote,
                f"HEAD:refs/heads/{branch}",
                time_limit=PUSH_TIMEOUT,
                check=False,
            )
            if result.ok:
                return True
            text = (result.stdout + result.stderr).lower()
            last = result.failure()
            if any(marker in text for marker in _AUTH):
                raise LedgerBlockedError(f"push to {remote} refused: {last}")
            if not any(marker in text for marker in _REJECTED):
                if any(marker in text for marker in _REFUSED):
                    raise LedgerBlockedError(f"push to {remote} refused: {last}")
                raise GitError(last, returncode=result.returncode, stderr=result.stderr)
            await self._pull_rebase(remote, branch)
        raise GitError(f"push still rejected after {PUSH_ATTEMPTS} attempts: {last}")

    async def _pull_rebase(self, remote: str, branch: str) -> None:
        # Other people's content stays as LFS pointers: the rebase needs no LFS download.
        result = await self.git(
            "pull",
            "--rebase",
            "--autostash",
            "-q",
            remote,
            branch,
            time_limit=PUSH_TIMEOUT,
            check=False,
            env={"GIT_LFS_SKIP_SMUDGE": "1"},
        )
        if result.ok:
            return
        if await self.conflicts():
            await self.git("rebase", "--abort", check=False)
            raise LedgerBlockedError(f"rebase onto {remote}/{branch} conflicts: {result.failure()}")
        raise GitError(result.failure(), returncode=result.returncode, stderr=result.stderr)


def _write_folder(ledger: Path, folder: Path, files: Mapping[str, bytes]) -> None:
    """Make `folder` (below `ledger`) hold exactly `files` (atomic per file; others' stray
    files and links removed, never followed). Raises `UnsafePathError` when `sessions/` or
    the folder is a link or a file (a teammate's link would send the writes elsewhere)."""
    from ox_session_capture.confined import (
        UnsafePathError,
        make_dirs,
        read_regular,
    )
    from ox_session_capture.records import atomic_write_bytes

    make_dirs(ledger, folder, 0o755)
    for fname, data in files.items():
        target = folder / fname
        try:
            if read_regular(target) == data:
                continue
        except (OSError, UnsafePathError):
            pass
        atomic_write_bytes(target, data, 0o644)
    with os.scandir(folder) as it:
        for entry in it:
            if entry.name in files or entry.name.startswith("."):
                continue
            if entry.is_symlink() or entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
