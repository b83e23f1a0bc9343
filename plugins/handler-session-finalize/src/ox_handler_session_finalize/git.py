"""Running git. Every git (and git-lfs) command of the package goes through `run_git`.

Every call runs with `GIT_TERMINAL_PROMPT=0 LC_ALL=C` (never waits for a password, messages we
can match), stdin empty, through core's process primitive (`ox_core.process.run_process`): in
its own process group, which is stopped on timeout or cancellation.

No call runs a hook of the user's configuration (`ox_core.ledger_setup.NO_HOOKS`: in a ledger
they can be files a teammate committed). A push runs one, git-lfs' `pre-push`, which uploads
the LFS objects the pushed commits name, from a folder of ox's own (`push_hooks`).

A path of the ledger given to git (`add`, `rm`, `reset`, `checkout`, `clean`, `commit --`,
`diff`, `ls-files`, `ls-tree`, `rev-list`) goes with `--literal-pathspecs`: a session name
may hold `[` and `]`, which git otherwise reads as a wildcard, and `sessions/dev[1]` would
then also match a file, link or gitlink at `sessions/dev1` (staged, committed, put back,
cleaned away or dropped from a rewritten commit with ox's own folder). No call means a pattern.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ox_core.errors import OxError, RunnerError
from ox_core.ledger_setup import NO_HOOKS
from ox_core.process import ProcessOutcome, run_process

GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GCM_INTERACTIVE": "never"}
DEFAULT_TIMEOUT = 60.0
GIT_GRACE = 1.0
"""Seconds from SIGTERM to SIGKILL of a stopped git (SIGTERM lets it remove its lock files)."""
GIT_MAX_OUTPUT = 256 * 1024 * 1024
"""More output than this from one git command is a runaway: stopped, an error."""
GIT_STDERR_KEPT = 4 * 1024 * 1024
"""The end of a git's stderr kept: whole for what ox reads there (`git add`'s list of ignored
paths of a batch), bounded for what a remote's hook prints (a server's to choose)."""
TRANSFER_LIMIT = 3600.0
"""Seconds a fetch, push or LFS upload may take in all while it shows progress: a first push
of a big ledger over a slow link takes what it takes."""
TRANSFER_STALL = 120.0
"""Seconds a fetch, push or LFS upload may print nothing before it is taken as stuck (a dead
connection, a server that stopped answering) and stopped. They print their progress
(`--progress`, `TRANSFER_ENV`) as long as data moves."""
TRANSFER_ENV = {"GIT_LFS_FORCE_PROGRESS": "1"}
"""git-lfs prints its progress only to a terminal unless told to."""
_PROGRESS_LINE = re.compile(
    r"(?:remote: +)?(?:[A-Z][a-z]+(?: [a-z]+)*(?: LFS)? objects:|Resolving deltas:"
    r"|Delta compression using up to \d+ threads|Total \d+ \(delta \d+\)|Checking connectivity)"
)


class _Counter:
    """How many git processes `run_git` started in this process (read by the publishing
    benchmark, which must stay under a budget per session)."""

    started = 0


GIT_PROCESSES = _Counter()


class GitError(OxError):
    """A git command failed (the message holds the command and the tail of its stderr)."""

    def __init__(self, message: str, *, returncode: int = -1, stderr: str = "") -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


@dataclass(frozen=True)
class GitResult:
    """What one git command did: exit code, decoded stdout and stderr."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def failure(self) -> str:
        tail = self.stderr.strip()[-800:] or self.stdout.strip()[-800:]
        return f"git {' '.join(self.args)} failed (exit {self.returncode}): {tail}"


PRE_PUSH = b"""#!/bin/sh
# ox: git-lfs' upload of the LFS objects a push sends, and no other hook.
command -v git-lfs >/dev/null 2>&1 || exit 0
exec git lfs pre-push "$@"
"""
_push_hooks: list[str] = []


