"""Syncing a ledger with its remote: fetch, integrate, push. One pass: `sync_ledger`.

Integration never loses a local commit. Behind only: fast-forward. Ahead and behind: ox's
commits are rebased onto the remote. A session folder that is not one session on both sides
(two sessions of one name; ours that a teammate removed or moved) is first moved beside the
remote's in the local commits (`sync_moves`). A rebase conflict inside a session folder
(`sessions/<name>/`, which only ox writes) keeps both sides: the remote's folder stays where
it is and the local one is re-committed beside it as `sessions/<name>-<commit>/` (another
name when that one is taken). A conflict anywhere else (a teammate's edit to a file ox does
not own) cannot be settled by ox: the rebase is aborted, the ledger is left exactly as it
was, and `SyncPaused` says which files, until a person integrates the remote by hand; local
commits keep accumulating meanwhile. A local commit the remote lacks that this clone's
identity neither authored nor committed (a teammate's, taken off the remote by a forced push
after we fetched it) pauses the same way: ox never pushes it back; so does a commit of ours
that the remote held before and no longer has (a session scrubbed off it). Whatever else stops a
rebase (a timeout, a failed step) aborts it too: the ledger is never left half-way. A remote
that holds files in a cache (`.ox/cache/`, the original daemon's `.sageox/cache/`) or where
the ledger has an ignored file pauses as well: git would write them over the local
recordings, unasked.

Teammates' content stays as LFS pointers (`GIT_LFS_SKIP_SMUDGE=1`): a sync downloads no LFS
object. Pushing retries a rejected push (someone pushed first) after integrating again.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import trio

from ox_core.errors import LedgerBlockedError
from ox_core.fs import atomic_write, read_regular
from ox_core.ledger_setup import GITIGNORE_LINE, ORIGINAL_GITIGNORE_LINE
from ox_handler_session_finalize.git import DEFAULT_TIMEOUT, GitError, GitResult
from ox_handler_session_finalize.ledger import Ledger
from ox_handler_session_finalize.ledger_files import pin_session_attributes
from ox_handler_session_finalize.sync_moves import free_name, move_clashes

PUSH_ATTEMPTS = 4
INTEGRATE_TIMEOUT = DEFAULT_TIMEOUT
"""Seconds one git command of integrating (the rebase, each step of it) may take."""
_NO_SMUDGE = {"GIT_LFS_SKIP_SMUDGE": "1", "GIT_EDITOR": "true"}
_HASH_BATCH = 500
"""Paths a `git hash-object` is given at once (its command line stays short)."""

# Behind the remote, or another push won the race for the ref: integrate and retry.
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
AUTH_MARKERS = (
    "authentication failed",
    "could not read username",
    "could not read password",
    "permission denied",
    "access denied",
    "the requested url returned error: 403",
    "the requested url returned error: 401",
)
"""What git prints (lower case) when the remote refuses our credentials."""
_INVALID_PATH = re.compile(r"invalid path '([^\n]*)'")
"""What git prints for a path of a commit it never checks out (`.git` in it, any case)."""
_NO_BRANCH = ("couldn't find remote ref", "could not find remote ref")
_CACHES = (GITIGNORE_LINE.rstrip("/"), ORIGINAL_GITIGNORE_LINE.rstrip("/"))
"""Never committed: recordings live there, and the scan trusts them as this machine's own."""


class SyncPaused(LedgerBlockedError):
    """Integrating the remote needs a person: a conflict outside ox's session folders. The
    ledger was left as it was; the message says which files and what to do."""


@dataclass(frozen=True)
class SyncResult:
    """One pass: the remote (None: the ledger has none, nothing was done), commits `ahead`
    of and `behind` the remote afterwards, whether the remote was `integrated` (fetched and
    merged), how many commits were `pushed`, and the folders `kept_both` renamed to keep
    both sides of a conflict."""

    remote: str | None
    ahead: int = 0
    behind: int = 0
    integrated: bool = False
    pushed: int = 0
    kept_both: tuple[str, ...] = ()


