"""Moving a session folder of ours beside a teammate's before the sync's rebase
(`sync._integrate`), and the free names kept folders take.

A folder that is not one session on both sides: both sides changed `sessions/<name>` since
they parted, and it is new on both (two sessions of one name, or their file, link or gitlink
where our folder is) or one side deleted files from it (a teammate removed or moved ours).
Left to the rebase, a commit of ours that does not conflict there (a file their folder
lacks, a later commit adding a summary) lands in their folder, git's rename detection (which
`-X no-renames` does not turn off for a rebase's picks in git 2.39) merges our new lines into
a look-alike transcript of theirs, and a file where our folder is pauses every push. So the
local commits are rewritten first: in every one our version of such a folder is at
`sessions/<name>-<tag>/` and `sessions/<name>` is as the common ancestor has it; the rebase
then never writes into theirs.
"""

from __future__ import annotations

import os
import secrets

import trio

from ox_handler_session_finalize.git import GitError, GitResult
from ox_handler_session_finalize.ledger import Ledger
from ox_handler_session_finalize.ledger_files import beside


async def move_clashes(ledger: Ledger, upstream: str) -> tuple[str, list[str]] | None:
    """The local commits rewritten so that no session folder clashes with the remote's (see
    the module): the new tip and the folders ours went to; None when nothing clashes (or
    there is no common ancestor, or a merge among the local commits, which the rebase
    drops: it is left to the rebase). Only objects are written: the caller moves the ledger
    to the tip (the old commits stay in the reflog). Commits keep their authors, dates and
    messages."""
    found = await ledger.git("merge-base", "HEAD", upstream, check=False)
    base = found.stdout.strip()
    if not base:
        return None
    theirs = _changes(await ledger.git("diff", *_LISTED, base, upstream, "--", "sessions/"))
    ours = _changes(
        await ledger.git("log", "--format=", *_LISTED, f"{base}..HEAD", "--", "sessions/")
    )
    listed = {ref: await _entries(ledger, ref) for ref in (base, upstream, "HEAD")}
    clash = sorted(
        name
        for name in theirs.keys() & ours.keys()
        if listed[upstream].get(name) != listed["HEAD"].get(name)
        and (name not in listed[base] or "D" in theirs[name] | ours[name])
    )
    if not clash:
        return None
    merges = await ledger.git("rev-list", "--min-parents=2", "--count", f"{base}..HEAD")
    if int(merges.stdout) > 0:
        return None
    taken = {n for entries in listed.values() for n in entries}
    moves: dict[str, str] = {}
    for name in clash:
        moves[name] = await free_name(ledger, name, secrets.token_hex(4), taken)
        taken.add(moves[name])
    # The commits before the first that touches a moved folder stay as they are.
    paths = [f"sessions/{name}" for name in clash]
    touching = await ledger.git(
        "--literal-pathspecs", "rev-list", "--reverse", f"{base}..HEAD", "--", *paths
    )
    first = touching.stdout.split()[0]
    tip = await _rewrite(ledger, base, f"{first}^", moves)
    return tip, list(moves.values())


_LISTED = ("--name-status", "--no-renames", "-z")


def _changes(result: GitResult) -> dict[str, set[str]]:
    """name -> the change letters (`A`, `M`, `D`, ...) under `sessions/<name>` of a
    `--name-status -z` listing."""
    fields = [f for f in result.stdout.split("\0") if f]
    changes: dict[str, set[str]] = {}
    for status, path in zip(fields[::2], fields[1::2], strict=False):
        parts = path.split("/")
        if len(parts) >= 2 and parts[0] == "sessions" and parts[1] and parts[1][0] != ".":
            changes.setdefault(parts[1], set()).add(status[:1])
    return changes


async def _entries(ledger: Ledger, ref: str) -> dict[str, str]:
    """name -> object of each entry of `ref`'s `sessions/`."""
    listed = await ledger.git("ls-tree", "-z", ref, "--", "sessions/")
    entries: dict[str, str] = {}
    for record in filter(None, listed.stdout.split("\0")):
        meta, path = record.split("\t", 1)
        entries[path.removeprefix("sessions/")] = meta.split()[2]
    return entries


