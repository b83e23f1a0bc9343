"""The ledger's sync service against real git: schedule, signal, state, a remote that goes away
and comes back, a teammate's conflicting edit that pauses publishing until resolved by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from ox_core import HandlerContext, RunResult
from ox_core.sync_signal import SyncConfig, SyncSignal
from ox_core.testing import wait_for
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_handler_session_finalize.ledger import Ledger
from ox_handler_session_finalize.sync_service import LedgerSyncer
from ox_handler_session_finalize.testing import finished_session
from ox_session_capture import records

from .finalize_support import clone, commit_count, git

until = wait_for


def test_next_delay_spreads_within_a_period_and_backs_off() -> None:
    config = SyncConfig(interval=60, jitter=0.25)
    syncer = LedgerSyncer(Ledger(Path("/nonexistent")), config=lambda: config, rng=lambda: 1.0)
    assert syncer.next_delay() == 45.0  # at most one period, at least 1 - jitter of it
    syncer = LedgerSyncer(Ledger(Path("/nonexistent")), config=lambda: config, rng=lambda: 0.0)
    assert syncer.next_delay() == 60.0
    delays = []
    for failures in range(1, 9):
        syncer.failures = failures
        delays.append(syncer.next_delay())
    assert delays == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]  # never past a period


def test_sync_config_refuses_bad_values() -> None:
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        SyncConfig(interval=0)
    with pytest.raises(ValueError, match="less than or equal to 1"):
        SyncConfig(jitter=2)
    with pytest.raises(ValueError, match="Extra inputs"):
        SyncConfig.model_validate({"intervall": 5})


async def test_a_pass_integrates_fires_the_signal_and_reports(remote: Path, tmp_path: Path) -> None:
    mine, theirs = clone(remote, tmp_path / "mine"), clone(remote, tmp_path / "theirs")
    teammate = Ledger(theirs)
    await teammate.publish("s-theirs", {"raw.jsonl": b'{"type":"user","content":"t"}\n'})
    await LedgerSyncer(teammate).sync_once()
    signal = SyncSignal()
    syncer = LedgerSyncer(Ledger(mine), signal=signal)
    await syncer.ledger.publish("s-mine", {"raw.jsonl": b'{"type":"user","content":"m"}\n'})
    state = await syncer.sync_once()
    assert (state.remote, state.ahead, state.behind, state.last_error) == ("origin", 0, 0, "")
    assert state.last_ok is not None
    assert signal.fired == 1
    assert signal.statistics().state == state
    assert (mine / "sessions" / "s-theirs" / "raw.jsonl").exists()
    assert git(mine, "rev-parse", "HEAD") == git(remote, "rev-parse", "HEAD")


def attach(handler: SessionFinalizeHandler, ledger: Path, interval: float) -> SyncSignal:
    signal = SyncSignal()
    handler.attach(
        HandlerContext(
            ledger=ledger,
            enqueue=lambda item: True,
            sync_signal=signal,
            sync_config=lambda: SyncConfig(interval=interval, jitter=0),
        )
    )
    return signal


async def publish_all(handler: SessionFinalizeHandler, ledger: Path) -> list[str]:
    items = await handler.detect(ledger)
    kinds = []
    for item in items:
        outcome = await handler.process_result(item, RunResult())
        assert outcome is not None
        kinds.append(outcome.kind)
    return kinds


async def test_remote_away_commits_at_once_then_pushes_in_one_pass(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, nursery: trio.Nursery
) -> None:
    signal = attach(handler, ledger, interval=3600)
    await nursery.start(handler.serve, ledger)
    syncer = handler.syncer(ledger)
    await until("the first sync", lambda: syncer.state.last_ok is not None)
    away = remote.with_name("away.git")
    await trio.Path(remote).rename(away)
    base, local = commit_count(away), commit_count(ledger)
    names = [f"2026-11-25T11-0{i}-dev-a1" for i in range(3)]
    for name in names:
        finished_session(records.ledger_cache_sessions(ledger), name)
    # Every session is committed at once, none fails or waits for the remote.
    assert await publish_all(handler, ledger) == ["published"] * 3
    assert commit_count(ledger) == local + 3
    assert not any(records.ledger_cache_sessions(ledger).iterdir())
    # The sync keeps trying (backoff) and says what waits: three commits, the error's age.
    await until("a failed pass", lambda: syncer.state.ahead == 3 and syncer.state.last_error)
    assert syncer.state.last_error_at is not None
    assert signal.statistics().state == syncer.state
    await trio.Path(away).rename(remote)
    passes_before = syncer.failures
    await until("the push", lambda: commit_count(remote) == base + 3)
    await until("the report", lambda: syncer.state.last_error == "")
    # One pass after the remote came back pushed everything (the pass is due within one
    # period by `next_delay`); the state is clean again.
    assert passes_before >= 1
    assert (syncer.state.ahead, syncer.state.behind, syncer.failures) == (0, 0, 0)
    nursery.cancel_scope.cancel()


async def test_teammates_conflicting_edit_pauses_until_resolved_by_hand(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    teammate = clone(remote, tmp_path / "teammate")
    for repo, text in ((teammate, "theirs\n"), (ledger, "mine\n")):
        (repo / "README.md").write_text(text)
        git(repo, "add", "README.md")
        git(repo, "commit", "-q", "-m", "readme")
    git(teammate, "push", "-q", "origin", "HEAD:main")
    syncer = handler.syncer(ledger)
    finished_session(records.ledger_cache_sessions(ledger), "2026-11-25T12-00-dev-a1")
    head = git(ledger, "rev-parse", "HEAD")
    state = await syncer.sync_once()
    assert "publishing paused" in state.paused
    assert "README.md" in state.paused
    assert git(ledger, "rev-parse", "HEAD") == head  # left as it was
    assert git(ledger, "status", "--porcelain").strip() == ""
    # Sessions are still committed locally meanwhile.
    assert await publish_all(handler, ledger) == ["published"]
    assert (ledger / "sessions" / "2026-11-25T12-00-dev-a1" / "summary.md").exists()
    # A person merges the remote and settles the file; the next sync pushes everything.
    with pytest.raises(AssertionError):
        git(ledger, "pull", "-q", "--no-rebase", "origin", "main")
    (ledger / "README.md").write_text("both\n")
    git(ledger, "add", "README.md")
    git(ledger, "commit", "-q", "--no-edit")
    state = await syncer.sync_once()
    assert (state.paused, state.last_error, state.ahead) == ("", "", 0)
    check = clone(remote, tmp_path / "check")
    assert (check / "README.md").read_text() == "both\n"
    assert (check / "sessions" / "2026-11-25T12-00-dev-a1" / "summary.md").exists()