async def sync_ledger(ledger: Ledger) -> SyncResult:
    """Fetch the remote, integrate it, push what is ahead.

    One sync at a time per ledger (`ledger.sync_lock`). The ledger lock (which publishing
    holds) is taken only to integrate: fetching and pushing, which wait on the network, never
    hold back a commit. The push sends the commit integrated under the lock, so a commit made
    meanwhile waits for the next pass.

    Raises `SyncPaused` (a conflict a person must resolve), `LedgerBlockedError` (the remote
    refuses: authentication, a protected branch; a merge is stopped half-way in the ledger)
    or `GitError` (the remote is unreachable, or anything else).
    """
    async with ledger.sync_lock:
        facts = await ledger.facts()
        remote, branch = facts.remote, facts.branch
        if remote is None:
            return SyncResult(remote=None)
        upstream = f"refs/remotes/{remote}/{branch}"
        kept: list[str] = []
        pushed = 0
        for attempt in range(PUSH_ATTEMPTS):
            if attempt:
                await trio.sleep(ledger.push_pause * attempt)
            has_upstream = await _fetch(ledger, remote, branch, upstream)
            async with ledger.lock:
                await _recover_killed_rebase(ledger)
                await ledger.ensure_unblocked()
                tip = await ledger.head()
                if not tip:
                    # No commit yet (an empty clone whose first commit waits for a git
                    # identity): nothing to push (an empty source deletes the remote's
                    # branch), nothing to count or rebase; the first commit's pass does.
                    return SyncResult(remote)
                ahead, behind = await counts(ledger, upstream) if has_upstream else (-1, 0)
                if ahead > 0:
                    ahead_commits = await _refuse_foreign(ledger, upstream, facts.identity)
                    await _refuse_removed(ledger, upstream, ahead_commits)
                elif not has_upstream:
                    # No such branch on the remote (an empty team repository, or one whose
                    # branch was deleted or renamed): the push sends the whole history.
                    await _refuse_foreign(ledger, upstream, facts.identity, whole=True)
                if behind:
                    # Local and short: never left half-way by a shutdown (a stopped rebase
                    # would block the ledger until a person aborted it).
                    with trio.CancelScope(shield=True):
                        kept += await _integrate(ledger, upstream, ahead)
                    ahead, behind = await counts(ledger, upstream)
                    tip = await ledger.head()
            if ahead == 0:
                return SyncResult(remote, 0, behind, True, pushed, tuple(kept))
            # git-lfs' pre-push hook uploads too: to the ledger's own endpoint (`lfs_pin`), by
            # the facts as they are now (what was just integrated may have changed `.lfsconfig`).
            # Pinned and checked even when `lfs` says no: a nested `.gitattributes` routes files
            # through LFS where the top one does not (`LedgerFacts.check_push`).
            facts = await ledger.facts()
            facts.check_push()
            result = await ledger.transfer(
                *facts.lfs_pin,
                *facts.push_hooks,
                "push",
                "--porcelain",
                "--progress",
                remote,
                f"{tip}:refs/heads/{branch}",
            )
            if result.ok:
                pushed += max(ahead, 1)
                return SyncResult(remote, 0, 0, True, pushed, tuple(kept))
            _classify_push(remote, result)
        # What the remote last said: a rejection that lasts (a server's stale ref lock) is
        # a person's to fix, and `status` must say what it is.
        raise GitError(
            f"push to {remote} still rejected after {PUSH_ATTEMPTS} attempts: {result.failure()}",
            returncode=result.returncode,
            stderr=result.stderr,
        )


