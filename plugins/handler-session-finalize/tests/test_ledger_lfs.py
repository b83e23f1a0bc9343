"""Git-LFS against a real LFS server process on 127.0.0.1 (tests/lfs_server.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ox_core import RunResult
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_handler_session_finalize.ledger import LfsUploadError
from ox_session_capture import records
from ox_session_capture.testing import secret_shapes

from .conftest import LfsServer
from .finalize_support import answer, clone, commit_count, entries, git, make_session

SECRET_SHAPES = secret_shapes()

NAME = "2026-11-25T11-00-dev-a1"


def use_lfs(ledger: Path, server: LfsServer) -> None:
    git(ledger, "config", "lfs.url", server.url)
    git(ledger, "config", "lfs.locksverify", "false")


def pointer_oid(text: str) -> str:
    assert text.startswith("version https://git-lfs.github.com/spec/v1\n"), text[:80]
    line = next(ln for ln in text.splitlines() if ln.startswith("oid sha256:"))
    return line.removeprefix("oid sha256:")


async def finalize(handler: SessionFinalizeHandler, ledger: Path, output: str) -> None:
    for item in await handler.detect(ledger):
        request = await handler.build_prompt(item)
        await handler.process_result(
            item, RunResult() if request.skip_llm else RunResult(output=output)
        )


async def test_lfs_content_lands_on_the_server(
    handler: SessionFinalizeHandler,
    ledger: Path,
    remote: Path,
    lfs_server: LfsServer,
    tmp_path: Path,
) -> None:
    use_lfs(ledger, lfs_server)
    make_session(records.ledger_cache_sessions(ledger), NAME)
    await finalize(handler, ledger, answer())

    check = clone(remote, tmp_path / "check")  # without smudge: pointers as committed
    folder = check / "sessions" / NAME
    stored = lfs_server.objects()
    for fname in ("raw.jsonl", "summary.md", "session.md"):
        oid = pointer_oid((folder / fname).read_text())
        assert oid in stored
        assert hashlib.sha256(stored[oid]).hexdigest() == oid
    assert b'"type": "assistant"' in stored[pointer_oid((folder / "raw.jsonl").read_text())]
    # JSON records stay plain git blobs.
    assert (folder / "meta.json").read_text().startswith("{")
    assert "sessions/**/raw.jsonl filter=lfs" in (check / ".gitattributes").read_text()
    # A smudging clone gets the real content back from the server.
    full = clone(remote, tmp_path / "full")
    git(full, "lfs", "install", "--local")
    git(full, "config", "lfs.url", lfs_server.url)
    git(full, "lfs", "pull")
    assert "# Refactor the parser" in (full / "sessions" / NAME / "summary.md").read_text()


async def test_lfs_down_defers_then_publishes(
    handler: SessionFinalizeHandler,
    ledger: Path,
    remote: Path,
    lfs_server: LfsServer,
    tmp_path: Path,
) -> None:
    use_lfs(ledger, lfs_server)
    lfs_server.stop()
    cache = records.ledger_cache_sessions(ledger)
    folder = make_session(cache, NAME)
    remote_head = git(remote, "rev-parse", "HEAD")
    ledger_head = git(ledger, "rev-parse", "HEAD")
    with pytest.raises(LfsUploadError, match="deferred"):
        await finalize(handler, ledger, answer())
    # Deferred: the cache copy is intact, nothing committed or pushed, the ledger tidy.
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "meta.json",
        "raw.jsonl",
        "session.md",
        "summary.json",
        "summary.md",
    ]
    assert git(remote, "rev-parse", "HEAD") == remote_head
    assert git(ledger, "rev-parse", "HEAD") == ledger_head
    assert not (ledger / "sessions" / NAME).exists()
    assert git(ledger, "diff", "--cached", "--name-only").strip() == ""
    assert lfs_server.objects() == {}

    lfs_server.start()
    items = await handler.detect(ledger)
    assert [i.payload["kind"] for i in items] == ["upload-only"]
    await finalize(handler, ledger, answer())
    assert not folder.exists()
    assert commit_count(remote) == commit_count(ledger)
    check = clone(remote, tmp_path / "check")
    oid = pointer_oid((check / "sessions" / NAME / "raw.jsonl").read_text())
    assert oid in lfs_server.objects()


async def test_secrets_never_reach_the_remote(
    handler: SessionFinalizeHandler,
    ledger: Path,
    remote: Path,
    lfs_server: LfsServer,
    tmp_path: Path,
) -> None:
    use_lfs(ledger, lfs_server)
    lines = entries()
    for i, (_, text, _) in enumerate(SECRET_SHAPES):
        lines.append({"ts": lines[0]["ts"], "type": "user", "content": f"step {i}: {text}"})
        lines.append(
            {
                "ts": lines[0]["ts"],
                "type": "tool",
                "tool_name": "Bash",
                "tool_input": f'{{"command": "{text!r}"}}',
            }
        )
    make_session(records.ledger_cache_sessions(ledger), NAME, lines)
    # The agent even quotes a secret back in its summary.
    leaked = next(text for kind, text, _ in SECRET_SHAPES if kind == "GITHUB_TOKEN")
    await finalize(
        handler, ledger, answer(summary=f"The user pasted {leaked} while fixing the remote.")
    )

    check = clone(remote, tmp_path / "check")
    everything = git(check, "log", "-p", "--all", "--format=%B")
    everything += "".join(
        p.read_text(errors="replace") for p in (check / "sessions" / NAME).iterdir()
    )
    everything += "".join(data.decode(errors="replace") for data in lfs_server.objects().values())
    assert "[REDACTED_GITHUB_TOKEN]" in everything
    for kind, _, secret in SECRET_SHAPES:
        assert secret not in everything, kind
