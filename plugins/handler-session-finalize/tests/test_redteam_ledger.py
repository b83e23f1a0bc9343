"""A hostile teammate's commits against the publish and the sync, with real git repositories:
huge blobs in a folder of our session's name, and trees git would never make from a work tree
(links, gitlinks, `.gitmodules`, odd names, `sessions/` as a file)."""

from __future__ import annotations

import json
import re
import subprocess
import tracemalloc
from pathlib import Path

import pytest
import trio
import trio.testing

from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_handler_session_finalize.ledger import Ledger, PublishResult
from ox_handler_session_finalize.ledger_files import beside_names
from ox_handler_session_finalize.sync import SyncPaused, sync_ledger
from ox_session_capture import records
from ox_session_capture.confined import UnsafePathError

from .finalize_support import answer, clone, finalize_one, git, make_session
from .test_same_name import NAME, OURS, raw, show

FILES = {"raw.jsonl": OURS, "summary.json": b"{}"}
THEIR_ID = "ses_0192bbbb-0000-7000-8000-000000000002"
MiB = 1024 * 1024


def write_blob(repo: Path, chunks: list[bytes], repeat: int) -> str:
    """Store a blob of `chunks[0]` then `chunks[1:]` `repeat` times, streamed into git (no
    file of that size on disk); its id."""
    with subprocess.Popen(
        ["git", "-C", str(repo), "hash-object", "-w", "--stdin"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    ) as proc:
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.write(chunks[0])
        body = b"".join(chunks[1:])
        for _ in range(repeat):
            proc.stdin.write(body)
        proc.stdin.close()
        oid = proc.stdout.read().decode().strip()
        assert proc.wait(timeout=120) == 0
    return oid


def commit_entries(repo: Path, entries: dict[str, tuple[str, str]], message: str) -> None:
    """Commit `path -> (mode, object id)` into HEAD through the index only (what a teammate's
    hand-made tree would bring; the work tree is not touched)."""
    for path, (mode, oid) in entries.items():
        git(repo, "update-index", "--add", "--cacheinfo", f"{mode},{oid},{path}")
    git(repo, "commit", "-q", "-m", message)


def huge_raw(repo: Path, size: int) -> str:
    """A teammate's `raw.jsonl` of about `size` bytes whose header names their session."""
    line = json.dumps({"type": "user", "content": "x" * 1000}).encode() + b"\n"
    header = raw(THEIR_ID).split(b"\n", 1)[0] + b"\n"
    return write_blob(repo, [header, line], size // len(line))


# ---------------------------------------------------------------- huge blobs of a same name
# git's output is capped lower here than in the daemon (256 MiB), so that blobs over it and
# near it stay small enough for the suite: the reads at stake are bounded by the cap, not by
# its value.
GIT_CAP = 32 * MiB


@pytest.fixture(autouse=True)
def small_git_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    from ox_handler_session_finalize import git as git_module

    monkeypatch.setattr(git_module, "GIT_MAX_OUTPUT", GIT_CAP)


@pytest.mark.parametrize("size", [GIT_CAP * 3 // 4, GIT_CAP * 5 // 4])
async def test_a_huge_raw_of_a_teammate_under_our_name_is_not_read_whole(
    ledger: Path, size: int
) -> None:
    # Whose the folder is reads only its header line: 300 MB made git's output overflow (the
    # publish failed, retried for ever), 200 MB cost a gigabyte of memory.
    oid = huge_raw(ledger, size)
    commit_entries(ledger, {f"sessions/{NAME}/raw.jsonl": ("100644", oid)}, "teammate")
    repo = Ledger(ledger)
    tracemalloc.start()
    try:
        result = await repo.publish(NAME, FILES)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.committed
    assert result.name == beside_names(NAME, FILES)[1]
    assert show(ledger, "HEAD", f"sessions/{result.name}/raw.jsonl") == OURS
    assert git(ledger, "rev-parse", f"HEAD:sessions/{NAME}/raw.jsonl").strip() == oid
    assert peak < 8 * MiB


async def test_a_huge_raw_of_ours_under_our_name_is_still_found_as_ours(ledger: Path) -> None:
    # The same read of the header finds a folder of ours by its session id, however big.
    ours_id = json.loads(OURS.split(b"\n", 1)[0])["_meta"]["session_id"]
    line = json.dumps({"type": "user", "content": "x" * 1000}).encode() + b"\n"
    header = raw(ours_id).split(b"\n", 1)[0] + b"\n"
    oid = write_blob(ledger, [header, line], GIT_CAP * 5 // 4 // len(line))
    commit_entries(ledger, {f"sessions/{NAME}/raw.jsonl": ("100644", oid)}, "ours, earlier")
    result = await Ledger(ledger).publish(NAME, FILES)
    assert (result.name, result.committed) == (NAME, True)
    assert show(ledger, "HEAD", f"sessions/{NAME}/raw.jsonl") == OURS


async def test_a_huge_meta_of_a_teammate_beside_an_lfs_pointer_is_not_read_whole(
    ledger: Path,
) -> None:
    # Their raw.jsonl is an LFS pointer: the session id would come from meta.json, which
    # here is over git's output cap. Too big to be ox's: not ours, and the publish goes beside it.
    pointer = (
        b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"ab" * 32 + b"\nsize 12\n"
    )
    pointer_oid = write_blob(ledger, [pointer], 0)
    meta_oid = write_blob(
        ledger, [b'{"session_id": "x", "pad": "', b"y" * MiB], GIT_CAP * 5 // 4 // MiB
    )
    commit_entries(
        ledger,
        {
            f"sessions/{NAME}/raw.jsonl": ("100644", pointer_oid),
            f"sessions/{NAME}/meta.json": ("100644", meta_oid),
        },
        "teammate",
    )
    result = await Ledger(ledger).publish(NAME, FILES)
    assert result.committed
    assert result.name == beside_names(NAME, FILES)[1]


# ---------------------------------------------------------------- hand-made trees


def mktree(repo: Path, entries: dict[str, tuple[str, str]]) -> str:
    """A tree of `path -> (mode, object id)`, made with `git mktree` level by level: paths
    git would refuse in an index (`.git`, control characters) go in as they are."""
    here: dict[str, tuple[str, str]] = {}
    below: dict[str, dict[str, tuple[str, str]]] = {}
    for path, entry in entries.items():
        head, sep, rest = path.partition("/")
        if sep:
            below.setdefault(head, {})[rest] = entry
        else:
            here[head] = entry
    for name, sub in below.items():
        here[name] = ("040000", mktree(repo, sub))
    kinds = {"040000": "tree", "160000": "commit"}
    lines = "".join(
        f"{mode} {kinds.get(mode, 'blob')} {oid}\t{name}\0"
        for name, (mode, oid) in sorted(here.items())
    )
    made = subprocess.run(
        ["git", "-C", str(repo), "mktree", "-z", "--missing"],
        input=lines.encode(),
        capture_output=True,
        check=True,
    )
    return made.stdout.decode().strip()


def blob(repo: Path, data: bytes) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "hash-object", "-w", "--stdin"],
        input=data,
        capture_output=True,
        check=True,
    )
    return done.stdout.decode().strip()


def hostile_push(
    remote: Path,
    root: Path,
    files: dict[str, tuple[str, bytes | str]],
    *,
    drop: tuple[str, ...] = (),
) -> str:
    """A teammate pushes a commit whose tree is the remote's, less the paths under `drop`,
    plus `files` (`path -> (mode, content)`; a gitlink's content is a commit id). Made with
    plumbing, so any tree git can store, whatever its index would refuse. The commit id."""
    mate = clone(remote, root)
    listed = git(mate, "ls-tree", "-r", "-z", "HEAD").split("\0")
    entries: dict[str, tuple[str, str]] = {}
    for record in filter(None, listed):
        meta, path = record.split("\t", 1)
        if not any(path == d or path.startswith(d + "/") for d in drop):
            mode, _, oid = meta.split()
            entries[path] = (mode, oid)
    for path, (mode, content) in files.items():
        oid = content if isinstance(content, str) else blob(mate, content)
        entries[path] = (mode, oid)
    tree = mktree(mate, entries)
    commit = git(mate, "commit-tree", tree, "-p", "HEAD", "-m", "teammate").strip()
    git(mate, "push", "-q", "origin", f"{commit}:refs/heads/main")
    return commit


MATE = "2026-11-25T09-00-mate-b2"


async def publish_together(
    repo: Ledger, requests: list[tuple[str, dict[str, bytes], bool]]
) -> dict[str, PublishResult | BaseException]:
    """`publish` of each `(name, files, replace)` at one moment: one batch, one commit."""
    results: dict[str, PublishResult | BaseException] = {}

    async def one(name: str, files: dict[str, bytes], replace: bool) -> None:
        try:
            results[name] = await repo.publish(name, files, replace=replace)
        except Exception as exc:
            results[name] = exc

    async with trio.open_nursery() as nursery:
        await repo.lock.acquire()
        for name, files, replace in requests:
            nursery.start_soon(one, name, files, replace)
        await trio.testing.wait_all_tasks_blocked()  # all wait for the lock: one batch
        repo.lock.release()
    return results


@pytest.mark.parametrize("sub", ["sub", ".sub", "deep/er/sub"])
async def test_a_gitlink_inside_a_committed_folder_never_blocks_a_publish(
    ledger: Path, remote: Path, tmp_path: Path, sub: str
) -> None:
    # A teammate's folder that needs a summary (every ox summarises it as a courtesy, and
    # publishes it into that very folder) holds a gitlink: its folder is empty in the work
    # tree, and `git commit -- sessions/<name>` failed on it ("does not have a commit checked
    # out"), for that session and every session of its batch, at every attempt.
    commit = git(ledger, "rev-parse", "HEAD").strip()
    theirs = raw(THEIR_ID, "theirs")
    hostile_push(
        remote,
        tmp_path / "mate",
        {
            f"sessions/{MATE}/raw.jsonl": ("100644", theirs),
            f"sessions/{MATE}/{sub}": ("160000", commit),
        },
    )
    repo = Ledger(ledger)
    await sync_ledger(repo)
    assert (ledger / "sessions" / MATE / sub).is_dir()
    summarised = {"raw.jsonl": theirs, "summary.json": b"{}"}
    results = await publish_together(repo, [(MATE, summarised, True), (NAME, FILES, False)])
    assert results[NAME] == PublishResult(committed=True, pushed=False, lfs=False, name=NAME)
    assert results[MATE] == PublishResult(committed=True, pushed=False, lfs=False, name=MATE)
    # The folder it publishes into holds exactly its files, and nothing is left staged.
    listed = git(ledger, "ls-tree", "-r", "--name-only", "HEAD", f"sessions/{MATE}/").split()
    assert listed == [f"sessions/{MATE}/raw.jsonl", f"sessions/{MATE}/summary.json"]
    assert show(ledger, "HEAD", f"sessions/{NAME}/raw.jsonl") == OURS
    assert git(ledger, "status", "--porcelain") == ""
    assert (await sync_ledger(repo)).pushed


async def test_a_teammates_session_with_a_gitlink_is_summarised_and_published(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # The same through the handler: detection takes the teammate's folder (no summary yet),
    # the agent summarises it, and its exports replace the folder, gitlink and all.
    transcript = (make_session(tmp_path / "made", MATE) / records.RAW).read_bytes()
    commit = git(ledger, "rev-parse", "HEAD").strip()
    hostile_push(
        remote,
        tmp_path / "mate",
        {
            f"sessions/{MATE}/raw.jsonl": ("100644", transcript),
            f"sessions/{MATE}/sub": ("160000", commit),
        },
    )
    await sync_ledger(Ledger(ledger))
    outcome = await finalize_one(handler, ledger, answer())
    assert outcome.kind == "published", outcome.reason
    listed = git(ledger, "ls-tree", "--name-only", "HEAD", f"sessions/{MATE}/").split()
    assert f"sessions/{MATE}/summary.json" in listed
    assert f"sessions/{MATE}/sub" not in listed
    assert git(ledger, "status", "--porcelain") == ""


@pytest.mark.parametrize("ahead", [False, True], ids=["behind", "ahead-and-behind"])
@pytest.mark.parametrize("where", [".git/config", ".GIT/hooks/post-checkout", "x/.git"])
async def test_a_path_git_refuses_to_check_out_pauses_with_the_path(
    ledger: Path, remote: Path, tmp_path: Path, ahead: bool, where: str
) -> None:
    # Git stores a tree holding `.git` but never checks it out ("invalid path"): the sync
    # failed with git's own error at every pass, as if the remote were away, instead of
    # saying what a person has to remove.
    planted = f"sessions/{MATE}/{where}"
    hook = tmp_path / "ran"
    hostile_push(
        remote,
        tmp_path / "mate",
        {planted: ("100755", f"#!/bin/sh\ntouch {hook}\n".encode())},
    )
    repo = Ledger(ledger)
    if ahead:
        await repo.publish(NAME, FILES)
    head = git(ledger, "rev-parse", "HEAD")
    with pytest.raises(SyncPaused, match=re.escape(planted)) as paused:
        await sync_ledger(repo)
    assert "\n" not in str(paused.value)
    assert git(ledger, "rev-parse", "HEAD") == head
    assert git(ledger, "status", "--porcelain") == ""
    assert not (ledger / "sessions" / MATE).exists()
    assert not hook.exists()
    # Publishing goes on meanwhile.
    assert (await repo.publish("2026-11-25T11-00-dev-a3", {"raw.jsonl": raw("ses_3")})).committed


# ---------------------------------------------------------------- attacks that held


def never_holds(repo: Path, text: str) -> bool:
    """Whether no commit of any ref holds `text` in a file."""
    revs = git(repo, "rev-list", "--all").split()
    found = subprocess.run(
        ["git", "-C", str(repo), "grep", "-q", "-F", text, *revs],
        capture_output=True,
        check=False,
    )
    return found.returncode == 1


@pytest.mark.parametrize("ahead", [False, True], ids=["behind", "ahead-and-behind"])
@pytest.mark.parametrize("kind", ["file", "link"])
async def test_sessions_made_a_file_or_a_link_never_writes_outside_nor_drops_a_commit(
    ledger: Path, remote: Path, tmp_path: Path, kind: str, ahead: bool
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    repo = Ledger(ledger)
    await repo.publish("2026-11-25T08-00-dev-a0", {"raw.jsonl": raw("ses_first")})
    await sync_ledger(repo)
    entry = ("100644", b"x\n") if kind == "file" else ("120000", str(outside).encode())
    hostile_push(remote, tmp_path / "mate", {"sessions": entry}, drop=("sessions",))
    if ahead:
        await repo.publish(NAME, FILES)
        head = git(ledger, "rev-parse", "HEAD")
        # Our commits write under `sessions/`: a conflict for a person, the ledger as it was.
        with pytest.raises(SyncPaused, match="sessions"):
            await sync_ledger(repo)
        assert git(ledger, "rev-parse", "HEAD") == head
        assert show(ledger, "HEAD", f"sessions/{NAME}/raw.jsonl") == OURS
    else:
        await sync_ledger(repo)
        with pytest.raises(UnsafePathError, match="sessions"):
            await repo.publish(NAME, FILES)
    assert git(ledger, "status", "--porcelain") == ""
    assert list(outside.iterdir()) == []


async def test_a_submodule_with_a_command_url_is_never_fetched_nor_run(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    ran = tmp_path / "ran"
    commit = git(ledger, "rev-parse", "HEAD").strip()
    modules = (
        f'[submodule "x"]\n\tpath = sessions/{MATE}\n\turl = ext::sh -c touch% {ran}\n'
        f'[submodule "y"]\n\tpath = sessions/{MATE}-y/sub\n\turl = {remote}\n'
    )
    git(ledger, "config", "protocol.ext.allow", "always")  # even where a person allowed it
    git(ledger, "config", "submodule.recurse", "true")
    repo = Ledger(ledger)
    await repo.publish("2026-11-25T08-00-dev-a0", {"raw.jsonl": raw("ses_first")})
    hostile_push(
        remote,
        tmp_path / "mate",
        {
            ".gitmodules": ("100644", modules.encode()),
            f"sessions/{MATE}": ("160000", commit),
            f"sessions/{MATE}-y/sub": ("160000", commit),
            f"sessions/{MATE}-y/raw.jsonl": ("100644", raw("ses_y")),
        },
    )
    await repo.publish(NAME, FILES)
    assert (await sync_ledger(repo)).pushed == 2
    assert not ran.exists()
    assert not (ledger / ".git" / "modules").exists()
    assert list((ledger / "sessions" / MATE).iterdir()) == []


async def test_links_and_gitlinks_put_into_our_pushed_folder_are_never_followed(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("TOPSECRET\n")
    repo = Ledger(ledger)
    await repo.publish(NAME, FILES)
    await sync_ledger(repo)
    commit = git(ledger, "rev-parse", "HEAD").strip()
    link = ("120000", str(secret).encode())
    hostile_push(
        remote,
        tmp_path / "mate",
        {
            f"sessions/{NAME}/raw.jsonl": link,
            f"sessions/{NAME}/summary.md": link,
            f"sessions/{NAME}/deep/er/file": link,
            f"sessions/{NAME}/sub": ("160000", commit),
            f"sessions/{NAME}/a\nb\x1b[31m": ("100644", b"x"),
        },
    )
    # A later commit of ours to the folder (a retry) meets theirs in the rebase.
    await repo.publish(NAME, {**FILES, "summary.json": b'{"t": 1}'}, replace=True)
    await sync_ledger(repo)
    # Published again from the cache: their folder no longer holds our transcript.
    again = await repo.publish(NAME, {**FILES, "summary.json": b'{"t": 2}'})
    assert again.name == beside_names(NAME, FILES)[1]
    # A retry of the folder itself makes it exactly ours again.
    retry = await repo.publish(NAME, {**FILES, "summary.json": b'{"t": 3}'}, replace=True)
    assert retry.committed
    listed = git(ledger, "ls-tree", "-r", "HEAD", f"sessions/{NAME}/").splitlines()
    assert [line.split()[0] for line in listed] == ["100644", "100644"]
    await sync_ledger(repo)
    assert never_holds(ledger, "TOPSECRET")
    assert git(ledger, "status", "--porcelain") == ""
