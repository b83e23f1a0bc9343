"""A nested `.gitattributes` routes sessions through LFS while ox, which reads only the top
`.gitattributes`, believes the ledger has no LFS: the push is neither pinned to the clone's
endpoint nor paused, and git-lfs' pre-push hook uploads the sessions to the server a
teammate's `.lfsconfig` names (`lfs.pushurl`: a key `_uses_lfs` does not look at).
Failed before every push was pinned and checked (`LedgerFacts.check_push`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ox_core.errors import LedgerBlockedError
from ox_handler_session_finalize.ledger import Ledger
from ox_handler_session_finalize.sync import sync_ledger

from .conftest import LfsServer
from .finalize_support import git
from .test_hostile_remote import NAME, teammate_commits
from .test_hostile_remote import evil as evil


@pytest.mark.parametrize("endpoint", ["remote-lfsurl", "remote-own"])
async def test_a_nested_gitattributes_never_sends_sessions_to_a_teammates_endpoint(
    ledger: Path,
    remote: Path,
    lfs_server: LfsServer,
    evil: LfsServer,
    tmp_path: Path,
    endpoint: str,
) -> None:
    if endpoint == "remote-lfsurl":
        # The clone names its team's LFS server in its own git config (the remote's
        # `lfsurl`, one of the keys docs/ledger-layout.md lists as pinning uploads).
        git(ledger, "config", "remote.origin.lfsurl", lfs_server.url)
    else:
        # The remote's own LFS ("needs nothing"): a `file://` remote stores objects beside it.
        git(ledger, "remote", "set-url", "origin", f"file://{remote}")
    git(ledger, "config", "lfs.locksverify", "false")
    (ledger / ".gitattributes").write_text(
        "sessions/**/raw.jsonl filter=lfs diff=lfs merge=lfs -text\n"
    )
    git(ledger, "add", ".gitattributes")
    git(ledger, "commit", "-q", "-m", "lfs")
    repo = Ledger(ledger)
    first = b'{"type":"user","content":"first"}\n'
    await repo.publish("2026-11-25T08-00-dev-a0", {"raw.jsonl": first})
    await sync_ledger(repo)
    # A teammate moves the LFS rule into `sessions/.gitattributes` and names their server.
    teammate_commits(
        remote,
        tmp_path / "mate",
        {
            ".gitattributes": b"# moved to sessions/.gitattributes\n",
            "sessions/.gitattributes": b"** filter=lfs diff=lfs merge=lfs -text\n",
            ".lfsconfig": f"[lfs]\n\tpushurl = {evil.url}\n".encode(),
        },
    )
    await sync_ledger(repo)
    await repo.publish(NAME, {"raw.jsonl": b'{"type":"user","content":"private"}\n'})
    if endpoint == "remote-lfsurl":
        await sync_ledger(repo)  # pinned: to the clone's own server
        assert any(b"private" in data for data in lfs_server.objects().values())
    else:
        # Only `.lfsconfig` names an endpoint: paused until a person names one.
        with pytest.raises(LedgerBlockedError, match="sends LFS uploads to"):
            await sync_ledger(repo)
    assert evil.objects() == {}
