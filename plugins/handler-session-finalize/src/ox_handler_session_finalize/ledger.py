"""The ledger's git repository: committing finished sessions, in batches, and its state.

Git runs through `git.run_git` (see there: environment, process group, timeouts). Changes to a
ledger run under one `trio.Lock` per ledger, which the daemon may share (`Ledger(path, lock)`).

Publishing ends with a local commit; pushing is the sync's job (`sync.sync_ledger`, run by the
handler's sync service), so a remote that is away never fails or holds back a session.
Sessions that are ready at the same time are committed together: every `publish` call waiting
for the lock joins the batch of the one holding it (one conflict check, one `git add`, one
commit per batch). What the ledger is (its git dir, remote, branch, whether it uses LFS, the
git identity) is learnt once and cached until a config file git reads (the ledger's, the
user's global one), `HEAD`, `.lfsconfig` or `.gitattributes` change (`LedgerFacts`).

Git-LFS: the ledger uses LFS when `git lfs` is installed and the ledger configures an LFS
endpoint (`lfs.url` in `.git/config` or `.lfsconfig`) or its `.gitattributes` already routes
files through `filter=lfs`. Content files are then uploaded to the LFS server *before* the
commit; when that upload fails nothing is committed and `LfsUploadError` is raised, so the
cache copy stays the one a later scan finds again. A committed `.lfsconfig` never decides where
sessions go (`lfs_endpoint`): uploads are pinned to the endpoint of the clone's git config,
and without one an endpoint only `.lfsconfig` names pauses publishing until a person names it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import trio

from ox_core.errors import LedgerBlockedError
from ox_core.fs import UnsafePathError, read_regular
from ox_core.ledger_setup import NO_HOOKS
from ox_handler_session_finalize import git as git_mod
from ox_handler_session_finalize import lfs_endpoint
from ox_handler_session_finalize.git import DEFAULT_TIMEOUT, GitResult, has_git_lfs, run_git
from ox_handler_session_finalize.ledger_files import (
    LfsUploadError,
    add_all,
    commit_message,
    pin_session_attributes,
    prepare_lfs,
    read_attributes,
    restore_paths,
    upload_lfs,
    write_folders,
)
from ox_handler_session_finalize.ledger_names import choose_folders
from ox_handler_session_finalize.ledger_state import (
    KnownState,
    head_stamp,
    index_stamp,
    stamps,
)
from ox_handler_session_finalize.stale_lock import remove_stale_index_lock

__all__ = ["PUSH_PAUSE", "Ledger", "LedgerFacts", "LfsUploadError", "PublishResult"]

log = logging.getLogger(__name__)

PUSH_PAUSE = 1.0
_LFS_FILTER = r"^filter\.lfs\.(clean|process)$"
NO_IDENTITY = (
    "git has no identity to commit to the ledger with: set one (`git config --global "
    "user.name 'Your Name'` and `git config --global user.email you@example.com`) or set "
    '`author = "Your Name <you@example.com>"` in [handlers.session-finalize]'
)


_HALF_WAY = ("rebase-merge", "rebase-apply", "MERGE_HEAD")
"""Files in the git dir while a rebase or merge is stopped half-way."""


@dataclass(frozen=True)
class PublishResult:
    """What `Ledger.publish` did: `committed` a new commit, `pushed` to the remote (set by
    the caller once a sync pushed it), `lfs` whether content went through git-LFS, `name`
    the folder it published to (`sessions/<name>/`: the name asked for, or one beside a
    teammate's folder of that name)."""

    committed: bool
    pushed: bool
    lfs: bool
    name: str = ""


@dataclass(frozen=True)
class LedgerFacts:
    """What a ledger is, learnt once (see the module): its git dir, the remote to push to
    (None: no remote), the branch, whether content goes through LFS, and whether git has an
    identity to commit with (`identity` is what git would use, empty when it has none)."""

    git_dir: Path
    remote: str | None
    branch: str
    lfs: bool
    identity: str
    commit_env: tuple[tuple[str, str], ...] = ()
    lfs_push_url: str = ""
    """Where uploads go by the ledger's git config (empty: it names none); see the module."""
    lfs_fetch_url: str = ""
    """Where downloads come from by the ledger's git config: its `lfs.url`, else the remote's
    `lfsurl`, else `lfs_push_url` (where ox sends sessions); empty when it names none."""
    lfs_refusal: str = ""
    """Why publishing through LFS pauses (`lfs_endpoint.refusal`), empty when it need not."""
    detached: bool = False
    """HEAD names a commit, not a branch (someone checked one out to look at it)."""
    lfs_filters: bool = False
    """git-lfs' filter is set up (by `git lfs install`, here or globally): a commit of this
    clone can hold LFS pointers, whose objects its pushes upload (`push_hooks`)."""
    attributes_refusal: str = ""
    """Why `.gitattributes` is not read (a link, a folder, over the size read), empty when it
    is; `lfs` is False then. Publishing pauses on it (`check_lfs`), the sync does not: were
    learning the facts to fail, no sync would ever fetch the commit that repairs the file."""

    @property
    def push_hooks(self) -> tuple[str, ...]:
        """The hooks options of a push: git-lfs' upload when a commit of this clone can hold
        LFS pointers, no hook at all otherwise (git-lfs' pre-push reads every object a push
        sends, for nothing)."""
        return () if self.lfs_filters else NO_HOOKS

    @property
    def lfs_pin(self) -> tuple[str, ...]:
        """The `git` options that send LFS uploads to `lfs_push_url` whatever `.lfsconfig` says."""
        return ("-c", f"lfs.pushurl={self.lfs_push_url}") if self.lfs_push_url else ()

    @property
    def smudge_options(self) -> tuple[str, ...]:
        """The `git` options of a checkout that smudges LFS pointers (the undo of a failed
        publish): objects this clone lacks come from `lfs_fetch_url`, and one that cannot be
        had is left a pointer (as a sync leaves a teammate's) rather than failing the undo.
        Without them git-lfs downloads from the `lfs.url` of a teammate's `.lfsconfig`
        whenever the git config names no `lfs.url` (only `lfs.pushurl`, or the remote's
        `lfsurl`, which `lfs.url` outranks): this machine would ask the teammate's server, with
        its credentials for that host, for the object ids the teammate committed."""
        if not self.lfs_fetch_url:
            return ()
        return ("-c", f"lfs.url={self.lfs_fetch_url}", "-c", "lfs.skipdownloaderrors=true")

    @property
    def smudge_env(self) -> dict[str, str]:
        """The environment of that checkout: no LFS download at all when the git config names
        no endpoint and `.lfsconfig` would choose one (`lfs_refusal`)."""
        if self.lfs_fetch_url or not self.lfs_refusal:
            return {}
        return {"GIT_LFS_SKIP_SMUDGE": "1"}

    def check_lfs(self) -> None:
        """Raise `LedgerBlockedError` when content would go through LFS and `.lfsconfig`
        makes that pause (see `lfs_endpoint`), or when `.gitattributes`, which says whether
        it goes, is not read (`attributes_refusal`); nothing is lost meanwhile."""
        if self.attributes_refusal:
            raise LedgerBlockedError(self.attributes_refusal)
        if self.lfs and self.lfs_refusal:
            raise LedgerBlockedError(self.lfs_refusal)

    def check_branch(self, ledger: Path) -> None:
        """Raise `LedgerBlockedError` when HEAD is detached: a session committed there is on
        no branch, and the checkout that ends the detour walks away from it (and from the
        cache copy, gone once committed) unless it was pushed first."""
        if self.detached:
            raise LedgerBlockedError(
                f"the ledger {ledger} is not on a branch (its HEAD is a detached commit); ox "
                f"commits sessions onto a branch only: go back to it (cd {ledger} && git "
                f"checkout {self.branch}); sessions wait in the cache meanwhile"
            )

    def check_push(self) -> None:
        """`check_lfs` for a push, whatever `lfs` says: git-lfs' pre-push hook uploads every
        LFS object the pushed commits name, and a `.gitattributes` below the top one (a
        teammate's `sessions/.gitattributes`) routes session files through LFS where `lfs`,
        read from the top one, sees none. So wherever git-lfs is installed a push pauses on
        the same `.lfsconfig` a publish through LFS does."""
        if self.lfs_refusal and (self.lfs or has_git_lfs()):
            raise LedgerBlockedError(self.lfs_refusal)


def _config_files(git_dir: Path) -> list[Path]:
    """The config files git reads the facts from (`git help config`): the repository's (a
    linked worktree's is in the common git dir its `commondir` names), the user's global
    ones (where the missing-identity message says to set one) and the system's. Blocking."""
    files = [git_dir / "config"]
    with contextlib.suppress(OSError, UnsafePathError):
        common = os.fsdecode(read_regular(git_dir / "commondir", 4096)).strip()
        if common:
            files.append(Path(os.path.normpath(git_dir / common)) / "config")
    home = Path(os.environ["HOME"]) if os.environ.get("HOME") else None
    if global_file := os.environ.get("GIT_CONFIG_GLOBAL"):
        files.append(Path(global_file))
    elif home is not None:
        xdg = os.environ.get("XDG_CONFIG_HOME") or str(home / ".config")
        files += [Path(xdg) / "git" / "config", home / ".gitconfig"]
    files.append(Path(os.environ.get("GIT_CONFIG_SYSTEM") or "/etc/gitconfig"))
    return files


@dataclass
class _Request:
    name: str
    files: Mapping[str, bytes]
    replace: bool = False
    folder: str = ""
    """The folder name it is published as (`ledger_names.choose_folders`)."""
    result: PublishResult | None = None
    error: BaseException | None = None

    @property
    def done(self) -> bool:
        return self.result is not None or self.error is not None


@dataclass
class _FactsCache:
    git_dir: Path | None = None
    stamp: tuple[object, ...] = ()
    facts: LedgerFacts | None = None
    pending: list[_Request] = field(default_factory=list)


class Ledger:
    """One ledger repository. Methods are async and never block the trio loop on git.

    `lock` serialises every change to the repository; pass the daemon's lock to share it.
    `sync_lock` serialises syncs (which hold `lock` only while integrating).
    `author` (`Name <email>`) is the identity to commit with when git has none.
    """

    def __init__(self, path: Path, lock: trio.Lock | None = None, *, author: str = "") -> None:
        self.path = path
        self.lock = lock if lock is not None else trio.Lock()
        # One sync at a time (see `sync.sync_ledger`); it takes `lock` only to integrate.
        self.sync_lock = trio.Lock()
        self.push_pause = PUSH_PAUSE
        self.author = author
        self._cache = _FactsCache()
        self._known = KnownState()

    async def git(
        self,
        *args: str,
        time_limit: float = DEFAULT_TIMEOUT,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        stall: float | None = None,
    ) -> GitResult:
        """`run_git` in this ledger (see there for errors and cancellation)."""
        return await run_git(
            self.path, *args, time_limit=time_limit, check=check, env=env, stall=stall
        )

    async def transfer(self, *args: str) -> GitResult:
        """A fetch, push or LFS upload: it shows its progress, runs as long as that moves (up
        to `TRANSFER_LIMIT`) and is stopped after `TRANSFER_STALL` seconds without any;
        never raises for the exit code (`check=False`)."""
        return await self.git(
            *args,
            time_limit=git_mod.TRANSFER_LIMIT,
            stall=git_mod.TRANSFER_STALL,
            env=git_mod.TRANSFER_ENV,
            check=False,
        )

    # ------------------------------------------------------------ facts

    async def git_dir(self) -> Path:
        """The repository's git dir (asked once: it never moves under a running daemon)."""
        if self._cache.git_dir is None:
            result = await self.git("rev-parse", "--absolute-git-dir", check=False)
            if not result.ok:
                raise LedgerBlockedError(f"the ledger {self.path} is not a git repository")
            self._cache.git_dir = Path(result.stdout.strip())
        return self._cache.git_dir

    def _stamp(self, git_dir: Path) -> tuple[object, ...]:
        stamp: list[object] = [self.author]
        # The config files git reads followed through links, as git does (a dotfiles
        # manager's `~/.gitconfig` is one); the work tree's files as they are.
        for path, follow in (
            *((config, True) for config in _config_files(git_dir)),
            (git_dir / "HEAD", False),
            (self.path / ".lfsconfig", False),
            (self.path / ".gitattributes", False),
        ):
            try:
                st = os.stat(path, follow_symlinks=follow)
            except OSError:
                stamp.append(None)
                continue
            stamp.append((st.st_ino, st.st_mtime_ns, st.st_size))
        return tuple(stamp)

    async def facts(self) -> LedgerFacts:
        """The cached `LedgerFacts`, learnt again when the ledger's config changed."""
        git_dir = await self.git_dir()
        stamp = await trio.to_thread.run_sync(self._stamp, git_dir)
        cached = self._cache.facts
        if cached is not None and stamp == self._cache.stamp:
            return cached
        # Before anything is added or checked out under what a `.gitattributes` says. Where
        # it cannot be written, the sync pauses on it (`sync._integrate`): facts do not.
        try:
            await trio.to_thread.run_sync(pin_session_attributes, git_dir)
        except LedgerBlockedError as exc:
            log.warning("%s", exc)
        names = (await self.git("remote", check=False)).stdout.split()
        remote = ("origin" if "origin" in names else names[0]) if names else None
        head = await self.git("symbolic-ref", "--short", "-q", "HEAD", check=False)
        # git config wins; the `author` option only stands in when git has no identity.
        ident = await self.git("var", "GIT_COMMITTER_IDENT", check=False)
        env = {} if ident.ok else self._author_env()
        if ident.ok:
            identity = ident.stdout.strip().rsplit(">", 1)[0] + ">"
        elif env:
            identity = f"{env['GIT_AUTHOR_NAME']} <{env['GIT_AUTHOR_EMAIL']}>"
        else:
            identity = ""
        urls, lfs_filters = await self._lfs_urls()
        lfsconfig = await self._lfsconfig()
        try:
            lfs, attributes_refusal = await self._uses_lfs(urls, lfsconfig), ""
        except LedgerBlockedError as exc:  # a teammate's link, folder or huge file
            lfs, attributes_refusal = False, str(exc)
        facts = LedgerFacts(
            git_dir=git_dir,
            remote=remote,
            branch=head.stdout.strip() or "main",
            lfs=lfs,
            identity=identity,
            commit_env=tuple(sorted(env.items())),
            lfs_push_url=lfs_endpoint.push_url(urls, remote),
            lfs_fetch_url=lfs_endpoint.fetch_url(urls, remote),
            lfs_refusal=lfs_endpoint.refusal(str(self.path), urls, lfsconfig, remote),
            detached=head.returncode == 1,  # 1: not a symbolic ref; 128: no repository
            lfs_filters=lfs_filters,
            attributes_refusal=attributes_refusal,
        )
        self._cache.facts, self._cache.stamp = facts, stamp
        return facts

    def _author_env(self) -> dict[str, str]:
        """The identity of the `author` option (`Name <email>`) as git's environment."""
        name, _, email = self.author.partition("<")
        name, email = name.strip(), email.rstrip("> ").strip()
        if not name or not email:
            return {}
        return {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }

    async def commit_env(self) -> dict[str, str]:
        """The environment a commit needs (the `author` option's identity when git config
        has none); `LedgerBlockedError` when neither gives one (nothing is lost: the session
        stays in the cache and is published once an identity is set)."""
        facts = await self.facts()
        if not facts.identity:
            raise LedgerBlockedError(NO_IDENTITY)
        return dict(facts.commit_env)

    async def remote(self) -> str | None:
        """The remote to push to (`origin`, else the first one), None without a remote."""
        return (await self.facts()).remote

    async def uses_lfs(self) -> bool:
        """Whether content files go through git-LFS (see the module docstring);
        `LedgerBlockedError` when `.gitattributes`, which says so, is not read."""
        facts = await self.facts()
        if facts.attributes_refusal:
            raise LedgerBlockedError(facts.attributes_refusal)
        return facts.lfs

    async def _lfs_urls(self) -> tuple[dict[str, str], bool]:
        """The LFS endpoints the ledger's git config names (`lfs.url`, `lfs.pushurl`, the
        remotes' `lfsurl` and `lfspushurl`), by lower-case key (`git config` never reads
        `.lfsconfig`), and whether it sets git-lfs' filter up. One git process."""
        pattern = f"{lfs_endpoint.ENDPOINT_KEYS}|{_LFS_FILTER}"
        result = await self.git("config", "-z", "--get-regexp", pattern, check=False)
        found = lfs_endpoint.config_values(result.stdout)
        filters = [key for key in found if re.match(_LFS_FILTER, key)]
        for key in filters:
            del found[key]
        return found, bool(filters)

    async def _lfsconfig(self) -> dict[str, str]:
        """The keys of the work tree's `.lfsconfig` (`lfs_endpoint.config_values`): empty
        without one, `{lfs_endpoint.UNREAD: ""}` for a link, a special file or one git cannot
        parse. One git process, only when the file is there. (git-lfs falls back to the
        index's copy when the work tree has none: only a person's own deletion does that.)"""
        try:
            st = os.lstat(self.path / ".lfsconfig")
        except FileNotFoundError:
            return {}
        except OSError:
            return {lfs_endpoint.UNREAD: ""}
        if not stat.S_ISREG(st.st_mode):
            return {lfs_endpoint.UNREAD: ""}
        result = await self.git("config", "-z", "-f", ".lfsconfig", "--list", check=False)
        return lfs_endpoint.config_values(result.stdout) if result.ok else {lfs_endpoint.UNREAD: ""}

    async def _uses_lfs(self, urls: Mapping[str, str], lfsconfig: Mapping[str, str]) -> bool:
        """Whether content files go through git-LFS: an `lfs.url` in the git config (`urls`)
        or in `.lfsconfig`, or `filter=lfs` in `.gitattributes`. `LedgerBlockedError` when
        `.gitattributes` is not read (`read_attributes`)."""
        if urls.get("lfs.url") or lfsconfig.get("lfs.url"):
            return True
        with contextlib.suppress(FileNotFoundError):
            return "filter=lfs" in read_attributes(self.path)
        return False

    async def _staged(self, paths: list[str]) -> set[str]:
        """The paths under `paths` whose staged content differs from HEAD's."""
        staged = await self.git(
            "--literal-pathspecs", "diff", "--cached", "--name-only", "-z", "--", *paths
        )
        return {p for p in staged.stdout.split("\0") if p}

    # ------------------------------------------------------------ state

    async def conflicts(self) -> list[str]:
        """Paths with unresolved merge conflicts, plus a note when a rebase or merge is stopped
        half-way. Empty when the ledger is clean (or not a repository yet)."""
        result = await self.git("ls-files", "-u", "-z", check=False)
        paths = sorted({rec.split("\t", 1)[-1] for rec in result.stdout.split("\0") if rec})
        with contextlib.suppress(LedgerBlockedError):
            git_dir = await self.git_dir()
            for marker in _HALF_WAY:
                if (git_dir / marker).exists():
                    paths.append(f"({marker} in progress)")
        return paths

    async def ensure_unblocked(self, *, quick: bool = False) -> None:
        """Raise `LedgerBlockedError` when the ledger has unresolved merge conflicts, after
        removing a `.git/index.lock` a killed git left (`stale_lock`). The caller holds the
        ledger lock, but with `quick`: only when a merge or rebase is stopped half-way (no git
        process: the check before each item; the full one runs once per batch)."""
        git_dir = await self.git_dir()
        if quick:
            # Under the lock: a rebase of our own sync (which holds it) is not a blocker.
            async with self.lock:
                await trio.to_thread.run_sync(remove_stale_index_lock, self.path, git_dir)
                if not any([(git_dir / m).exists() for m in _HALF_WAY]):
                    return
        else:
            await trio.to_thread.run_sync(remove_stale_index_lock, self.path, git_dir)
            # The index as ox's last commit or check left it holds no conflict (`ledger_state`).
            index = await trio.to_thread.run_sync(index_stamp, git_dir)
            if self._known.clean(index) and not any([(git_dir / m).exists() for m in _HALF_WAY]):
                return
        conflicts = await self.conflicts()
        if conflicts:
            shown = ", ".join(conflicts[:5])
            raise LedgerBlockedError(f"ledger {self.path} has unresolved merge conflicts: {shown}")
        if not quick:
            self._known.clean_at = index

    async def head_session_names(self) -> frozenset[str]:
        """The names under HEAD's `sessions/`: known from ox's own last commit or listing
        while HEAD has not moved (`ledger_state`), else one git process."""
        facts = await self.facts()
        head = await trio.to_thread.run_sync(head_stamp, facts.git_dir, facts.branch)
        known = self._known.names_if_known(head)
        if known is not None:
            return known
        listed = await self.git("ls-tree", "--name-only", "-z", "HEAD", "sessions/", check=False)
        names = [p.removeprefix("sessions/") for p in listed.stdout.split("\0") if p]
        self._known.listed(head, names if listed.ok else [])
        return frozenset(names if listed.ok else [])

    async def remote_session_names(self) -> set[str]:
        """The session folders on the remote as last fetched (`sessions/<name>` in the
        remote-tracking branch; empty without a remote or before the first sync). One git
        process, no network: the sync fetches."""
        facts = await self.facts()
        if facts.remote is None:
            return set()
        ref = f"refs/remotes/{facts.remote}/{facts.branch}"
        listed = await self.git("ls-tree", "--name-only", "-z", ref, "sessions/", check=False)
        if not listed.ok:
            return set()
        return {p.removeprefix("sessions/") for p in listed.stdout.split("\0") if p}

    async def head(self) -> str:
        """HEAD's commit; empty before the first commit (git then prints `HEAD` itself)."""
        result = await self.git("rev-parse", "-q", "--verify", "HEAD^{commit}", check=False)
        return result.stdout.strip() if result.ok else ""

    # ------------------------------------------------------------ publishing

    async def publish(
        self, name: str, files: Mapping[str, bytes], *, replace: bool = False
    ) -> PublishResult:
        """Place `files` in `sessions/<name>/` and commit them (`finalize session <name>`),
        together with every other session being published at the same moment.

        A folder of HEAD is replaced only when it is this session's own: with `replace` (a
        committed session's retry, found in that very folder), or when it holds the same
        recording (its `raw.jsonl` or session id) wherever it is: under its name, beside a
        teammate's, or where the sync moved it. Another one (a teammate pushed a session of
        the same name) is never touched: the session goes beside it, under the first free
        name of `beside_names`; `PublishResult.name` says which (see `ledger_names`).

        Idempotent: when the folder already holds exactly these files in HEAD no commit is
        made; published again (a crash before the cache copy was removed), a session finds
        the folder it took the first time. Holds the ledger lock. Pushing is left to the sync
        (`pushed` is False).

        Raises `LedgerBlockedError` (unresolved conflicts, no git identity), `UnsafePathError`
        (a link at `sessions/` or at the folder: this session alone), `OSError` (the folder
        cannot be written: this session alone), `LfsUploadError` (content not uploaded),
        `GitError` (anything else). Whatever fails, and on cancellation (which kills the
        running git command), nothing is committed and the work tree and index are put back
        as HEAD has them: the next call starts afresh.
        """
        from ox_session_capture.confined import check_session_name

        request = _Request(check_session_name(name), files, replace)
        pending = self._cache.pending
        pending.append(request)
        try:
            async with self.lock:
                if not request.done:
                    batch = list(pending)
                    pending.clear()
                    await self._run_batch(batch, request)
        finally:
            if not request.done and request in pending:
                pending.remove(request)  # cancelled while waiting: nobody commits it
        if request.error is not None:
            raise request.error
        assert request.result is not None
        return request.result

    async def _run_batch(self, batch: list[_Request], own: _Request) -> None:
        try:
            await self._commit_batch(batch)
        except Exception as exc:
            for request in batch:
                if not request.done:
                    request.error = exc
        except BaseException:
            # Cancelled: the others go back to the queue for the next holder of the lock.
            self._cache.pending[:0] = [r for r in batch if r is not own and not r.done]
            raise

    async def _commit_batch(self, batch: list[_Request]) -> None:
        await self.ensure_unblocked()
        facts = await self.facts()
        facts.check_lfs()
        facts.check_branch(self.path)
        env = await self.commit_env()
        written: list[_Request] = []
        paths: list[str] = []
        extra: list[str] = []
        # Until the commit holds them, the sessions' folders in the work tree are only copies:
        # whatever stops this batch (a folder half-written on a full disk, a failed `git add`,
        # LFS upload or commit, a hook refusing it, cancellation) puts them and the index back
        # as HEAD has them. Left there, a copy would stay uncommitted and staged, and be taken
        # for a committed session (or committed by someone else's commit) later.
        try:
            requests = [(r.name, r.files, r.replace) for r in batch]
            chosen, held = await choose_folders(self, requests)
            for request, folder in zip(batch, chosen, strict=True):
                if isinstance(folder, str):
                    request.folder = folder
                else:
                    request.error = folder
            batch = [r for r in batch if not r.done]
            errors = await trio.to_thread.run_sync(
                write_folders, self.path, [(r.folder, r.files) for r in batch]
            )
            for request in batch:
                error = errors.get(request.folder)
                if error is not None:
                    request.error = error
                else:
                    written.append(request)
            paths = [f"sessions/{r.folder}" for r in written]
            # A write that failed part-way (a refused link was never written through).
            half = [f"sessions/{n}" for n, e in errors.items() if isinstance(e, OSError)]
            if half:
                await restore_paths(self, half, facts)
            if not written:
                return
            if facts.lfs:
                extra = await prepare_lfs(self)
            await add_all(self, [*paths, *extra])
            if facts.lfs and facts.remote is not None:
                await upload_lfs(self, facts, [r.files for r in written])
            staged = await self._staged([*paths, *extra])
            # `add -A` of a folder leaves out, without a word, a new file an ignore rule
            # matches (a teammate's `*.jsonl`, the user's global excludes): the commit would
            # lack the transcript whose cache copy then goes. Such files of ours (neither
            # staged nor in HEAD as they are) are added by name, forced.
            own = [
                f"sessions/{r.folder}/{f}"
                for r in written
                for f in r.files
                if f not in held.get(r.folder, {})
            ]
            if missing := [p for p in own if p not in staged]:
                await self.git("--literal-pathspecs", "add", "-f", "--", *missing)
                staged |= await self._staged(missing)
            changed = {p.split("/")[1] for p in staged if p.startswith("sessions/")}
            if staged:
                names = list(dict.fromkeys(r.folder for r in written if r.folder in changed))
                message = commit_message(names)
                before = await trio.to_thread.run_sync(head_stamp, facts.git_dir, facts.branch)
                await self.git(
                    "--literal-pathspecs", "commit", "-q", "-m", message, "--", *paths, *extra,
                    env=env,
                )  # fmt: skip
                after, index = await trio.to_thread.run_sync(stamps, facts.git_dir, facts.branch)
                self._known.committed(before, after, index, [r.folder for r in written])
        except BaseException:
            # Local and short, and needed even when cancelled (the daemon stopping).
            with trio.CancelScope(shield=True):
                await restore_paths(self, [*paths, *extra], facts)
            raise
        for request in written:
            request.result = PublishResult(
                committed=request.folder in changed,
                pushed=False,
                lfs=facts.lfs,
                name=request.folder,
            )