async def _refuse_foreign(
    ledger: Ledger, upstream: str, identity: str, *, whole: bool = False
) -> list[str]:
    """`SyncPaused` when a local commit the remote lacks is neither authored nor committed by
    this clone's identity: a teammate's commit, fetched, then taken off the remote by their
    forced push (a leaked secret scrubbed). Pushed, or rebased and pushed, it would be back
    on the remote, published by ox, which never made it. A person decides. Names are read
    without `.mailmap` (a committed file: it could make a teammate's commit look ours).
    With `whole` the remote has no branch at all (deleted or renamed after we fetched it):
    every commit of HEAD would be pushed, and is checked. Returns the commits checked (full
    ids, newest first)."""
    listed = await ledger.git(
        "log",
        "-z",
        "--no-mailmap",
        "--format=%H%x1f%h%x1f%an <%ae>%x1f%cn <%ce>",
        "HEAD" if whole else f"{upstream}..HEAD",
    )
    foreign, checked = [], []
    for record in filter(None, listed.stdout.split("\0")):
        full, short, author, committer = [*record.split("\x1f"), "", "", ""][:4]
        checked.append(full)
        if identity not in (author, committer):
            foreign.append(short)
    if foreign:
        more = f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        shown = ", ".join(foreign[:5]) + more
        if whole:
            raise SyncPaused(
                f"publishing paused: the remote has no branch {upstream.split('/', 3)[-1]} "
                f"(deleted or renamed), and the ledger {ledger.path} holds commits of others "
                f"({shown}) that pushing it would put back there. Point the ledger at the "
                "team's branch, or push it yourself; sessions are committed locally meanwhile "
                "and pushed once it is resolved"
            )
        raise SyncPaused(
            f"publishing paused: the ledger {ledger.path} holds commits of others that the "
            f"remote no longer has ({shown}): someone removed them from it (a forced push). "
            f"Drop them (cd {ledger.path} && git rebase -i {upstream}) or push them yourself; "
            "sessions are committed locally meanwhile and pushed once it is resolved"
        )
    return checked


async def _refuse_removed(ledger: Ledger, upstream: str, ahead: list[str]) -> None:
    """`SyncPaused` when a local commit the remote lacks is one the remote held before (any
    earlier tip of `upstream`, by its reflog: ox's fetches and pushes move it): someone took
    it off with a forced push, a leaked secret scrubbed from a session of ours as well as a
    teammate's file. Rebased and pushed it would be back on the remote. A person decides;
    the commit stays in the ledger meanwhile. `ahead`: the local commits the remote lacks
    (`_refuse_foreign` listed them)."""
    logged = await ledger.git("reflog", "show", "--format=%H", upstream, "--", check=False)
    tips = sorted(set(filter(None, logged.stdout.split())))
    if not logged.ok or not tips:
        return
    removed = await ledger.git("rev-list", *tips, "--not", upstream, "--")
    held = set(removed.stdout.split())
    back = [commit[:12] for commit in ahead if commit in held]
    if back:
        more = f" and {len(back) - 5} more" if len(back) > 5 else ""
        raise SyncPaused(
            f"publishing paused: the ledger {ledger.path} holds commits that the remote "
            f"held and no longer has ({', '.join(back[:5])}{more}): someone removed them from "
            f"it (a forced push). Drop them (cd {ledger.path} && git rebase -i {upstream}) or "
            "push them yourself; sessions are committed locally meanwhile and pushed once it "
            "is resolved"
        )


async def _fetch(ledger: Ledger, remote: str, branch: str, upstream: str) -> bool:
    """Fetch the branch into its remote-tracking ref; False when the remote has no such
    branch yet (an empty team repository: the first push creates it)."""
    result = await ledger.transfer(
        "fetch", "--progress", "--no-tags", remote, f"+refs/heads/{branch}:{upstream}"
    )
    if result.ok:
        return True
    text = result.stderr.lower()
    if any(marker in text for marker in _NO_BRANCH):
        return False
    if any(marker in text for marker in AUTH_MARKERS):
        raise LedgerBlockedError(f"fetching from {remote} refused: {result.failure()}")
    raise GitError(result.failure(), returncode=result.returncode, stderr=result.stderr)


