"""Red team, the undo of a failed publish and LFS downloads: `restore_paths` checks a folder
out of HEAD with git-lfs' smudge on, and git-lfs takes the download endpoint from a teammate's
committed `.lfsconfig` (`lfs.url`) whenever this clone's git config names none for downloads
(only `lfs.pushurl`, or only the remote's `lfsurl`, which `lfs.url` outranks). The undo must
fetch the user's own content from the user's own server and never ask the teammate's (two
real LFS servers on loopback, real git repositories, a bare remote on disk)."""

from __future__ import annotations

import hashlib
import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ox_handler_session_finalize.git import has_git_lfs
from ox_handler_session_finalize.ledger import Ledger, LfsUploadError
from ox_handler_session_finalize.sync import sync_ledger

from .finalize_support import git
from .lfs_server import Handler, Server
from .test_hostile_remote import teammate_commits
from .test_same_name import OURS, THEIRS_RAW

NAME = "2026-11-25T10-00-dev-a1"
FIRST = b"# The first summary\n\nwritten by the user's own ox\n"
SECOND = b"# The retried summary\n"
THEIR_SUMMARY = b"# A teammate's summary\n"


class RecordingServer:
    """`lfs_server`'s LFS server in a thread of this process, which records every request
    it receives (`requests`) and refuses uploads while `refuse_uploads` is set."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.storage = root
        self.requests: list[str] = []
        self.refuse_uploads = False
        owner = self

        class Recording(Handler):
            storage = root

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                operation = json.loads(body or b"{}").get("operation")
                owner.requests.append(f"POST {self.path} {operation}")
                if owner.refuse_uploads and operation == "upload":
                    self._json(403, {"message": "uploads refused"})
                    return
                self.rfile = io.BytesIO(body)
                super().do_POST()

            def do_GET(self) -> None:
                owner.requests.append(f"GET {self.path}")
                super().do_GET()

            def do_PUT(self) -> None:
                owner.requests.append(f"PUT {self.path}")
                super().do_PUT()

        self.server = Server(("127.0.0.1", 0), Recording)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ledger.git/info/lfs"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[RecordingServer, RecordingServer]]:
    """The user's team LFS server and a teammate's own."""
    if not has_git_lfs():
        pytest.skip("git-lfs is not installed")
    own = RecordingServer(tmp_path / "own-lfs")
    try:
        theirs = RecordingServer(tmp_path / "their-lfs")
        try:
            yield own, theirs
        finally:
            theirs.close()
    finally:
        own.close()


def pointer(data: bytes) -> bytes:
    """The git-LFS pointer of `data`."""
    oid = hashlib.sha256(data).hexdigest()
    return (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {len(data)}\n".encode()
    )


def clone_names_own_server(ledger: Path, key: str, own: RecordingServer) -> None:
    git(ledger, "config", key, own.url)
    git(ledger, "config", "lfs.locksverify", "false")


@pytest.mark.parametrize("key", ["lfs.pushurl", "remote.origin.lfsurl"])
async def test_the_undo_of_a_failed_retry_never_downloads_from_a_teammates_endpoint(
    ledger: Path,
    remote: Path,
    tmp_path: Path,
    servers: tuple[RecordingServer, RecordingServer],
    key: str,
) -> None:
    # The clone names its team's server for uploads (`key`: only for uploads, or the
    # remote's `lfsurl`, which `lfs.url` outranks); a teammate commits a session whose
    # summary is an LFS pointer and a `.lfsconfig` naming their own server in `lfs.url`.
    # The retry of that session here fails to upload, and the undo checked the folder out of
    # HEAD with git-lfs' smudge on: git-lfs asked the teammate's server for the object id
    # the teammate chose (from this machine, with its credentials for that host).
    own, theirs = servers
    clone_names_own_server(ledger, key, own)
    (own.storage / hashlib.sha256(THEIR_SUMMARY).hexdigest()).write_bytes(THEIR_SUMMARY)
    teammate_commits(
        remote,
        tmp_path / "mate",
        {
            ".lfsconfig": f"[lfs]\n\turl = {theirs.url}\n".encode(),
            ".gitattributes": b"sessions/**/summary.md filter=lfs diff=lfs merge=lfs -text\n",
            f"sessions/{NAME}/raw.jsonl": THEIRS_RAW,
            f"sessions/{NAME}/summary.md": pointer(THEIR_SUMMARY),
        },
    )
    repo = Ledger(ledger)
    await sync_ledger(repo)
    own.refuse_uploads = True
    retry = {"raw.jsonl": THEIRS_RAW, "summary.md": SECOND}
    with pytest.raises(LfsUploadError):
        await repo.publish(NAME, retry, replace=True)
    assert theirs.requests == []
    # Put back as HEAD has it: its content fetched from the user's own server.
    assert git(ledger, "status", "--porcelain") == ""
    assert (ledger / "sessions" / NAME / "summary.md").read_bytes() == THEIR_SUMMARY
    assert any(r.startswith("GET ") for r in own.requests)


@pytest.mark.parametrize("key", ["lfs.pushurl", "remote.origin.lfsurl"])
async def test_the_undo_of_a_failed_retry_of_the_users_own_session_restores_its_content(
    ledger: Path,
    remote: Path,
    tmp_path: Path,
    servers: tuple[RecordingServer, RecordingServer],
    key: str,
) -> None:
    # Its own sessions' content is in the clone's LFS store: the undo puts it back as files
    # (never as pointers, which detection would never summarise again), asking no server.
    own, theirs = servers
    clone_names_own_server(ledger, key, own)
    lfsconfig = f"[lfs]\n\turl = {theirs.url}\n".encode()
    teammate_commits(remote, tmp_path / "mate", {".lfsconfig": lfsconfig})
    repo = Ledger(ledger)
    await sync_ledger(repo)
    first = await repo.publish(NAME, {"raw.jsonl": OURS, "summary.md": FIRST})
    assert first.committed
    assert first.lfs
    assert git(ledger, "show", f"HEAD:sessions/{NAME}/summary.md").startswith("version https://")
    own.refuse_uploads = True
    with pytest.raises(LfsUploadError):
        await repo.publish(NAME, {"raw.jsonl": OURS, "summary.md": SECOND}, replace=True)
    assert theirs.requests == []
    assert git(ledger, "status", "--porcelain") == ""
    assert (ledger / "sessions" / NAME / "summary.md").read_bytes() == FIRST
    assert (ledger / "sessions" / NAME / "raw.jsonl").read_bytes() == OURS


async def test_without_an_endpoint_of_its_own_the_undo_downloads_nothing(
    ledger: Path,
    remote: Path,
    tmp_path: Path,
    servers: tuple[RecordingServer, RecordingServer],
) -> None:
    # The clone names no LFS endpoint and ox does not publish through LFS (the top
    # `.gitattributes` routes nothing there), but a teammate's nested one routes `*.md` of
    # sessions through it and `.lfsconfig` names their server for the remote. A retry whose
    # folder cannot be written (their `summary.md` is a folder) is undone: the file it wrote
    # first was smudged from the teammate's server.
    _, theirs = servers
    git(ledger, "lfs", "install", "--local", "--skip-repo")
    teammate_commits(
        remote,
        tmp_path / "mate",
        {
            ".lfsconfig": f'[remote "origin"]\n\tlfsurl = {theirs.url}\n'.encode(),
            "sessions/.gitattributes": b"*.md filter=lfs diff=lfs merge=lfs -text\n",
            f"sessions/{NAME}/raw.jsonl": THEIRS_RAW,
            f"sessions/{NAME}/session.md": pointer(THEIR_SUMMARY),
            f"sessions/{NAME}/summary.md/notes": b"a folder where ox writes a file\n",
        },
    )
    repo = Ledger(ledger)
    await sync_ledger(repo)
    assert not (await repo.facts()).lfs
    retry = {"session.md": SECOND, "summary.md": SECOND, "raw.jsonl": THEIRS_RAW}
    with pytest.raises(IsADirectoryError):
        await repo.publish(NAME, retry, replace=True)
    assert theirs.requests == []
    assert git(ledger, "status", "--porcelain") == ""
    assert (ledger / "sessions" / NAME / "session.md").read_bytes() == pointer(THEIR_SUMMARY)
