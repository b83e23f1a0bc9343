"""A fresh red-team pass on what teammates commit to the shared ledger (real git repositories,
a bare remote on disk, real LFS servers on loopback)."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from ox_core import RunResult
from ox_core.errors import LedgerBlockedError
from ox_core.testing import wait_for
from ox_handler_session_finalize.compat import PublishedCount
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_handler_session_finalize.ledger import Ledger, LfsUploadError
from ox_handler_session_finalize.ledger_setup import ensure_ignore_lines
from ox_handler_session_finalize.sync import SyncPaused, sync_ledger
from ox_session_capture import records

from .conftest import LfsServer
from .finalize_support import answer, git, make_session
from .test_hostile_remote import NAME, teammate_commits
from .test_hostile_remote import evil as evil
from .test_redteam_ledger import FILES, MATE, THEIR_ID, hostile_push, never_holds
from .test_same_name import OURS, raw

PRIVATE = b'{"type":"user","content":"private"}\n'
LFS_LINE = b"sessions/**/raw.jsonl filter=lfs diff=lfs merge=lfs -text\n"


def commit_included_endpoint(remote: Path, root: Path, url: str, include: str) -> None:
    """A teammate routes sessions through LFS and names `url` in a file `.lfsconfig` only
    includes."""
    teammate_commits(
        remote,
        root,
        {
            ".gitattributes": LFS_LINE,
            ".lfsconfig": f"[{include}]\n\tpath = docs/lfs.cfg\n".encode(),
            "docs/lfs.cfg": f"[lfs]\n\turl = {url}\n\tpushurl = {url}\n".encode(),
        },
    )


# ---------------------------------------------------------------- LFS


@pytest.mark.parametrize("include", ["include", 'includeIf "gitdir:/"'])
async def test_a_lfsconfig_that_includes_another_file_never_redirects_uploads(
    ledger: Path, remote: Path, evil: LfsServer, tmp_path: Path, include: str
) -> None:
    # git-lfs follows `[include] path = ...` in `.lfsconfig` (it warns that `include.path` is
    # an unsafe key, then takes `lfs.url` from the included file all the same); ox read the
    # file without its includes and saw no endpoint: nothing paused, and the sessions went to
    # the included file's server. The clone names no endpoint (the remote's own LFS).
    git(ledger, "remote", "set-url", "origin", f"file://{remote}")
    git(ledger, "config", "lfs.locksverify", "false")
    commit_included_endpoint(remote, tmp_path / "mate", evil.url, include)
    repo = Ledger(ledger)
    # Committed before the sync brings the file in: its push pauses.
    await repo.publish("2026-11-25T08-00-dev-a0", {"raw.jsonl": PRIVATE})
    with pytest.raises(LedgerBlockedError, match=r"\.lfsconfig .*\[include\]"):
        await sync_ledger(repo)
    # Published after: the publish pauses.
    head = git(ledger, "rev-parse", "HEAD")
    with pytest.raises(LedgerBlockedError, match=r"\.lfsconfig .*\[include\]"):
        await repo.publish(NAME, {"raw.jsonl": PRIVATE})
    assert git(ledger, "rev-parse", "HEAD") == head
    assert evil.objects() == {}
    assert "sessions/" not in git(remote, "ls-tree", "-r", "--name-only", "main")


async def test_an_included_endpoint_never_outranks_the_clones_own(
    ledger: Path, remote: Path, lfs_server: LfsServer, evil: LfsServer, tmp_path: Path
) -> None:
    # The clone names its team's server: uploads are pinned there, whatever is included.
    git(ledger, "config", "lfs.url", lfs_server.url)
    git(ledger, "config", "lfs.locksverify", "false")
    commit_included_endpoint(remote, tmp_path / "mate", evil.url, "include")
    repo = Ledger(ledger)
    await sync_ledger(repo)
    assert (await repo.publish(NAME, {"raw.jsonl": PRIVATE})).committed
    assert (await sync_ledger(repo)).pushed
    assert evil.objects() == {}
    assert PRIVATE in lfs_server.objects().values()


# ---------------------------------------------------------------- the ledger's own files


@pytest.mark.parametrize("target", ["outside", "inside"])
async def test_a_gitignore_made_a_link_never_stops_the_sync_service(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path, target: str
) -> None:
    # `ensure_ignore_lines`, first thing of the service, refused the link (never read nor
    # written through) with an `UnsafePathError`, which `serve` did not catch: the service
    # died before its first sync, and again at each restart; the ledger never synced again.
    secret = tmp_path / "secret"
    secret.write_text("TOPSECRET\n")
    link = str(secret) if target == "outside" else "docs/ignore"
    files: dict[str, tuple[str, bytes | str]] = {".gitignore": ("120000", link.encode())}
    if target == "inside":
        files["docs/ignore"] = ("100644", b"*.log\n")
    hostile_push(remote, tmp_path / "mate", files)
    repo = handler.ledger(ledger)
    await sync_ledger(repo)
    assert (ledger / ".gitignore").is_symlink()
    with pytest.raises(LedgerBlockedError, match=r"\.gitignore"):
        await ensure_ignore_lines(repo)
    async with trio.open_nursery() as nursery:
        await nursery.start(handler.serve, ledger)
        syncer = handler.syncer(ledger)
        await wait_for("a sync pass", lambda: syncer.state.last_ok or syncer.state.last_error)
        nursery.cancel_scope.cancel()
    assert syncer.state.last_ok is not None, syncer.state.last_error
    assert secret.read_text() == "TOPSECRET\n"
    assert never_holds(ledger, "TOPSECRET")


# ---------------------------------------------------------------- paths git cannot write


@pytest.mark.parametrize("ahead", [False, True], ids=["behind", "ahead-and-behind"])
@pytest.mark.parametrize("shape", ["long-name", "long-path"])
async def test_a_path_too_long_to_check_out_pauses_and_changes_nothing(
    ledger: Path, remote: Path, tmp_path: Path, shape: str, ahead: bool
) -> None:
    # Git stores any length; the checkout fails on ENAMETOOLONG. The sync failed with git's
    # error at every pass and, when ahead, the rebase (stopped before it began, so never
    # aborted) left our committed session deleted from the work tree.
    if shape == "long-name":
        planted = f"sessions/{MATE}/" + "x" * 300
    else:
        planted = f"sessions/{MATE}/" + "/".join(["y" * 200] * 25) + "/raw.jsonl"
    hostile_push(remote, tmp_path / "mate", {planted: ("100644", b"x\n")})
    repo = Ledger(ledger)
    if ahead:
        await repo.publish(NAME, FILES)
    head = git(ledger, "rev-parse", "HEAD")
    for _ in range(2):
        with pytest.raises(SyncPaused, match=r"too long .*nothing was changed") as paused:
            await sync_ledger(repo)
        assert len(str(paused.value)) < 1000
        assert git(ledger, "rev-parse", "HEAD") == head
        assert git(ledger, "status", "--porcelain") == ""
    assert not (ledger / "sessions" / MATE).exists()
    if ahead:
        assert (ledger / "sessions" / NAME / "raw.jsonl").read_bytes() == OURS
    # Publishing goes on meanwhile.
    assert (await repo.publish("2026-11-25T11-00-dev-a3", {"raw.jsonl": raw("ses_3")})).committed


# ---------------------------------------------------------------- a publish that fails


async def test_a_failed_retry_of_a_folder_with_a_non_ascii_name_leaves_it_as_head_has_it(
    ledger: Path, remote: Path, lfs_server: LfsServer, tmp_path: Path
) -> None:
    # A teammate's session named after `josé` is summarised here (the retry of a committed
    # folder) while the LFS server is away: the publish is undone. The undo asked git which
    # paths HEAD holds line by line, where git quotes such a name: the folder matched none
    # and was deleted from the work tree (a change the next sync pauses on, and any
    # `git commit -a` would publish).
    name = "2026-11-25T09-00-josé-b2"
    theirs = raw(THEIR_ID, "theirs")
    teammate_commits(remote, tmp_path / "mate", {f"sessions/{name}/raw.jsonl": theirs})
    git(ledger, "config", "lfs.url", lfs_server.url)
    repo = Ledger(ledger)
    await sync_ledger(repo)
    lfs_server.stop()
    retry = {"raw.jsonl": theirs, "summary.json": b'{"title": "t"}'}
    with pytest.raises(LfsUploadError):
        await repo.publish(name, retry, replace=True)
    assert git(ledger, "status", "--porcelain") == ""
    assert (ledger / "sessions" / name / "raw.jsonl").read_bytes() == theirs
    assert not (ledger / "sessions" / name / "summary.json").exists()


# ---------------------------------------------------------------- files ox reads


@pytest.mark.parametrize("shape", ["link", "folder", "huge"])
async def test_an_unreadable_gitattributes_pauses_publishing_never_the_sync(
    ledger: Path, remote: Path, tmp_path: Path, shape: str
) -> None:
    # `.gitattributes` says whether sessions go through LFS, and ox never reads it through a
    # link (nor a folder, nor past 1 MiB). Learning the facts raised, and the sync learns them
    # before it fetches: no sync ever fetched the teammate's repair, on every clone of the
    # team, until each person pulled it by hand.
    planted: dict[str, dict[str, tuple[str, bytes | str]]] = {
        "link": {".gitattributes": ("120000", str(tmp_path / "secret").encode())},
        "folder": {".gitattributes/x": ("100644", b"x\n")},
        "huge": {".gitattributes": ("100644", b"# " + b"x" * (2 * 1024 * 1024) + b"\n")},
    }
    (tmp_path / "secret").write_text("TOPSECRET\n")
    repo = Ledger(ledger)
    await repo.publish("2026-11-25T08-00-dev-a0", {"raw.jsonl": raw("ses_first")})
    hostile_push(remote, tmp_path / "mate", planted[shape])
    assert (await sync_ledger(repo)).pushed == 1
    head = git(ledger, "rev-parse", "HEAD")
    with pytest.raises(LedgerBlockedError, match=r"\.gitattributes"):
        await repo.publish(NAME, FILES)
    assert git(ledger, "rev-parse", "HEAD") == head
    assert git(ledger, "status", "--porcelain") == ""
    assert (await sync_ledger(repo)).integrated
    # The teammate repairs it: the next sync brings the repair, publishing goes on.
    repair = {".gitattributes": ("100644", b"# repaired\n")}
    hostile_push(remote, tmp_path / "mate2", repair, drop=(".gitattributes",))
    assert (await sync_ledger(repo)).integrated
    assert (await repo.publish(NAME, FILES)).committed
    assert (await sync_ledger(repo)).pushed == 1
    assert never_holds(ledger, "TOPSECRET")


# ---------------------------------------------------------------- attacks that held


@pytest.mark.parametrize(
    "where",
    [
        f"sessions/{MATE}/git~1/hooks/post-checkout",  # the NTFS short name of `.git`
        f"sessions/{MATE}/.git./config",
        f"sessions/{MATE}/.git /config",
        f"sessions/{MATE}/.git::$INDEX_ALLOCATION/config",
    ],
)
async def test_other_spellings_of_git_pause_with_the_path(
    ledger: Path, remote: Path, tmp_path: Path, where: str
) -> None:
    ran = tmp_path / "ran"
    hook = f"#!/bin/sh\ntouch {ran}\n".encode()
    hostile_push(remote, tmp_path / "mate", {where: ("100755", hook)})
    repo = Ledger(ledger)
    head = git(ledger, "rev-parse", "HEAD")
    with pytest.raises(SyncPaused, match=r"a path git refuses"):
        await sync_ledger(repo)
    assert git(ledger, "rev-parse", "HEAD") == head
    assert git(ledger, "status", "--porcelain") == ""
    assert not ran.exists()


async def test_a_gitmodules_link_pauses_and_is_never_read(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_text('[submodule "x"]\n\tpath = x\n\turl = ext::sh -c touch% /tmp/x\n')
    hostile_push(remote, tmp_path / "mate", {".gitmodules": ("120000", str(secret).encode())})
    repo = Ledger(ledger)
    await repo.publish(NAME, FILES)
    with pytest.raises(SyncPaused, match=r"'\.gitmodules', a path git refuses"):
        await sync_ledger(repo)
    assert not (ledger / ".gitmodules").exists()
    assert "sessions/" not in git(remote, "ls-tree", "-r", "--name-only", "main")


async def test_forged_records_of_teammates_never_stop_detection(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # Deep nesting (a RecursionError in `json`), integers of 10,000 digits (a ValueError
    # past Python's limit), NaN, infinity, a lone surrogate, in every JSON file ox reads
    # of a committed folder: each folder is skipped or summarised, none stops the scan.
    deep = "[" * 20_000 + "]" * 20_000
    big = "1" + "0" * 10_000
    forged = {
        "deep": deep,
        "big": f'{{"summary_attempts": {big}, "title": "t", "session_id": {big}}}',
        "odd": '{"summary_attempts": NaN, "title": "\\ud800", "files": {"a": {"size": 1e400}}}',
    }
    transcript = (make_session(tmp_path / "made", MATE) / records.RAW).read_bytes()
    files: dict[str, bytes] = {}
    for label, text in forged.items():
        for which in ("summary.json", "meta.json", "raw.jsonl"):
            folder = f"sessions/{MATE}-{label}-{which.split('.')[0]}"
            content = (text + "\n").encode() + transcript if which == "raw.jsonl" else transcript
            files[f"{folder}/raw.jsonl"] = content
            if which != "raw.jsonl":
                files[f"{folder}/{which}"] = text.encode()
    teammate_commits(remote, tmp_path / "mate", files)
    await sync_ledger(handler.ledger(ledger))
    make_session(records.ledger_cache_sessions(ledger), NAME)
    items = await handler.detect(ledger)
    assert NAME in {item.payload["name"] for item in items}
    assert PublishedCount().count(ledger) == (len(forged) * 3, 0)
    for item in items:
        request = await handler.build_prompt(item)
        result = RunResult() if request.skip_llm else RunResult(output=answer())
        outcome = await handler.process_result(item, result)
        assert outcome.kind in ("published", "kept", "nothing to do"), outcome
    assert git(ledger, "status", "--porcelain") == ""