async def counts(ledger: Ledger, upstream: str) -> tuple[int, int]:
    """(commits of HEAD not in `upstream`, commits of `upstream` not in HEAD)."""
    result = await ledger.git("rev-list", "--left-right", "--count", f"HEAD...{upstream}")
    ahead, behind = result.stdout.split()
    return int(ahead), int(behind)


def _classify_push(remote: str, result: GitResult) -> None:
    """Raise for a push failure that retrying cannot fix; return for a rejected one."""
    text = (result.stdout + result.stderr).lower()
    if any(marker in text for marker in AUTH_MARKERS):
        raise LedgerBlockedError(f"push to {remote} refused: {result.failure()}")
    # git's own verdict on the ref (a `--porcelain` line "!\t<ref>\t[...] (reason)") decides
    # when there is one, never the remote's words: a hook refusing "non-fast-forward history"
    # lost no race, and would be pushed to again and again.
    verdict = [line for line in result.stdout.lower().splitlines() if line.startswith("!")]
    text = "\n".join(verdict) or text
    if any(marker in text for marker in _REJECTED):
        return  # lost a race (a ref lock, someone pushed first): integrate and retry
    if any(marker in text for marker in _REFUSED):
        raise LedgerBlockedError(f"push to {remote} refused: {result.failure()}")
    raise GitError(result.failure(), returncode=result.returncode, stderr=result.stderr)


async def _integrate(ledger: Ledger, upstream: str, ahead: int) -> list[str]:
    """Bring the remote's commits in: fast-forward, or rebase the local commits onto them.
    Returns the folders re-committed to keep both sides of a session conflict. A path git
    refuses to check out (`.git` in it, whatever its case) is a `SyncPaused` naming it: only
    its removal from the remote lets any sync through."""
    try:
        return await _integrate_steps(ledger, upstream, ahead)
    except GitError as exc:
        refused = _INVALID_PATH.search(exc.stderr)
        if refused is None:
            raise
        raise SyncPaused(
            f"publishing paused: the remote holds {refused[1]!r}, a path git refuses to check "
            f"out; nothing was changed in the ledger {ledger.path}. Have it removed from the "
            "remote (a commit without it, pushed); sessions are committed locally meanwhile "
            "and pushed once it is resolved"
        ) from None


async def _integrate_steps(ledger: Ledger, upstream: str, ahead: int) -> list[str]:
    """`_integrate` but for the path git refuses."""
    await _refuse_overwrites(ledger, upstream)
    await _refuse_dirty(ledger, upstream)
    await _clear_leftovers(ledger, upstream)
    await trio.to_thread.run_sync(pin_session_attributes, await ledger.git_dir())
    if ahead <= 0:
        await ledger.git(
            "merge", "--ff-only", "-q", upstream, env=_NO_SMUDGE, time_limit=INTEGRATE_TIMEOUT
        )
        return []
    head = await ledger.head()
    # Killed (kill -9, power loss) before the rebase ends, the next start finds the mark and
    # undoes it (`_recover_killed_rebase`): nothing in the daemon can catch that.
    mark = await ledger.git_dir() / _REBASE_MARK
    await trio.to_thread.run_sync(_write_mark, mark, head, head)
    try:
        moved: list[str] = []
        if planned := await move_clashes(ledger, upstream):
            tip, moved = planned
            await trio.to_thread.run_sync(_write_mark, mark, head, tip)
            await _git_step(ledger, "reset", "-q", "--keep", tip, check=True)
        return moved + await _rebase(ledger, upstream)
    except BaseException:
        # Whatever stopped it (a conflict for a person, a timeout, a step that failed): a
        # rebase left half-way would block every publish until someone aborted it, and the
        # commits `move_clashes` rewrote go back to what they were.
        await _git_step(ledger, "rebase", "--abort")
        if await ledger.head() != head:
            await _git_step(ledger, "reset", "-q", "--keep", head)
        raise
    finally:
        await trio.to_thread.run_sync(lambda: mark.unlink(missing_ok=True))


_REBASE_MARK = "ox-rebase"
"""In the git dir while the sync rebases: the head before it and the commit it rebases."""


