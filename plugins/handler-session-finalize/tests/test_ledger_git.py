"""The ledger's git calls: timeouts, cancellation, refused pushes, conflicts, the shared lock."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import pytest
import trio
import trio.testing

from ox_core import HandlerContext, RunResult, WorkItem
from ox_core.errors import LedgerBlockedError
from ox_handler_session_finalize.detect import pid_alive
from ox_handler_session_finalize.git import GitError, run_git
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_handler_session_finalize.ledger import Ledger
from ox_handler_session_finalize.sync import SyncPaused, sync_ledger
from ox_session_capture import records

from .finalize_support import answer, clone, commit_count, git, make_session


def wait_dead(pid: int, limit: float = 60.0) -> bool:  # generous: a loaded machine
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.02)
    return False


async def slow_git(repo: Path, pidfile: Path, **kwargs: float) -> None:
    # A git alias runs a shell, which runs sleep: three processes in the group.
    alias = f"alias.slow=!echo $$ > {pidfile}; sleep 300; :"
    await run_git(repo, "-c", alias, "slow", **kwargs)


def read_pid(path: Path, limit: float = 60.0) -> int:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return int(path.read_text())
        time.sleep(0.02)
    raise AssertionError(f"{path} was never written")


async def test_cancel_kills_the_whole_process_group(ledger: Path, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    async with trio.open_nursery() as nursery:
        nursery.start_soon(slow_git, ledger, pidfile)
        shell = await trio.to_thread.run_sync(read_pid, pidfile)
        nursery.cancel_scope.cancel()
    assert await trio.to_thread.run_sync(wait_dead, shell)


async def test_timeout_is_a_git_error_and_kills_the_group(ledger: Path, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    with pytest.raises(GitError, match=r"timed out after 0\.5 s"):
        await slow_git(ledger, pidfile, time_limit=0.5)
    assert await trio.to_thread.run_sync(wait_dead, read_pid(pidfile))


async def test_git_failure_names_the_command(ledger: Path) -> None:
    with pytest.raises(GitError, match=r"git rev-parse no-such-ref failed \(exit 128\)"):
        await run_git(ledger, "rev-parse", "no-such-ref")


async def serve_401(stream: trio.SocketStream) -> None:
    data = b""
    with trio.move_on_after(5):
        while b"\r\n\r\n" not in data:
            chunk = await stream.receive_some(4096)
            if not chunk:
                break
            data += chunk
    await stream.send_all(
        b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="ledger"\r\n'
        b"Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    await stream.aclose()


async def test_authentication_failure_fails_the_sync_at_once(
    handler: SessionFinalizeHandler, ledger: Path, nursery: trio.Nursery
) -> None:
    listeners = await nursery.start(partial(trio.serve_tcp, serve_401, 0, host="127.0.0.1"))
    port = listeners[0].socket.getsockname()[1]
    git(ledger, "remote", "set-url", "origin", f"http://127.0.0.1:{port}/ledger.git")
    folder = make_session(records.ledger_cache_sessions(ledger), "s-auth")
    items = await handler.detect(ledger)
    # Publishing ends with the local commit: the refusing remote fails nothing.
    outcome = await handler.process_result(items[0], RunResult(output=answer()))
    assert outcome is not None
    assert outcome.kind == "published"
    assert "the sync pushes it" in outcome.reason
    assert not folder.exists()
    assert (ledger / "sessions" / "s-auth" / "summary.md").exists()
    # A retry would pause 10 minutes first: "at once" needs no tight wall-clock bound.
    repo = handler.ledger(ledger)
    repo.push_pause = 600
    with trio.fail_after(120), pytest.raises(LedgerBlockedError, match="refused"):
        await sync_ledger(repo)
    nursery.cancel_scope.cancel()


async def test_conflict_outside_sessions_pauses_and_leaves_the_ledger(
    remote: Path, tmp_path: Path
) -> None:
    a, b = (clone(remote, tmp_path / n) for n in ("a", "b"))
    for ledger, text in ((a, "from a\n"), (b, "from b\n")):
        (ledger / "notes.txt").write_text(text)
        git(ledger, "add", "notes.txt")
        git(ledger, "commit", "-q", "-m", "notes")
    await sync_ledger(Ledger(a))
    ledger_b = Ledger(b)
    await ledger_b.publish("s-b", {"raw.jsonl": b'{"type":"user","content":"b"}\n'})
    head = git(b, "rev-parse", "HEAD")
    with pytest.raises(SyncPaused, match=r"notes\.txt"):
        await sync_ledger(ledger_b)
    # The rebase was aborted: b is as it was, usable, its commits all there.
    assert git(b, "rev-parse", "HEAD") == head
    assert await ledger_b.conflicts() == []
    assert git(b, "status", "--porcelain").strip() == ""


async def test_publish_waits_for_the_shared_ledger_lock(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path
) -> None:
    lock = trio.Lock()
    handler.set_ledger_lock(lock)
    make_session(records.ledger_cache_sessions(ledger), "s-lock")
    items = await handler.detect(ledger)
    before = commit_count(remote)
    done = trio.Event()

    async def process() -> None:
        await handler.process_result(items[0], RunResult(output=answer()))
        done.set()

    async with trio.open_nursery() as nursery:
        await lock.acquire()
        nursery.start_soon(process)
        await trio.sleep(0.5)
        assert not done.is_set()
        assert commit_count(remote) == before
        lock.release()
    assert commit_count(remote) == before + 1


async def test_finalize_soon_enqueues_one_session(
    handler: SessionFinalizeHandler, ledger: Path
) -> None:
    queued: list[WorkItem] = []
    handler.attach(HandlerContext(ledger=ledger, enqueue=lambda item: queued.append(item) or True))
    assert not await handler.finalize_soon("nothing-here")
    make_session(records.ledger_cache_sessions(ledger), "s-soon")
    assert await handler.finalize_soon("s-soon")
    assert [(i.dedup_key, i.priority, i.payload["kind"]) for i in queued] == [
        ("session-finalize:s-soon", 10, "full")
    ]
    # The item carries everything process_result needs.
    await handler.build_prompt(queued[0])
    await handler.process_result(queued[0], RunResult(output=answer()))
    assert (ledger / "sessions" / "s-soon" / "summary.md").exists()


async def test_remote_refusing_the_push_fails_the_sync_not_the_session(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path
) -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'branch main is protected' >&2\nexit 1\n")
    hook.chmod(0o755)
    folder = make_session(records.ledger_cache_sessions(ledger), "s-refused")
    before = commit_count(remote)
    items = await handler.detect(ledger)
    await handler.process_result(items[0], RunResult(output=answer()))
    assert commit_count(remote) == before
    assert not folder.exists()  # committed locally: the commit holds it
    with pytest.raises(LedgerBlockedError, match="refused"):
        await sync_ledger(handler.ledger(ledger))
    hook.unlink()
    assert (await sync_ledger(handler.ledger(ledger))).pushed == 1
    assert commit_count(remote) == before + 1
    assert await handler.detect(ledger) == []


async def test_git_detached_gc_outlives_the_call_that_started_it(ledger: Path) -> None:
    # `gc --auto` detaches itself to repack in the background: the process primitive runs git
    # without its sweep of leftovers, so that work is not killed as an agent's leftover.
    for i in range(2):
        (ledger / f"file{i}.txt").write_text(f"content {i}\n")
        git(ledger, "add", "-A")
        git(ledger, "commit", "-q", "-m", f"commit {i}")
        git(ledger, "repack", "-d", "-q")  # one more pack each time
    packs = ledger / ".git" / "objects" / "pack"
    assert len(list(packs.glob("*.pack"))) >= 2
    result = await run_git(
        ledger, "-c", "gc.autoPackLimit=1", "-c", "gc.autoDetach=true", "gc", "--auto"
    )
    assert result.ok

    def repacking() -> bool:
        return len(list(packs.glob("*.pack"))) > 1 or (ledger / ".git" / "gc.pid").exists()

    with trio.fail_after(60):
        while repacking():  # noqa: ASYNC110 - polling the repository
            await trio.sleep(0.05)
    assert git(ledger, "fsck", "--no-progress") == ""


async def test_the_syncs_own_rebase_does_not_block_an_item(ledger: Path) -> None:
    """The sync rebases under the ledger lock; an item checking the ledger meanwhile waits for
    the lock instead of taking the rebase for a person's stopped one (which pauses the type)."""
    repo = Ledger(ledger)
    rebase = ledger / ".git" / "rebase-merge"
    checked = trio.Event()

    async def check() -> None:
        await repo.ensure_unblocked(quick=True)
        checked.set()

    async with trio.open_nursery() as nursery, repo.lock:
        await trio.Path(rebase).mkdir()  # our own rebase, under the lock
        nursery.start_soon(check)
        await trio.testing.wait_all_tasks_blocked()
        assert not checked.is_set()
        await trio.Path(rebase).rmdir()
    assert checked.is_set()
    await trio.Path(rebase).mkdir()  # a stopped rebase nobody holds the lock for: blocked
    with pytest.raises(LedgerBlockedError, match="rebase-merge in progress"):
        await repo.ensure_unblocked(quick=True)