def push_hooks() -> str:
    """A folder holding git-lfs' `pre-push` hook alone: made once a process (a new private
    folder of the temp dir, so nothing another user or a teammate wrote), again when a temp
    cleaner removed it, and removed when the process exits. Blocking (a few syscalls)."""
    if _push_hooks and os.path.isfile(os.path.join(_push_hooks[0], "pre-push")):
        return _push_hooks[0]
    folder = tempfile.mkdtemp(prefix="ox-git-hooks-")
    try:
        fd = os.open(os.path.join(folder, "pre-push"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o700)
        with os.fdopen(fd, "wb") as hook:
            hook.write(PRE_PUSH)
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise GitError(f"cannot write git-lfs' pre-push hook for a push: {exc}") from None
    atexit.register(shutil.rmtree, folder, True)
    _push_hooks[:] = [folder]
    return folder


def hooks_options(args: tuple[str, ...]) -> tuple[str, ...]:
    """The options of git's hooks for `git *args`: git-lfs' upload for a push, none else;
    nothing when `args` choose their hooks themselves (`-c core.hooksPath=...`)."""
    i = 0
    while i < len(args) and args[i] == "-c":  # `-c name=value` pairs before the command
        if i + 1 < len(args) and args[i + 1].lower().startswith("core.hookspath="):
            return ()
        i += 2
    if i < len(args) and args[i] == "push":
        return ("-c", f"core.hooksPath={push_hooks()}")
    return NO_HOOKS


def has_git_lfs() -> bool:
    """Whether the `git-lfs` binary is on PATH."""
    return shutil.which("git-lfs") is not None


async def run_git(
    repo: Path,
    *args: str,
    time_limit: float = DEFAULT_TIMEOUT,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    stall: float | None = None,
) -> GitResult:
    """Run `git -C repo *args` and capture its output.

    Raises `GitError` when `check` and the exit code is non-zero, or when it takes longer than
    `time_limit` seconds, or (with `stall`) prints nothing for `stall` seconds. On timeout or
    cancellation the whole process group (git and its helpers: ssh, git-lfs, credential
    helpers) is killed before the error or `trio.Cancelled` propagates. The progress lines of
    a transfer are left out of the result's stderr (its errors stay).
    """
    done = await _spawn(repo, args, time_limit, env, GIT_MAX_OUTPUT, stall)
    if done.overflow:
        raise GitError(f"git {' '.join(args)} printed more than {GIT_MAX_OUTPUT} bytes")
    result = GitResult(
        args=tuple(args),
        returncode=done.returncode,
        stdout=done.stdout.decode("utf-8", "replace"),
        stderr=without_progress(done.stderr_tail),
    )
    if check and not result.ok:
        raise GitError(result.failure(), returncode=result.returncode, stderr=result.stderr)
    return result


async def read_blob_head(
    repo: Path, oid: str, limit: int, *, time_limit: float = DEFAULT_TIMEOUT
) -> tuple[bytes, bool]:
    """The first bytes of the blob `oid` (at most `limit`), and whether they are all of it.
    A blob committed by anyone can be of any size: git is stopped once it printed more than
    `limit`, so reading the head of a huge one costs `limit` bytes, not its size. `(b"",
    False)` when git cannot show it (no such blob). Raises `GitError` when git cannot run or
    takes longer than `time_limit` seconds."""
    done = await _spawn(repo, ("cat-file", "blob", oid), time_limit, None, limit)
    if done.overflow:
        return done.stdout, False
    if done.returncode != 0:
        return b"", False
    return done.stdout, True


async def _spawn(
    repo: Path,
    args: tuple[str, ...],
    time_limit: float,
    env: Mapping[str, str] | None,
    max_output: int,
    stall: float | None = None,
) -> ProcessOutcome:
    """One git process, stopped past `max_output` bytes of stdout (the outcome says so);
    `GitError` when it cannot start, times out, or prints nothing for `stall` seconds."""
    full_env = {**os.environ, **GIT_ENV, **(env or {})}
    GIT_PROCESSES.started += 1
    try:
        # No sweep: git's detached `gc --auto` (and a credential cache) must outlive the call.
        done = await run_process(
            ["git", "-C", str(repo), *hooks_options(args), *args],
            env=full_env,
            timeout=time_limit,
            grace=GIT_GRACE,
            max_output=max_output,
            stderr_limit=GIT_STDERR_KEPT,
            sweep=False,
            stall=stall,
        )
    except RunnerError as exc:
        raise GitError(f"cannot run git: {exc}") from exc
    if done.stalled:
        last = without_progress(done.stderr_tail).strip().splitlines()[-1:]
        raise GitError(
            f"git {' '.join(args)} showed no progress for {stall:g} s and was stopped"
            + (f"; it last said: {last[0]}" if last else "")
        )
    if done.timed_out:
        raise GitError(f"git {' '.join(args)} timed out after {time_limit:g} s")
    return done


def without_progress(stderr: str) -> str:
    """`stderr` without the progress a transfer prints (`Counting objects: 50% (1/2)`, each
    update after a carriage return, `remote: Resolving deltas`, git-lfs' `Uploading LFS
    objects`): what is left is what went wrong."""
    if "\r" not in stderr and "objects" not in stderr and "deltas" not in stderr:
        return stderr
    kept = []
    for line in stderr.split("\n"):
        shown = line.rsplit("\r", 1)[-1]  # what a terminal shows of a line updated in place
        if not _PROGRESS_LINE.match(shown):
            kept.append(shown)
    return "\n".join(kept)