async def _rewrite(ledger: Ledger, base: str, start: str, moves: dict[str, str]) -> str:
    """The commits after `start` again, each with `sessions/<name>` as `base` has it and its
    own version at `sessions/<moves[name]>`; the new tip."""
    log = await ledger.git(
        "log", "--reverse", "-z", "--date=raw",
        "--format=%H%x1f%an%x1f%ae%x1f%ad%x1f%cn%x1f%ce%x1f%cd%x1f%B",
        f"{start}..HEAD",
    )  # fmt: skip
    index = await ledger.git_dir() / "ox-sync-index"
    env = {"GIT_INDEX_FILE": str(index)}
    parent = (await ledger.git("rev-parse", start)).stdout.strip()
    try:
        for record in filter(None, log.stdout.split("\0")):
            commit, an, ae, ad, cn, ce, cd, message = record.split("\x1f", 7)
            await ledger.git("read-tree", commit, env=env)
            for name, other in moves.items():
                rel = f"sessions/{name}"
                # Literal (see `git`): `sessions/dev[1]` would also drop `sessions/dev1`.
                await ledger.git(
                    "--literal-pathspecs", "rm", "-r", "-q", "-f", "--cached", "--ignore-unmatch",
                    "--", rel, env=env,
                )  # fmt: skip
                await _graft(ledger, env, base, rel, rel)
                await _graft(ledger, env, commit, rel, f"sessions/{other}")
            tree = (await ledger.git("write-tree", env=env)).stdout.strip()
            who = {
                "GIT_AUTHOR_NAME": an, "GIT_AUTHOR_EMAIL": ae, "GIT_AUTHOR_DATE": ad,
                "GIT_COMMITTER_NAME": cn, "GIT_COMMITTER_EMAIL": ce, "GIT_COMMITTER_DATE": cd,
            }  # fmt: skip
            made = await ledger.git(
                "commit-tree", tree, "-p", parent, "-m", message.rstrip(), env={**env, **who}
            )
            parent = made.stdout.strip()
    finally:
        await trio.to_thread.run_sync(lambda: index.unlink(missing_ok=True))
    return parent


async def _graft(ledger: Ledger, env: dict[str, str], commit: str, path: str, rel: str) -> None:
    """Put `path` of `commit` (a folder or a file) at `rel` of the private index; nothing
    when `commit` has none."""
    listed = await ledger.git("--literal-pathspecs", "ls-tree", "-z", commit, "--", path)
    for record in filter(None, listed.stdout.split("\0")):
        mode, kind, oid = record.split("\t", 1)[0].split()
        if kind == "tree":
            await ledger.git("read-tree", f"--prefix={rel}/", oid, env=env)
        else:
            await ledger.git("update-index", "--add", "--cacheinfo", f"{mode},{oid},{rel}", env=env)


async def free_name(
    ledger: Ledger, name: str, tag: str, taken: set[str], *, longer: str = ""
) -> str:
    """`<name>-<tag>` (`ledger_files.beside`, the rule a first publish follows too), `longer`
    tags, then random ones, until neither `taken`, the index nor the work tree holds it: a
    teammate who saw a commit of ours (pushed, then dropped by their forced push) can plant
    a folder of the name it would be kept as, which our files would be mixed into."""
    tags = [tag, longer[:16], longer, *(secrets.token_hex(8) for _ in range(4))]
    for candidate in filter(None, tags):
        other = beside(name, candidate)
        rel = f"sessions/{other}"
        held = await ledger.git("--literal-pathspecs", "ls-files", "-z", "--", rel)
        there = await trio.to_thread.run_sync(os.path.lexists, ledger.path / rel)
        if other not in taken and not held.stdout and not there:
            return other
    raise GitError(f"no free folder name beside {name} to keep both sessions")
