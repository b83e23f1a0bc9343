"""A teammate's history against the sync's rebase: forced pushes, planted folder names, look-alike
sessions, slow steps and what the remote prints. Real clones, a bare remote and its hooks."""

from __future__ import annotations

import logging
import subprocess
import time
from pathlib import Path

import pytest
import trio

from ox_handler_session_finalize import sync
from ox_handler_session_finalize.ledger import Ledger
from ox_handler_session_finalize.sync import sync_ledger
from ox_handler_session_finalize.sync_service import LedgerSyncer

from .conftest import LfsServer
from .finalize_support import clone, git

NAME = "2026-11-25T10-00-dev-a1"


def raw(session_id: str, content: str) -> bytes:
    """A transcript: a header with `session_id`, then twenty lines saying `content` (two of
    them with different `content` are still alike enough for git's rename detection)."""
    head = f'{{"_meta":{{"schema_version":"1","session_id":"{session_id}"}}}}\n'
    body = "".join(f'{{"type":"user","content":"{content} {i}"}}\n' for i in range(20))
    return (head + body).encode()


OURS = raw("ses_ours", "ours")


def fed(repo: Path, data: str, *args: str) -> str:
    """git with `data` on its stdin; stdout."""
    done = subprocess.run(
        ["git", "-C", str(repo), *args], input=data, capture_output=True, text=True, check=True
    )
    return done.stdout


def tree(repo: Path, ref: str = "HEAD") -> dict[str, str]:
    """path -> blob of every file of `ref`."""
    listed = git(repo, "ls-tree", "-r", "-z", ref).split("\0")
    return {rec.split("\t", 1)[1]: rec.split()[2] for rec in listed if rec}


def holding(repo: Path, data: bytes, ref: str = "main") -> list[str]:
    """The paths of `ref` whose content is `data`."""
    return sorted(
        p for p in tree(repo, ref) if git(repo, "cat-file", "-p", f"{ref}:{p}").encode() == data
    )


def teammate_pushes(
    remote: Path,
    root: Path,
    files: dict[str, bytes],
    *,
    drop: int = 0,
    remove: tuple[str, ...] = (),
) -> dict[str, str]:
    """A teammate's clone drops the last `drop` commits (then force-pushes), removes `remove`,
    commits `files`; the tree it pushed."""
    mate = clone(remote, root)
    if drop:
        git(mate, "reset", "-q", "--hard", f"HEAD~{drop}")
    for rel in remove:
        git(mate, "rm", "-q", "-r", "--", rel)
    for rel, data in files.items():
        (mate / rel).parent.mkdir(parents=True, exist_ok=True)
        (mate / rel).write_bytes(data)
        git(mate, "add", "-f", "--", rel)
    git(mate, "commit", "-q", "-m", "teammate")
    git(mate, "push", "-q", "--force", "origin", "HEAD:main")
    return tree(mate)


async def assert_kept_beside(repo: Ledger, remote: Path, theirs: dict[str, str]) -> None:
    """The teammate's files are on the remote as they pushed them, ours beside, nothing is
    stopped half-way."""
    assert await repo.conflicts() == []
    after = tree(remote, "main")
    assert {p: after.get(p) for p in theirs} == theirs
    ours = holding(remote, OURS)
    assert len(ours) == 1
    assert ours[0].startswith(f"sessions/{NAME}-")


# ---------------------------------------------------------------- the kept name


async def pushed_twice(repo: Ledger, ledger: Path) -> str:
    """Our session pushed, then pushed grown (`OURS`): the second commit's hash."""
    await repo.publish(NAME, {"raw.jsonl": raw("ses_ours", "first")})
    await sync_ledger(repo)
    await repo.publish(NAME, {"raw.jsonl": OURS}, replace=True)
    await sync_ledger(repo)
    return git(ledger, "rev-parse", "HEAD").strip()


async def assert_paused_untouched(
    repo: Ledger, ledger: Path, remote: Path, theirs: dict[str, str]
) -> None:
    """The sync pauses on our commit the forced push dropped (pushed back it would undo a
    scrub): the teammate's files stay on the remote as pushed, our session stays committed
    locally, nothing is stopped half-way."""
    head = git(ledger, "rev-parse", "HEAD")
    with pytest.raises(sync.SyncPaused, match="no longer has"):
        await sync_ledger(repo)
    assert await repo.conflicts() == []
    assert tree(remote, "main") == theirs
    assert git(ledger, "rev-parse", "HEAD") == head
    assert holding(ledger, OURS, "HEAD") == [f"sessions/{NAME}/raw.jsonl"]


