"""Red team, session names as git pathspecs: a name may hold `[` and `]` (a `$USER` of
`dev[1]`, a teammate's folder), and git reads a pathspec as a wildcard pattern unless told
otherwise. `sessions/2026-...-dev[1]-a1` then also matches the path `sessions/2026-...-dev1-a1`
when that path is not a folder (a file, a link or a gitlink: git matches a pattern against
whole paths, so the files inside a folder of that name are out of its reach). ox must
stage, commit, undo and rewrite its own folder only (real git repositories, a bare remote on
disk, a real LFS server on loopback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ox_handler_session_finalize.ledger import Ledger, LfsUploadError
from ox_handler_session_finalize.sync import sync_ledger
from ox_session_capture.confined import UnsafePathError, check_session_name

from .conftest import LfsServer
from .finalize_support import clone, git
from .test_hostile_remote import teammate_commits
from .test_same_name import OURS, THEIRS_RAW

NAME = "2026-11-25T10-00-dev[1]-a1"
TWIN = "2026-11-25T10-00-dev1-a1"
"""The one path `sessions/<NAME>` matches as a wildcard pattern."""
THEIR_FILE = b"a teammate's file\n"
MINE = b"my own notes, never to be published\n"


def test_brackets_are_allowed_in_a_session_name_and_the_other_wildcards_are_not() -> None:
    # The premise: `*` and `?` never reach git from a name ox publishes; `[` and `]` do.
    assert check_session_name(NAME) == NAME
    for bad in ("2026-11-25T10-00-dev*", "2026-11-25T10-00-dev?"):
        with pytest.raises(UnsafePathError):
            check_session_name(bad)


def write_mine(ledger: Path) -> None:
    """The user's own uncommitted work at `sessions/<TWIN>`: an edit of the teammate's file
    there, or a file git does not track."""
    (ledger / "sessions").mkdir(exist_ok=True)
    (ledger / "sessions" / TWIN).write_bytes(MINE)


def status(ledger: Path, name: str) -> str:
    """`git status` of `sessions/<name>` alone (a literal pathspec, this test's own rule)."""
    return git(ledger, "--literal-pathspecs", "status", "--porcelain", "--", f"sessions/{name}")


def changed_paths(repo: Path, ref: str = "HEAD") -> list[str]:
    return sorted(git(repo, "show", "--name-only", "--format=", ref).split())


@pytest.mark.parametrize("kind", ["edited", "untracked"])
async def test_publishing_a_bracketed_name_never_commits_the_path_it_matches_as_a_pattern(
    ledger: Path, remote: Path, tmp_path: Path, kind: str
) -> None:
    # `git add -A -- sessions/<NAME>` staged the user's file `sessions/<TWIN>` and
    # `git commit -- sessions/<NAME>` committed it: the next sync would publish it.
    repo = Ledger(ledger)
    if kind == "edited":
        teammate_commits(remote, tmp_path / "mate", {f"sessions/{TWIN}": THEIR_FILE})
        await sync_ledger(repo)
    write_mine(ledger)
    before = status(ledger, TWIN)
    result = await repo.publish(NAME, {"raw.jsonl": OURS})
    assert (result.name, result.committed) == (NAME, True)
    assert changed_paths(ledger) == [f"sessions/{NAME}/raw.jsonl"]
    assert (ledger / "sessions" / TWIN).read_bytes() == MINE
    assert status(ledger, TWIN) == before


@pytest.mark.parametrize("kind", ["edited", "staged", "untracked"])
async def test_the_undo_of_a_failed_publish_never_touches_the_path_a_bracketed_name_matches(
    ledger: Path, remote: Path, lfs_server: LfsServer, tmp_path: Path, kind: str
) -> None:
    # A teammate's session `sessions/<NAME>/` is summarised here (the retry of a committed
    # folder) while the LFS server is away: the publish is undone (`restore_paths`). Its
    # `reset`, `checkout HEAD` and `clean` of `sessions/<NAME>` unstaged the user's staged
    # edit of `sessions/<TWIN>`, put the file back as HEAD has it (the edit lost), or
    # deleted the user's untracked file of that name.
    files = {f"sessions/{NAME}/raw.jsonl": THEIRS_RAW}
    if kind != "untracked":
        files[f"sessions/{TWIN}"] = THEIR_FILE
    teammate_commits(remote, tmp_path / "mate", files)
    git(ledger, "config", "lfs.url", lfs_server.url)
    repo = Ledger(ledger)
    await sync_ledger(repo)
    write_mine(ledger)
    if kind == "staged":
        git(ledger, "add", "--", f"sessions/{TWIN}")
    before = status(ledger, TWIN)
    assert before.strip()
    lfs_server.stop()
    retry = {"raw.jsonl": THEIRS_RAW, "summary.json": b'{"title": "t"}'}
    with pytest.raises(LfsUploadError):
        await repo.publish(NAME, retry, replace=True)
    assert (ledger / "sessions" / TWIN).read_bytes() == MINE
    assert status(ledger, TWIN) == before
    # Its own folder is back as HEAD has it.
    assert status(ledger, NAME) == ""
    assert not (ledger / "sessions" / NAME / "summary.json").exists()


async def test_moving_a_bracketed_session_beside_a_teammates_never_deletes_the_path_it_matches(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # The sync moves our `sessions/<NAME>` beside a teammate's folder of that name by
    # rewriting the local commits (`sync_moves`): `git rm --cached -- sessions/<NAME>` in each
    # removed the teammate's `sessions/<TWIN>` from them too, and the push deleted it from
    # the remote.
    teammate_commits(remote, tmp_path / "mate", {f"sessions/{TWIN}": THEIR_FILE})
    repo = Ledger(ledger)
    await sync_ledger(repo)
    assert (await repo.publish(NAME, {"raw.jsonl": OURS})).committed
    teammate_commits(remote, tmp_path / "mate2", {f"sessions/{NAME}/raw.jsonl": THEIRS_RAW})
    result = await sync_ledger(repo)
    assert result.pushed
    [moved] = result.kept_both
    assert moved.startswith(f"{NAME}-")
    assert git(remote, "show", f"main:sessions/{TWIN}").encode() == THEIR_FILE
    assert git(remote, "show", f"main:sessions/{NAME}/raw.jsonl").encode() == THEIRS_RAW
    assert git(remote, "show", f"main:sessions/{moved}/raw.jsonl").encode() == OURS
    # No commit the sync made or rewrote touches the teammate's file.
    log = git(
        remote, "--literal-pathspecs", "log", "--format=%H", "main", "--", f"sessions/{TWIN}"
    ).split()
    assert len(log) == 1
    fresh = clone(remote, tmp_path / "check")
    assert (fresh / "sessions" / TWIN).read_bytes() == THEIR_FILE
