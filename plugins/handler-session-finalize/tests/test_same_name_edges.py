"""The same-name rule at its edges: a teammate's folder that is in HEAD but not in the work
tree, our folder the sync moved beside a teammate's, a user-cache session whose name is
committed, and folders a teammate names or shapes to capture or block a publish."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import trio
import trio.testing

from ox_handler_session_finalize.detect import Place, Scanner
from ox_handler_session_finalize.git import GIT_PROCESSES
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_handler_session_finalize.ledger import Ledger
from ox_handler_session_finalize.ledger_files import beside, beside_names
from ox_handler_session_finalize.ledger_names import MAX_MOVED_READ
from ox_handler_session_finalize.sync import sync_ledger
from ox_session_capture import records
from ox_session_capture.confined import UnsafePathError

from .finalize_support import answer, commit_count, git, make_session
from .test_detect_rules import finish
from .test_hostile_remote import teammate_commits
from .test_same_name import NAME, OURS, THEIRS_RAW, finalize_all, folders, raw, show

FILES = {"raw.jsonl": OURS, "summary.json": b"{}"}


async def synced_clash(
    ledger: Path, remote: Path, tmp_path: Path, extra: dict[str, bytes]
) -> Ledger:
    """The teammate's `sessions/NAME/` (and `extra`) pushed and synced into the ledger."""
    teammate_commits(remote, tmp_path / "mate", {f"sessions/{NAME}/raw.jsonl": THEIRS_RAW, **extra})
    repo = Ledger(ledger)
    await sync_ledger(repo)
    return repo


# ---------------------------------------------------------------- in HEAD, not in the work tree


@pytest.mark.parametrize("how", ["rm", "git rm"])
async def test_a_teammates_folder_deleted_from_the_work_tree_only_is_never_replaced(
    ledger: Path, remote: Path, tmp_path: Path, how: str
) -> None:
    repo = await synced_clash(ledger, remote, tmp_path, {})
    if how == "rm":
        shutil.rmtree(ledger / "sessions" / NAME)
    else:
        git(ledger, "rm", "-r", "-q", "--", f"sessions/{NAME}")
    status = git(ledger, "status", "--porcelain")
    result = await repo.publish(NAME, FILES)
    assert result.committed
    assert result.name == beside_names(NAME, FILES)[1]
    assert show(ledger, "HEAD", f"sessions/{NAME}/raw.jsonl") == THEIRS_RAW
    assert show(ledger, "HEAD", f"sessions/{result.name}/raw.jsonl") == OURS
    # The person's own deletion is theirs to commit or undo: left exactly as it was.
    assert git(ledger, "status", "--porcelain") == status


async def test_the_check_costs_the_same_git_processes_for_one_session_or_many(
    ledger: Path,
) -> None:
    repo = Ledger(ledger)
    await repo.publish("warm-up", {"raw.jsonl": OURS})

    async def batch(names: list[str]) -> int:
        before = GIT_PROCESSES.started
        async with trio.open_nursery() as nursery:
            await repo.lock.acquire()
            for name in names:
                nursery.start_soon(repo.publish, name, {"raw.jsonl": raw(f"ses_{name}", name)})
            await trio.testing.wait_all_tasks_blocked()  # all wait for the lock: one batch
            repo.lock.release()
        return GIT_PROCESSES.started - before

    one = await batch(["s-one"])
    assert await batch([f"s-many-{i}" for i in range(5)]) == one


# ---------------------------------------------------------------- moved by the sync