async def test_a_folder_planted_under_the_kept_name_is_never_overwritten(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # Our pushed commit told the teammate its hash; their forced push drops it, changes our
    # session and plants their own session under the name a keep-both would give ours.
    repo = Ledger(ledger)
    commit = await pushed_twice(repo, ledger)
    planted = {f"sessions/{NAME}/raw.jsonl": raw("ses_ours", "edited")}
    planted[f"sessions/{NAME}-{commit[:8]}/raw.jsonl"] = raw("ses_theirs", "theirs")
    planted[f"sessions/{NAME}-{commit[:8]}/notes.md"] = b"theirs\n"
    theirs = teammate_pushes(remote, tmp_path / "mate", planted, drop=1)
    await assert_paused_untouched(repo, ledger, remote, theirs)


async def test_a_file_planted_under_the_kept_name_never_leaves_a_rebase_half_way(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    repo = Ledger(ledger)
    commit = await pushed_twice(repo, ledger)
    planted = {f"sessions/{NAME}/raw.jsonl": raw("ses_ours", "edited")}
    for tag in (commit[:8], commit[:16], commit):
        planted[f"sessions/{NAME}-{tag}"] = b"a file where the folder would go\n"
    theirs = teammate_pushes(remote, tmp_path / "mate", planted, drop=1)
    await assert_paused_untouched(repo, ledger, remote, theirs)


async def test_a_rebase_that_times_out_is_aborted(
    ledger: Path, remote: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A rebase too slow for its time limit (a huge tree, a loaded disk), played by a filter
    # that hangs the first checkout of the teammate's file (ox runs no hook): killed, the
    # rebase must not leave the ledger half-way.
    repo = Ledger(ledger)
    await repo.publish(NAME, {"raw.jsonl": OURS})
    teammate_pushes(remote, tmp_path / "mate", {"sessions/theirs/raw.jsonl": b"theirs\n"})
    hung = tmp_path / "hung"
    git(ledger, "config", "filter.slow.smudge",
        f'sh -c \'if [ ! -e "{hung}" ]; then touch "{hung}"; sleep 60; fi; cat\'')  # fmt: skip
    with (ledger / ".git" / "info" / "attributes").open("a") as attributes:
        attributes.write("sessions/theirs/** filter=slow\n")
    head = git(ledger, "rev-parse", "HEAD")
    monkeypatch.setattr(sync, "INTEGRATE_TIMEOUT", 2.0)
    with pytest.raises(sync.GitError, match="timed out"):
        await sync_ledger(repo)
    assert hung.exists()
    assert await repo.conflicts() == []
    assert git(ledger, "rev-parse", "HEAD") == head
    assert git(ledger, "status", "--porcelain") == ""
    await sync_ledger(repo)
    assert tree(remote, "main").get(f"sessions/{NAME}/raw.jsonl") is not None


# ---------------------------------------------------------------- look-alike sessions


async def test_a_teammates_look_alike_session_never_gets_our_lines(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # The teammate removes our session and adds theirs, most of whose lines are alike: git's
    # rename detection took theirs for ours moved and merged our new lines into their file.
    repo = Ledger(ledger)
    await repo.publish(NAME, {"raw.jsonl": OURS})
    await sync_ledger(repo)
    grown = OURS + b'{"type":"user","content":"one more of ours"}\n'
    await repo.publish(NAME, {"raw.jsonl": grown}, replace=True)
    look_alike = OURS.replace(b"ours 3", b"theirs 3")
    other = "2026-11-25T11-00-mate-b2"
    theirs = teammate_pushes(
        remote,
        tmp_path / "mate",
        {f"sessions/{other}/raw.jsonl": look_alike},
        remove=(f"sessions/{NAME}",),
    )
    await sync_ledger(repo)
    assert await repo.conflicts() == []
    assert (
        tree(remote, "main")[f"sessions/{other}/raw.jsonl"] == theirs[f"sessions/{other}/raw.jsonl"]
    )
    assert len(holding(remote, grown)) == 1


async def test_a_later_commit_of_a_session_never_lands_in_a_teammates_folder(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # Two unpushed commits of one session (committed, then its summary); a teammate pushed a
    # session of the same name meanwhile. The first is kept beside theirs; the second added
    # summary.md to their folder, which lacks one.
    repo = Ledger(ledger)
    await repo.publish(NAME, {"raw.jsonl": OURS})
    await repo.publish(NAME, {"raw.jsonl": OURS, "summary.md": b"our summary\n"}, replace=True)
    theirs = teammate_pushes(
        remote, tmp_path / "mate", {f"sessions/{NAME}/raw.jsonl": raw("ses_theirs", "theirs")}
    )
    (moved,) = (await sync_ledger(repo)).kept_both
    await assert_kept_beside(repo, remote, theirs)
    sessions = sorted(p for p in tree(remote, "main") if p.startswith("sessions/"))
    assert sessions == sorted(
        [
            f"sessions/{NAME}/raw.jsonl",
            f"sessions/{moved}/raw.jsonl",
            f"sessions/{moved}/summary.md",
        ]
    )


async def test_every_local_commit_of_a_clashing_session_goes_beside_theirs(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # Three unpushed commits: the session, it grown, another session; each keeps its
    # author, date and message, and the session's folder is the same in the first two.
    repo = Ledger(ledger)
    await repo.publish(NAME, {"raw.jsonl": raw("ses_ours", "first")})
    await repo.publish(NAME, {"raw.jsonl": OURS}, replace=True)
    await repo.publish("s-other", {"raw.jsonl": raw("ses_other", "other")})
    before = git(ledger, "log", "--format=%an %ae %ad %s", "-3")
    theirs = teammate_pushes(
        remote, tmp_path / "mate", {f"sessions/{NAME}/raw.jsonl": raw("ses_theirs", "theirs")}
    )
    (moved,) = (await sync_ledger(repo)).kept_both
    await assert_kept_beside(repo, remote, theirs)
    assert git(remote, "log", "--format=%an %ae %ad %s", "-3", "main") == before
    changed = git(remote, "log", "--format=", "--name-only", "-3", "main").split()
    assert changed == ["sessions/s-other/raw.jsonl", *[f"sessions/{moved}/raw.jsonl"] * 2]


async def test_a_session_moved_beside_a_teammates_keeps_its_lfs_content(
    ledger: Path, remote: Path, tmp_path: Path, lfs_server: LfsServer
) -> None:
    git(ledger, "config", "lfs.url", lfs_server.url)
    git(ledger, "config", "lfs.locksverify", "false")
    repo = Ledger(ledger)
    await repo.publish(NAME, {"raw.jsonl": OURS, "summary.md": b"ours\n"})
    theirs = teammate_pushes(remote, tmp_path / "mate", {f"sessions/{NAME}/notes.md": b"theirs\n"})
    (moved,) = (await sync_ledger(repo)).kept_both
    after = tree(remote, "main")
    assert {p: after[p] for p in theirs} == theirs
    pointer = git(remote, "cat-file", "-p", f"main:sessions/{moved}/raw.jsonl")
    assert pointer.startswith("version https://git-lfs")
    assert OURS in lfs_server.objects().values()


async def test_a_teammates_folder_with_no_file_in_common_is_never_mixed_with_ours(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # Nothing conflicts (their folder of the same name holds other files): the rebase put our
    # transcript into their folder.
    repo = Ledger(ledger)
    await repo.publish(NAME, {"raw.jsonl": OURS})
    theirs = teammate_pushes(
        remote, tmp_path / "mate", {f"sessions/{NAME}/transcript.txt": b"theirs\n"}
    )
    await sync_ledger(repo)
    await assert_kept_beside(repo, remote, theirs)


@pytest.mark.parametrize("kind", ["file", "link", "gitlink"])
async def test_a_file_link_or_gitlink_of_our_sessions_name_never_pauses_publishing(
    ledger: Path, remote: Path, tmp_path: Path, kind: str
) -> None:
    # Not a folder of theirs: the rebase's file/folder conflict fell outside a session folder
    # and paused every push until a person came.
    repo = Ledger(ledger)
    await repo.publish(NAME, {"raw.jsonl": OURS})
    mate = clone(remote, tmp_path / "mate")
    (mate / "sessions").mkdir()
    rel = f"sessions/{NAME}"
    if kind == "file":
        (mate / rel).write_bytes(b"theirs\n")
        git(mate, "add", rel)
    elif kind == "link":
        (mate / rel).symlink_to("/etc")
        git(mate, "add", rel)
    else:
        head = git(mate, "rev-parse", "HEAD").strip()
        git(mate, "update-index", "--add", "--cacheinfo", f"160000,{head},{rel}")
    git(mate, "commit", "-q", "-m", "teammate")
    git(mate, "push", "-q", "origin", "HEAD:main")
    theirs = tree(mate)
    await sync_ledger(repo)
    await assert_kept_beside(repo, remote, theirs)
    assert git(ledger, "status", "--porcelain") == ""


async def test_a_pause_leaves_the_local_commits_as_they_were(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # A session folder to move beside theirs and a conflict only a person can settle: the
    # pause puts back the commits the move rewrote.
    repo = Ledger(ledger)
    await repo.publish(NAME, {"raw.jsonl": OURS})
    (ledger / ".gitignore").write_text(".ox/cache/\nours\n")
    git(ledger, "commit", "-q", "-am", "by hand")
    head = git(ledger, "rev-parse", "HEAD")
    teammate_pushes(
        remote,
        tmp_path / "mate",
        {f"sessions/{NAME}/raw.jsonl": raw("ses_theirs", "x"), ".gitignore": b"theirs\n"},
    )
    with pytest.raises(sync.SyncPaused, match=r"\.gitignore"):
        await sync_ledger(repo)
    assert git(ledger, "rev-parse", "HEAD") == head
    assert git(ledger, "status", "--porcelain") == ""
    assert await repo.conflicts() == []


# ---------------------------------------------------------------- a huge commit


async def test_a_huge_commit_never_freezes_the_daemon(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # 30,000 paths from a teammate (one in the cache: the sync pauses before any checkout)
    # against 300 ignored files of the work tree: comparing each pair blocked the event loop
    # (every other task of the daemon) for seconds.
    mate = clone(remote, tmp_path / "mate")
    blob = fed(mate, "x\n", "hash-object", "-w", "--stdin").strip()
    lines = "".join(f"100644 {blob}\tdata/{i // 500}/f{i}\n" for i in range(30_000))
    fed(mate, lines, "update-index", "--add", "--index-info")
    git(mate, "update-index", "--add", "--cacheinfo", f"100644,{blob},.ox/cache/planted")
    git(mate, "commit", "-q", "-m", "huge")
    git(mate, "push", "-q", "origin", "HEAD:main")
    (ledger / ".git" / "info" / "exclude").write_text("*.log\n")
    for i in range(300):
        (ledger / f"x{i}.log").write_text("mine\n")
    longest = 0.0

    async def watch() -> None:
        nonlocal longest
        while True:
            before = time.monotonic()  # the wall clock: what a frozen loop costs
            try:
                await trio.sleep(0.01)
            finally:  # also when cancelled right after a freeze
                longest = max(longest, time.monotonic() - before)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(watch)
        with pytest.raises(sync.SyncPaused, match=r"\.ox/cache/planted"):
            await sync_ledger(Ledger(ledger))
        nursery.cancel_scope.cancel()
    assert longest < 1.0


@pytest.mark.parametrize("ours", [False, True])
async def test_a_checkout_cut_short_by_its_time_limit_never_stops_later_syncs(
    ledger: Path, remote: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ours: bool
) -> None:
    # A commit too big to check out in time, played by a filter that hangs on its last file:
    # the files written before stayed, untracked, and git refused every later integration.
    files = {f"data/f{i:03}": b"theirs\n" for i in range(100)}
    files["data/zz"] = b"slow\n"
    files[".gitattributes"] = b"data/zz filter=slow\n"
    teammate_pushes(remote, tmp_path / "mate", files)
    hung = tmp_path / "hung"
    slow = f'sh -c \'[ -e "{hung}" ] || {{ touch "{hung}"; sleep 60; }}; cat\''
    git(ledger, "config", "filter.slow.smudge", slow)
    repo = Ledger(ledger)
    if ours:  # a rebase, not a fast-forward
        await repo.publish(NAME, {"raw.jsonl": OURS})
    monkeypatch.setattr(sync, "INTEGRATE_TIMEOUT", 2.0)
    with pytest.raises(sync.GitError, match="timed out"):
        await sync_ledger(repo)
    assert hung.exists()
    assert (ledger / "data" / "f099").read_bytes() == b"theirs\n"  # written before the end
    # One of them is changed meanwhile: that one is someone's, never removed.
    (ledger / "data" / "f050").write_bytes(b"someone's own\n")
    with pytest.raises(sync.GitError, match="data/f050"):
        await sync_ledger(repo)
    assert (ledger / "data" / "f050").read_bytes() == b"someone's own\n"
    (ledger / "data" / "f050").unlink()  # its owner moves it away
    await sync_ledger(repo)
    assert git(ledger, "status", "--porcelain") == ""
    assert tree(remote, "main").keys() >= files.keys() | (
        {f"sessions/{NAME}/raw.jsonl"} if ours else set()
    )


# ---------------------------------------------------------------- what the remote prints


async def test_a_server_hooks_terminal_escapes_never_reach_status(
    ledger: Path, remote: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nprintf '\\033[2J\\033]0;owned\\007\\233H denied\\n' >&2\nexit 1\n")
    hook.chmod(0o755)
    repo = Ledger(ledger)
    await repo.publish(NAME, {"raw.jsonl": OURS})
    with caplog.at_level(logging.WARNING):
        state = await LedgerSyncer(repo).sync_once()
    assert r"\x1b[2J\x1b]0;owned\x07" in state.last_error
    for text in (state.last_error, *(r.getMessage() for r in caplog.records)):
        assert not any(ord(c) < 32 and c not in "\n\t" for c in text)


async def test_a_teammates_file_name_with_escapes_never_reaches_status(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    teammate_pushes(remote, tmp_path / "mate", {".ox/cache/\x1b[2J\u202e": b"x\n"})
    state = await LedgerSyncer(Ledger(ledger)).sync_once()
    assert r"\x1b[2J\u202e" in state.paused
    assert r"\x1b[2J\u202e" in state.last_error