def _write_mark(mark: Path, head: str, tip: str) -> None:
    # Never through a link; no fsync: after a power cut without it, the rebase it describes
    # is left for a person, as before.
    atomic_write(mark, f"{head}\n{tip}\n", fsync_file=False, fsync_folder=False)


async def _recover_killed_rebase(ledger: Ledger) -> None:
    """Undo the rebase of a sync that was killed half-way (its mark is there and the stopped
    rebase is the one it started): aborted, the ledger back at the head before it, as a
    failed integration leaves it. A rebase a person started is never touched."""
    git_dir = await ledger.git_dir()
    mark = git_dir / _REBASE_MARK
    try:
        head, tip = (await trio.to_thread.run_sync(read_regular, mark, 256)).decode().split()[:2]
    except (OSError, ValueError):
        return
    try:
        started = read_regular(git_dir / "rebase-merge" / "orig-head", 256).decode().strip()
    except (OSError, UnicodeDecodeError):
        started = ""
    if started and started in (head, tip):
        with trio.CancelScope(shield=True):
            await _git_step(ledger, "rebase", "--abort", check=True)
            if await ledger.head() != head:
                await _git_step(ledger, "reset", "-q", "--keep", head, check=True)
    await trio.to_thread.run_sync(lambda: mark.unlink(missing_ok=True))


async def _rebase(ledger: Ledger, upstream: str) -> list[str]:
    """Rebase onto `upstream`, keeping both sides of each session conflict; raises (the
    caller aborts) on a conflict elsewhere or any failure."""
    result = await _git_step(ledger, "rebase", "-q", "--autostash", upstream)
    kept: list[str] = []
    while not result.ok:
        conflicts = await _conflicted(ledger)
        if not conflicts:
            raise GitError(result.failure(), returncode=result.returncode, stderr=result.stderr)
        outside = sorted(p for p in conflicts if _session_of(p) is None)
        if outside:
            raise SyncPaused(_paused_message(ledger, upstream, outside))
        for name in sorted({n for p in conflicts if (n := _session_of(p)) is not None}):
            kept.append(await _keep_both(ledger, name))
        result = await _git_step(ledger, "rebase", "--continue")
    return kept


async def _git_step(ledger: Ledger, *args: str, check: bool = False) -> GitResult:
    return await ledger.git(*args, env=_NO_SMUDGE, check=check, time_limit=INTEGRATE_TIMEOUT)


async def _refuse_overwrites(ledger: Ledger, upstream: str) -> None:
    """`SyncPaused` when checking `upstream` out would write a path in a cache or over (or
    under) an ignored file of the work tree. Git counts ignored files expendable and replaces
    them silently: a teammate's commit would overwrite a live recording, or plant one (with a
    marker naming files to read) that the scan takes for this machine's own. Also when a path
    is too long to be written at all (`_too_long`)."""
    changed = await ledger.git("diff", "--name-only", "--no-renames", "-z", "HEAD", upstream)
    paths = [p for p in changed.stdout.split("\0") if p]
    if not paths:
        return
    if long := await trio.to_thread.run_sync(_too_long, ledger.path, paths):
        shown = ", ".join(repr(_cut(p)) for p in long[:3])
        more = f" and {len(long) - 3} more" if len(long) > 3 else ""
        raise SyncPaused(
            f"publishing paused: the remote holds {shown}{more}, a path too long for this file "
            f"system; nothing was changed in the ledger {ledger.path}. Have it removed from the "
            "remote (a commit without it, pushed); sessions are committed locally meanwhile and "
            "pushed once it is resolved"
        )
    ignored = await ledger.git(
        "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"
    )
    taken = {*_CACHES, *(p.rstrip("/") for p in ignored.stdout.split("\0") if p)}
    if hits := await trio.to_thread.run_sync(_over_taken, paths, taken):
        shown = ", ".join(hits[:5]) + (f" and {len(hits) - 5} more" if len(hits) > 5 else "")
        raise SyncPaused(
            f"publishing paused: the remote holds {shown}, in ox's cache or over a file the "
            f"ledger {ledger.path} ignores; nothing was changed. Remove them from the remote "
            "(git rm --cached, commit, push); sessions are committed locally meanwhile and "
            "pushed once it is resolved"
        )


