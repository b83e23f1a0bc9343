"""`SyncSignal`: fired by the daemon after each ledger sync; the manager drains its queue then."""

from __future__ import annotations

from datetime import datetime

import attrs
import trio

from ox_core.work import utcnow


@attrs.frozen
class SyncStatistics:
    """Ledger syncs seen: how many (`fired`), and the last one (UTC; None: none yet)."""

    fired: int = 0
    last_fired: datetime | None = None


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
        self._stats = SyncStatistics(self._stats.fired + 1, utcnow())
        event, self._event = self._event, trio.Event()
        event.set()

    async def wait(self) -> None:
        """Return at the next `fire()`. Cancellable."""
        await self._event.wait()

    def statistics(self) -> SyncStatistics:
        return self._stats
