"""A push the remote keeps refusing says why: a real bare remote, its hooks and its ref lock.

A refused push is retried only when git says the ref lost a race (its `--porcelain` line:
`[rejected] (fetch first)`, `[remote rejected] (failed to update ref)`), never because a
server hook's own message reads like one; and when every attempt failed, `status` names the
remote's last answer instead of only "still rejected"."""

from __future__ import annotations

from pathlib import Path

import pytest

from ox_core.errors import LedgerBlockedError
from ox_handler_session_finalize.git import GIT_STDERR_KEPT, run_git
from ox_handler_session_finalize.ledger import Ledger
from ox_handler_session_finalize.sync import sync_ledger
from ox_handler_session_finalize.sync_service import LedgerSyncer

from .finalize_support import commit_count

NAME = "2026-11-25T10-00-dev-a1"
OURS = b'{"type":"user","content":"ours"}\n'


async def test_a_stale_ref_lock_on_the_remote_is_named_in_status(
    ledger: Path, remote: Path
) -> None:
    # A server git killed mid-push left its lock: every push fails until someone removes it.
    (remote / "refs" / "heads" / "main.lock").write_text("")
    repo = Ledger(ledger)
    repo.push_pause = 0
    await repo.publish(NAME, {"raw.jsonl": OURS})
    state = await LedgerSyncer(repo).sync_once()
    assert state.last_error.startswith("push to origin still rejected after 4 attempts: ")
    assert "refs/heads/main.lock': File exists" in state.last_error
    assert state.ahead == 1


async def test_a_hooks_refusal_that_reads_like_a_race_is_not_retried(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    calls = tmp_path / "hook-calls"
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(
        f"#!/bin/sh\necho x >> {calls}\n"
        "echo 'policy: non-fast-forward history is refused, fetch first; and this push "
        "holds an AWS key' >&2\nexit 1\n"
    )
    hook.chmod(0o755)
    repo = Ledger(ledger)
    repo.push_pause = 0
    await repo.publish(NAME, {"raw.jsonl": OURS})
    before = commit_count(remote)
    with pytest.raises(LedgerBlockedError, match=r"refused: .*holds an AWS key"):
        await sync_ledger(repo)
    assert calls.read_text() == "x\n"  # refused once, never pushed again
    assert commit_count(remote) == before


async def test_a_remote_hook_printing_without_end_is_kept_to_its_last_megabytes(
    ledger: Path, remote: Path
) -> None:
    # A server's hook chooses what it prints: 32 MB of it is not held whole by the daemon.
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nhead -c 33554432 /dev/zero | tr '\\0' x >&2\nexit 1\n")
    hook.chmod(0o755)
    repo = Ledger(ledger)
    await repo.publish(NAME, {"raw.jsonl": OURS})
    result = await run_git(ledger, "push", "--porcelain", "origin", "HEAD:main", check=False)
    assert not result.ok
    assert len(result.stderr) <= GIT_STDERR_KEPT
    assert result.stderr.rstrip().endswith(f"error: failed to push some refs to '{remote}'")
    assert "(pre-receive hook declined)" in result.stdout  # git's verdict, on stdout
