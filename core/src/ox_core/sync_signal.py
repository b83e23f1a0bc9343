"""`SyncSignal`: fired by the daemon after each ledger sync; the manager drains its queue then.

Whatever syncs the ledger (a plugin's service: core names none) fires the signal after each
integration of the remote and `report`s its `LedgerSyncState`, which `status` and `doctor`
show. `SyncConfig` is the `[sync]` table: how often that service syncs.
"""

from __future__ import annotations

from datetime import datetime

import attrs
import pydantic
import trio

from ox_core.work import utcnow

MIN_SYNC_INTERVAL = 1.0
"""The shortest `[sync] interval`, seconds: each pass fetches from the team's remote, and a
typo like `0.001` would otherwise fetch back to back for ever."""


class SyncConfig(pydantic.BaseModel):
    """`[sync]`: how often the ledger is synced with its remote (fetch, integrate, push)."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    interval: float = pydantic.Field(
        default=60.0,
        ge=MIN_SYNC_INTERVAL,
        le=86400,
        description="Seconds between two syncs of the ledger with its remote "
        "(each waits a random extra of up to `jitter` of it, so a team's daemons spread out).",
    )
    jitter: float = pydantic.Field(
        default=0.2, ge=0, le=1, description="The random extra wait, as a fraction of `interval`."
    )


@attrs.frozen
class LedgerSyncState:
    """What the ledger's syncer last saw. `remote`: the remote's name (empty: none, nothing
    to sync). `ahead`/`behind`: local commits not on the remote / remote commits not here.
    `last_ok`: the last sync that fetched, integrated and pushed. `last_error` and
    `last_error_at`: the last failed attempt (empty once a sync succeeds). `paused`: why
    publishing is paused (a conflict only a person can resolve), empty when it is not.
    `published`: sessions committed in the ledger, `original`: how many of them an earlier
    tool wrote in its own format (read, never rewritten)."""

    remote: str = ""
    ahead: int = 0
    behind: int = 0
    last_ok: datetime | None = None
    last_error: str = ""
    last_error_at: datetime | None = None
    paused: str = ""
    published: int = 0
    original: int = 0


@attrs.frozen
class SyncStatistics:
    """Ledger syncs seen: how many (`fired`), the last one (UTC; None: none yet), and the
    syncer's last report (None: nothing syncs this ledger)."""

    fired: int = 0
    last_fired: datetime | None = None
    state: LedgerSyncState | None = None


class SyncSignal:
    """`fire()` is sync and wakes every task in `wait()` at that moment. Use both from the trio
    thread (from another thread: `trio.from_thread.run_sync(signal.fire)`)."""

    def __init__(self) -> None:
        self._event = trio.Event()
        self._stats = SyncStatistics()

    @property
    def fired(self) -> int:
        return self._stats.fired

    @property
    def last_fired(self) -> datetime | None:
        return self._stats.last_fired

    def fire(self) -> None:
        self._stats = attrs.evolve(self._stats, fired=self._stats.fired + 1, last_fired=utcnow())
        event, self._event = self._event, trio.Event()
        event.set()

    def report(self, state: LedgerSyncState) -> None:
        """The syncer's current state, for `status`; does not wake anyone."""
        self._stats = attrs.evolve(self._stats, state=state)

    async def wait(self) -> None:
        """Return at the next `fire()`. Cancellable."""
        await self._event.wait()

    def statistics(self) -> SyncStatistics:
        return self._stats