async def test_a_republish_finds_the_folder_the_sync_moved_beside_a_teammates(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    repo = Ledger(ledger)
    first = await repo.publish(NAME, FILES)
    assert first.name == NAME  # no clash yet: the teammate pushes meanwhile
    teammate_commits(remote, tmp_path / "mate", {f"sessions/{NAME}/raw.jsonl": THEIRS_RAW})
    synced = await sync_ledger(repo)
    (moved,) = synced.kept_both
    assert moved not in beside_names(NAME, FILES)  # the sync's tag is a commit's
    count = commit_count(ledger)
    # A crash before the cache copy went: the same files published again.
    again = await repo.publish(NAME, FILES)
    assert (again.name, again.committed) == (moved, False)
    assert commit_count(ledger) == count
    # Redacted differently since: its header's session id still says it is ours.
    redacted = {**FILES, "raw.jsonl": OURS.replace(b"ours", b"[REDACTED]")}
    third = await repo.publish(NAME, redacted)
    assert (third.name, third.committed) == (moved, True)
    assert folders(ledger) == sorted([NAME, moved])
    assert show(ledger, "HEAD", f"sessions/{NAME}/raw.jsonl") == THEIRS_RAW


async def test_a_cache_copy_left_after_the_sync_moved_it_is_not_published_twice(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # The teammate pushes first; the ledger does not know yet: ours is committed under its
    # name, and the sync right after moves it beside the teammate's.
    teammate_commits(remote, tmp_path / "mate", {f"sessions/{NAME}/raw.jsonl": THEIRS_RAW})
    folder = make_session(records.ledger_cache_sessions(ledger), NAME)
    await finalize_all(handler, ledger, answer())
    (moved,) = (n for n in folders(ledger) if n != NAME)
    assert moved not in beside_names(
        NAME, {"raw.jsonl": (ledger / "sessions" / moved / "raw.jsonl").read_bytes()}
    )
    # The crash: the cache copy outlived the commit.
    shutil.copytree(ledger / "sessions" / moved, folder)
    count = commit_count(ledger)
    reasons = await finalize_all(handler, ledger, answer())
    assert len(reasons) == 1
    assert f"published as sessions/{moved}/" in reasons[0]
    assert commit_count(ledger) == count
    assert not folder.exists()
    assert folders(ledger) == sorted([NAME, moved])


# ---------------------------------------------------------------- the user cache


async def test_a_user_cache_session_whose_name_is_committed_is_published_beside_it(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    await synced_clash(ledger, remote, tmp_path, {})
    folder = make_session(records.user_cache_sessions(ledger, tmp_path / "usercache"), NAME)
    ours = (folder / records.RAW).read_bytes()
    for _ in range(3):  # the teammate's folder (raw only) is summarised too, in its turn
        await finalize_all(handler, ledger, answer())
    assert not folder.exists()
    names = folders(ledger)
    assert len(names) == 2
    mine = next(n for n in names if n != NAME)
    assert mine == beside_names(NAME, {"raw.jsonl": ours})[1]
    assert show(ledger, "HEAD", f"sessions/{mine}/raw.jsonl") == ours
    assert show(ledger, "HEAD", f"sessions/{NAME}/raw.jsonl") == THEIRS_RAW
    # Nothing left to do, nothing published twice.
    count = commit_count(ledger)
    assert await finalize_all(handler, ledger, answer()) == []
    assert commit_count(ledger) == count


# ---------------------------------------------------------------- a teammate's traps


async def test_a_planted_name_beside_ours_never_makes_a_second_copy(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    names = beside_names(NAME, FILES)
    planted = f"sessions/{names[1]}/raw.jsonl"
    repo = await synced_clash(ledger, remote, tmp_path, {planted: THEIRS_RAW})
    first = await repo.publish(NAME, FILES)
    assert first.name == names[2]
    await sync_ledger(repo)
    # The planted folder goes: its name is free again, ours is still where it was.
    mate = tmp_path / "mate"
    git(mate, "pull", "-q", "origin", "main")
    git(mate, "rm", "-r", "-q", "--", f"sessions/{names[1]}")
    git(mate, "commit", "-q", "-m", "gone")
    git(mate, "push", "-q", "origin", "HEAD:main")
    await sync_ledger(repo)
    again = await repo.publish(NAME, FILES)
    assert (again.name, again.committed) == (names[2], False)
    assert folders(ledger) == sorted([NAME, names[2]])


async def test_a_folder_claiming_our_session_id_never_outranks_our_own(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    repo = await synced_clash(ledger, remote, tmp_path, {})
    first = await repo.publish(NAME, FILES)
    await sync_ledger(repo)
    # Our session id is public now: the teammate's folder (and one shaped like a folder the
    # sync moved) take it into their headers.
    forged = OURS.replace(b"ours", b"forged")
    mate = tmp_path / "mate"
    git(mate, "pull", "-q", "origin", "main")
    for folder in (NAME, beside(NAME, "00000000")):
        (mate / "sessions" / folder).mkdir(exist_ok=True)
        (mate / "sessions" / folder / "raw.jsonl").write_bytes(forged)
    git(mate, "add", "sessions")
    git(mate, "commit", "-q", "-m", "forged")
    git(mate, "push", "-q", "origin", "HEAD:main")
    await sync_ledger(repo)
    count = commit_count(ledger)
    again = await repo.publish(NAME, FILES)  # a crash left the cache copy
    assert (again.name, again.committed) == (first.name, False)
    assert commit_count(ledger) == count
    assert show(ledger, "HEAD", f"sessions/{NAME}/raw.jsonl") == forged


async def test_many_folders_shaped_like_the_syncs_neither_hide_ours_nor_cost_much(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    repo = Ledger(ledger)
    await repo.publish(NAME, FILES)
    # Folders shaped like the sync's, sorted before any it makes, pushed with the clash.
    planted = {
        f"sessions/{beside(NAME, f'{i:08x}')}/raw.jsonl": raw(f"ses_planted{i}", "x")
        for i in range(3 * MAX_MOVED_READ)
    }
    teammate_commits(
        remote, tmp_path / "mate", {f"sessions/{NAME}/raw.jsonl": THEIRS_RAW, **planted}
    )
    (moved,) = (await sync_ledger(repo)).kept_both
    again = await repo.publish(NAME, FILES)  # a crash left the cache copy
    assert (again.name, again.committed) == (moved, False)
    # Another recording of the name: none is its own, at most MAX_MOVED_READ are read.
    before = GIT_PROCESSES.started
    other = await repo.publish(NAME, {"raw.jsonl": raw("ses_another", "y")})
    assert other.name == beside_names(NAME, {"raw.jsonl": raw("ses_another", "y")})[1]
    assert GIT_PROCESSES.started - before <= 10 + MAX_MOVED_READ


async def test_links_and_files_where_folders_would_be_are_never_ours_nor_followed(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # A link at the name, and one shaped like a folder the sync moved, pointing at a copy of
    # our own files: neither is ours, neither is written through.
    target = tmp_path / "target"
    target.mkdir()
    (target / "raw.jsonl").write_bytes(OURS)
    mate = tmp_path / "mate"
    teammate_commits(remote, mate, {"README": b"x"})
    (mate / "sessions").mkdir()
    (mate / "sessions" / NAME).symlink_to(target)
    (mate / "sessions" / beside(NAME, "0123abcd")).symlink_to(target)
    (mate / "sessions" / beside(NAME, "4567cdef")).write_bytes(OURS)
    git(mate, "add", "sessions")
    git(mate, "commit", "-q", "-m", "links")
    git(mate, "push", "-q", "origin", "HEAD:main")
    repo = Ledger(ledger)
    await sync_ledger(repo)
    result = await repo.publish(NAME, FILES)
    assert result.name == beside_names(NAME, FILES)[1]
    assert (ledger / "sessions" / NAME).is_symlink()
    assert sorted(p.name for p in target.iterdir()) == ["raw.jsonl"]
    assert (target / "raw.jsonl").read_bytes() == OURS
    assert git(ledger, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    "name",
    ["2026-11-25T10-00-dev-a[1]", "2026-11-25T10-00-dév-a1 ü", "2026-11-25T10-00-dev-a1-!$'"],
)
async def test_odd_characters_in_names_touch_no_other_folder(
    ledger: Path, remote: Path, tmp_path: Path, name: str
) -> None:
    # A teammate's folder of that name, and one `name` matches as a git pattern, deleted from
    # the work tree only: a path given to git as a pattern would stage that deletion with ours.
    near = name.replace("[1]", "1") if "[" in name else f"{name}-x"
    teammate_commits(
        remote,
        tmp_path / "mate",
        {f"sessions/{name}/raw.jsonl": THEIRS_RAW, f"sessions/{near}/raw.jsonl": THEIRS_RAW},
    )
    repo = Ledger(ledger)
    await sync_ledger(repo)
    shutil.rmtree(ledger / "sessions" / near)
    files = {"raw.jsonl": OURS}
    result = await repo.publish(name, files)
    assert result.name == beside_names(name, files)[1]
    listed = git(ledger, "ls-tree", "-r", "--name-only", "-z", "HEAD", "sessions/").split("\0")
    assert sorted(filter(None, listed)) == sorted(
        [
            f"sessions/{name}/raw.jsonl",
            f"sessions/{near}/raw.jsonl",
            f"sessions/{result.name}/raw.jsonl",
        ]
    )


async def test_every_name_taken_fails_that_session_alone(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    names = beside_names(NAME, FILES)
    taken = {f"sessions/{n}/raw.jsonl": THEIRS_RAW for n in names[1:]}
    repo = await synced_clash(ledger, remote, tmp_path, taken)
    count = commit_count(ledger)
    with pytest.raises(UnsafePathError, match="every name beside it"):
        await repo.publish(NAME, FILES)
    assert commit_count(ledger) == count
    assert git(ledger, "status", "--porcelain") == ""


# ---------------------------------------------------------------- the scan


def test_one_item_a_name_from_the_first_copy_that_needs_work(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    user_cache = records.user_cache_sessions(ledger, tmp_path / "uc")
    committed = make_session(records.committed_sessions(ledger), NAME)
    make_session(user_cache, NAME)
    scanner = Scanner(ledger, tmp_path / "uc")
    # The cache copy first (publishing puts it beside the committed one, or finds it there);
    # the committed folder waits for a later scan: one item a name, its work key.
    assert [(f.name, f.place) for f in scanner.scan()] == [(NAME, Place.USER_CACHE)]
    make_session(records.ledger_cache_sessions(ledger), NAME)
    assert [(f.name, f.place) for f in scanner.scan()] == [(NAME, Place.LEDGER_CACHE)]
    # A cache copy that needs nothing (kept locally here) hides nothing for ever.
    for cache in (records.ledger_cache_sessions(ledger), user_cache):
        finish(cache / NAME)
        (cache / NAME / records.META).write_text(json.dumps({"disposition": "local_only"}))
    found = scanner.scan()
    assert [(f.name, f.place, f.path) for f in found] == [(NAME, Place.COMMITTED, committed)]