async def _refuse_dirty(ledger: Ledger, upstream: str) -> None:
    """`SyncPaused` when the person's uncommitted changes (staged or not) touch a file that
    `upstream` changes: the rebase's `--autostash` could not put them back (git leaves them
    in the stash list and conflict markers in the file, and reports success), a fast-forward
    refuses. Their work is never stashed away nor mixed with the remote's: they decide."""
    dirty = await ledger.git("diff", "--name-only", "--no-renames", "-z", "HEAD")
    mine = set(filter(None, dirty.stdout.split("\0")))
    if not mine:
        return
    changed = await ledger.git("diff", "--name-only", "--no-renames", "-z", "HEAD", upstream)
    hits = sorted(mine & set(filter(None, changed.stdout.split("\0"))))
    if hits:
        # Already as `upstream` has them (a checkout cut short by its time limit): not theirs.
        differ = await ledger.git(
            "--literal-pathspecs", "diff", "--name-only", "--no-renames", "-z", upstream,
            "--", *hits,
        )  # fmt: skip
        hits = sorted(set(hits) & set(filter(None, differ.stdout.split("\0"))))
    if hits:
        shown = ", ".join(hits[:5]) + (f" and {len(hits) - 5} more" if len(hits) > 5 else "")
        raise SyncPaused(
            f"publishing paused: the remote changes {shown}, which you changed in the ledger "
            f"{ledger.path} without committing; nothing was changed. Commit or undo your "
            "changes; sessions are committed locally meanwhile and pushed once it is resolved"
        )


async def _clear_leftovers(ledger: Ledger, upstream: str) -> None:
    """Remove what an integration stopped half-way wrote (its time limit ran out checking a
    huge commit out): untracked files where `upstream` adds a file, holding exactly its
    content. Left there, git would refuse every later integration ('untracked working tree
    files would be overwritten') and the ledger would never sync again. A file that differs
    is someone's: it stays (and the error says where)."""
    untracked = await ledger.git("ls-files", "-z", "--others", "--exclude-standard")
    here = set(filter(None, untracked.stdout.split("\0")))
    if not here:
        return
    raw = await ledger.git("diff", "--raw", "--no-renames", "--no-abbrev", "-z", "HEAD", upstream)
    fields = raw.stdout.split("\0")
    wanted = {
        path: meta.split()[3]
        for meta, path in zip(fields[::2], fields[1::2], strict=False)
        if path in here and meta.split()[1] in ("100644", "100755")
    }
    paths = sorted(wanted)
    for start in range(0, len(paths), _HASH_BATCH):
        batch = paths[start : start + _HASH_BATCH]
        hashed = await ledger.git("hash-object", "--", *batch)
        same = [p for p, oid in zip(batch, hashed.stdout.split(), strict=False) if oid == wanted[p]]
        await trio.to_thread.run_sync(_remove_files, ledger.path, same)


def _remove_files(root: Path, paths: list[str]) -> None:
    """Unlink the regular files `paths` under `root` (a link or anything else stays). Blocking."""
    for rel in paths:
        with contextlib.suppress(OSError):
            if stat.S_ISREG(os.lstat(root / rel).st_mode):
                os.unlink(root / rel)


