"""The ledger's sync service: `sync.sync_ledger` every `[sync] interval` seconds, at once after a
new commit (so sessions reach the team without waiting a period), and on `ox-core sync`.

After each pass that integrated the remote it fires the daemon's sync signal (the manager then
finds teammates' sessions and drains its queue) and reports a `LedgerSyncState` for `status`.
A failed pass is retried with backoff (2, 4, 8 ... seconds), never later than one interval: a
remote that comes back gets everything pushed within one period. A failure holds back no
session: they are committed locally and wait for the next push.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import attrs
import trio

from ox_core.backoff import park_window
from ox_core.errors import LedgerBlockedError
from ox_core.logs import escape_controls
from ox_core.sync_signal import LedgerSyncState, SyncConfig, SyncSignal
from ox_handler_session_finalize.compat import PublishedCount
from ox_handler_session_finalize.git import GitError
from ox_handler_session_finalize.ledger import Ledger, PublishResult
from ox_handler_session_finalize.sync import SyncResult, counts, sync_ledger

log = logging.getLogger(__name__)

RETRY_BASE = 2.0
SETTLE = 0.3
"""Seconds a push waits after a new commit for the other sessions of the same burst: their
commits go out in the same push."""


def shown(error: BaseException) -> str:
    """`error`'s message with each control or invisible character written as its escape
    (`\\x1b`). It carries what the remote said (a server hook's message) and teammates' file
    names: `status` and the log show it, a terminal never runs it."""
    return escape_controls(str(error))


class LedgerSyncer:
    """Runs the syncs of one ledger and keeps their state. `config()` gives the current
    `[sync]` table; `signal` is the daemon's (None: nobody listens); `random` is injectable
    for tests."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        config: Callable[[], SyncConfig] = SyncConfig,
        signal: SyncSignal | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.ledger = ledger
        self.config = config
        self.signal = signal
        self.state = LedgerSyncState()
        self.failures = 0
        self.running = False
        self._rng = rng
        self._wake = trio.Event()
        self._forced = False
        self._published = PublishedCount()

    def request(self, *, force: bool = False) -> None:
        """Sync soon: a new commit (ignored while the remote is failing: the backoff decides),
        or `force` (`ox-core sync`)."""
        if force or not self.failures:
            self._forced = self._forced or force
            self._wake.set()

    def next_delay(self) -> float:
        """Seconds to the next pass: one interval less up to `jitter` of it (so a team's
        daemons spread out and never wait more than a period), or the backoff after a
        failure (capped at that)."""
        config = self.config()
        period = config.interval * (1 - config.jitter * self._rng())
        if self.failures:
            return park_window(self.failures, 1, RETRY_BASE, period)
        return period

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Sync until cancelled: at start, then per `next_delay` or when `request`ed."""
        self.running = True
        try:
            task_status.started()
            while True:
                await self.sync_once()
                with trio.move_on_after(self.next_delay()):
                    await self._wake.wait()
                    if not self._forced:
                        await trio.sleep(SETTLE)
                self._wake, self._forced = trio.Event(), False
        finally:
            self.running = False

    async def sync_once(self) -> LedgerSyncState:
        """One pass; its outcome goes into `state` (and the signal) in one step at its end,
        never raised."""
        now = datetime.now(UTC)
        result: SyncResult | None = None
        try:
            result = await sync_ledger(self.ledger)
        except LedgerBlockedError as exc:
            # Not only a SyncPaused: a refused push, a link where ox writes, a `.lfsconfig` to
            # accept all wait for a person, so status and doctor show them as the pause.
            self.failures += 1
            changes = await self._failed(now, shown(exc), paused=shown(exc))
            log.warning("%s", shown(exc))
        except (GitError, OSError) as exc:
            self.failures += 1
            changes = await self._failed(now, shown(exc), paused=self.state.paused)
            log.warning("ledger sync failed (retried in %.0f s): %s", self.next_delay(), shown(exc))
        else:
            self.failures = 0
            changes = self._succeeded(result, now)
        published, original = await trio.to_thread.run_sync(self._published.count, self.ledger.path)
        base = self.state if result is None or result.remote is not None else LedgerSyncState()
        self.state = attrs.evolve(base, **changes, published=published, original=original)
        if self.signal is not None:
            self.signal.report(self.state)
            if result is not None and result.integrated:
                self.signal.fire()
        return self.state

    async def _failed(self, now: datetime, error: str, *, paused: str) -> dict[str, Any]:
        """A failed pass, with what is still unpushed and what the fetch brought that is not
        integrated yet (best effort: one `rev-list`; a paused ledger is behind too)."""
        ahead, behind = self.state.ahead, self.state.behind
        remote = self.state.remote
        try:
            facts = await self.ledger.facts()
            remote = facts.remote or ""
            ahead, behind = await counts(self.ledger, f"refs/remotes/{remote}/{facts.branch}")
        except (LedgerBlockedError, GitError, OSError, ValueError):
            pass
        return {
            "remote": remote,
            "ahead": ahead,
            "behind": behind,
            "last_error": error,
            "last_error_at": now,
            "paused": paused,
        }

    def _succeeded(self, result: SyncResult, now: datetime) -> dict[str, Any]:
        if result.remote is None:
            return {"last_ok": now}
        for folder in result.kept_both:
            log.warning("a session conflicted with the remote's: kept both, ours as %s", folder)
        if result.pushed:
            log.info("pushed %d commit(s) to %s", result.pushed, result.remote)
        return {
            "remote": result.remote,
            "ahead": result.ahead,
            "behind": result.behind,
            "last_ok": now,
            "last_error": "",
            "last_error_at": None,
            "paused": "",
        }

    def state_json(self) -> dict[str, Any]:
        """`state` as JSON data (times as ISO strings)."""
        data = attrs.asdict(self.state)
        for key in ("last_ok", "last_error_at"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        return data


async def push_soon(
    syncer: LedgerSyncer | None, ledger: Ledger, published: PublishResult
) -> PublishResult:
    """After a commit: hand it to the running sync service, or (no daemon: none runs) push it
    here. A failed push is only logged: the commit is safe and the next sync pushes it."""
    if syncer is not None and syncer.running:
        if published.committed:
            syncer.request()
        return published
    try:
        result = await sync_ledger(ledger)
    except (LedgerBlockedError, GitError) as exc:
        log.warning("committed locally, not pushed (the next sync pushes it): %s", shown(exc))
        return published
    return dataclasses.replace(published, pushed=result.remote is not None)
