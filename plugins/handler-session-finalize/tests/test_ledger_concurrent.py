"""Two ledgers cloned from one remote finalize different sessions at the same time."""

from __future__ import annotations

from pathlib import Path

import trio

from ox_core import RunResult
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_handler_session_finalize.ledger import Ledger
from ox_handler_session_finalize.sync import sync_ledger
from ox_session_capture import records

from .finalize_support import answer, clone, commit_count, git, make_session


async def finalize(handler: SessionFinalizeHandler, ledger: Path) -> None:
    for item in await handler.detect(ledger):
        await handler.build_prompt(item)
        await handler.process_result(item, RunResult(output=answer()))


async def test_both_pushes_land(remote: Path, tmp_path: Path) -> None:
    ledgers = [clone(remote, tmp_path / f"ledger{i}") for i in range(2)]
    names = [f"2026-11-25T12-0{i}-dev-a{i}" for i in range(2)]
    for ledger, name in zip(ledgers, names, strict=True):
        make_session(records.ledger_cache_sessions(ledger), name)
    handlers = [SessionFinalizeHandler(user_cache_dir=tmp_path / f"uc{i}") for i in range(2)]
    for h in handlers:
        h.push_pause = 0.05
    base = commit_count(remote)
    async with trio.open_nursery() as nursery:
        for h, ledger in zip(handlers, ledgers, strict=True):
            nursery.start_soon(finalize, h, ledger)
    for h, ledger in zip(handlers, ledgers, strict=True):
        await sync_ledger(h.ledger(ledger))  # a push lost to the other one's: the next sync
    # Nothing lost: both commits are on the remote, history linear (rebased, no merge).
    assert commit_count(remote) == base + 2
    assert git(remote, "rev-list", "--merges", "HEAD").strip() == ""
    check = clone(remote, tmp_path / "check")
    for name in names:
        assert (check / "sessions" / name / "summary.md").exists()
    for ledger, name in zip(ledgers, names, strict=True):
        assert not (records.ledger_cache_sessions(ledger) / name).exists()


async def test_rejected_push_rebases_and_retries(remote: Path, tmp_path: Path) -> None:
    # Deterministic: B commits after A pushed, without pulling; B's push is rejected once.
    a, b = (clone(remote, tmp_path / n) for n in ("a", "b"))
    ledger_a = Ledger(a)
    await ledger_a.publish("s-a", {"raw.jsonl": b'{"type":"user","content":"a"}\n'})
    assert (await sync_ledger(ledger_a)).pushed == 1
    ledger_b = Ledger(b)
    ledger_b.push_pause = 0.01
    result = await ledger_b.publish("s-b", {"raw.jsonl": b'{"type":"user","content":"b"}\n'})
    assert (result.committed, result.pushed) == (True, False)  # publishing never pushes
    synced = await sync_ledger(ledger_b)
    assert (synced.integrated, synced.pushed, synced.ahead, synced.behind) == (True, 1, 0, 0)
    files = git(remote, "ls-tree", "-r", "--name-only", "HEAD").split()
    assert "sessions/s-a/raw.jsonl" in files
    assert "sessions/s-b/raw.jsonl" in files
    assert git(b, "rev-parse", "HEAD") == git(remote, "rev-parse", "HEAD")


async def test_same_session_on_both_sides_keeps_both(remote: Path, tmp_path: Path) -> None:
    a, b = (clone(remote, tmp_path / n) for n in ("a", "b"))
    ledger_a, ledger_b = Ledger(a), Ledger(b)
    await ledger_a.publish("same", {"raw.jsonl": b'{"type":"user","content":"from a"}\n'})
    await sync_ledger(ledger_a)
    await ledger_b.publish("same", {"raw.jsonl": b'{"type":"user","content":"from b"}\n'})
    synced = await sync_ledger(ledger_b)
    assert len(synced.kept_both) == 1
    kept = synced.kept_both[0]
    assert kept.startswith("same-")
    check = clone(remote, tmp_path / "check")
    assert (check / "sessions" / "same" / "raw.jsonl").read_bytes().endswith(b'"from a"}\n')
    assert (check / "sessions" / kept / "raw.jsonl").read_bytes().endswith(b'"from b"}\n')
    assert await ledger_b.conflicts() == []
    assert git(b, "status", "--porcelain").strip() == ""