def _too_long(root: Path, paths: list[str]) -> list[str]:
    """The `paths` whose name (a folder's or the file's) is longer than the file system takes
    below `root`, or that are too long as a whole once under `root` (ox reads the work tree
    by such paths). Git's checkout of one fails half-way (ENAMETOOLONG): a fast-forward
    failed at every pass, and a rebase, stopped before it began, left ox's committed sessions
    deleted from the work tree. Blocking (a `pathconf`)."""
    try:
        name_max = os.pathconf(root, "PC_NAME_MAX")
        path_max = os.pathconf(root, "PC_PATH_MAX")
    except (OSError, ValueError):
        name_max, path_max = 255, 4096
    room = path_max - len(os.fsencode(root)) - 2  # the separator and the final NUL
    long = []
    for path in paths:
        data = path.encode()
        if len(data) > room or any(len(part) > name_max for part in data.split(b"/")):
            long.append(path)
    return long


def _cut(path: str, keep: int = 120) -> str:
    """`path` cut to `keep` characters (a path of thousands would fill a status line)."""
    return path if len(path) <= keep else f"{path[:keep]}..."


def _over_taken(paths: list[str], taken: set[str]) -> list[str]:
    """The `paths` that are one of `taken`, lie under one or above one, sorted: a set lookup
    a path and folder level (comparing each pair froze the daemon for 25 s on a teammate's
    commit of 200,000 files against 200 ignored ones). Blocking."""
    above = {a for t in taken for a in _folders_of(t)}
    return sorted(
        p for p in paths if p in taken or p in above or any(a in taken for a in _folders_of(p))
    )


def _folders_of(path: str) -> Iterator[str]:
    """The folders `path` lies in (`a`, `a/b` for `a/b/c`)."""
    end = path.find("/")
    while end != -1:
        yield path[:end]
        end = path.find("/", end + 1)


def _paused_message(ledger: Ledger, upstream: str, paths: list[str]) -> str:
    shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
    return (
        f"publishing paused: the remote's changes to {shown} conflict with local commits "
        f"of the ledger {ledger.path}; nothing was changed. Resolve by hand (cd {ledger.path}"
        f" && git rebase {upstream}, fix the files, git rebase --continue); sessions are "
        "committed locally meanwhile and pushed once it is resolved"
    )


async def _conflicted(ledger: Ledger) -> set[str]:
    result = await ledger.git("diff", "--name-only", "--diff-filter=U", "-z", check=False)
    return {p for p in result.stdout.split("\0") if p}


def _session_of(path: str) -> str | None:
    """The session name of a path inside a session folder (`sessions/<name>/<file>`)."""
    parts = path.split("/")
    if len(parts) == 3 and parts[0] == "sessions" and parts[1] and not parts[1].startswith("."):
        return parts[1]
    return None


async def _keep_both(ledger: Ledger, name: str) -> str:
    """During a stopped rebase: leave the remote's `sessions/<name>/` as it is and put the
    commit being replayed's version of it beside it, under a free name (`sync_moves.free_name`)."""
    rel = f"sessions/{name}"
    commit = (await ledger.git("rev-parse", "REBASE_HEAD")).stdout.strip()
    # Literal pathspecs (see `git`): `sessions/dev[1]` would also match `sessions/dev1`.
    literal = "--literal-pathspecs"
    theirs = await ledger.git(literal, "ls-tree", "-r", "-z", "REBASE_HEAD", "--", f"{rel}/")
    await ledger.git(literal, "rm", "-r", "-q", "--cached", "--ignore-unmatch", "--", rel)
    # The folder holds conflict markers and the replayed commit's files: back to HEAD's.
    folder = ledger.path / rel
    await trio.to_thread.run_sync(lambda: shutil.rmtree(folder, ignore_errors=True))
    await ledger.git(literal, "checkout", "-q", "HEAD", "--", rel, check=False, env=_NO_SMUDGE)
    other = await free_name(ledger, name, commit[:8], set(), longer=commit)
    for record in filter(None, theirs.stdout.split("\0")):
        meta, path = record.split("\t", 1)
        mode, _kind, blob = meta.split()
        target = f"sessions/{other}/{path[len(rel) + 1 :]}"
        await ledger.git("update-index", "--add", "--cacheinfo", f"{mode},{blob},{target}")
    await ledger.git(literal, "checkout", "-q", "--", f"sessions/{other}", env=_NO_SMUDGE)
    return other
