"""Who may hold an IPC connection: a total and a per-client limit, with eviction of idle ones.

A plain sync object with an injected clock and no I/O (the IPC server does the sockets).
A new connection is admitted when its client (the peer's pid) has fewer than
`max_per_client` open and fewer than `max_total` are open in all. When the total is reached,
the connection idle the longest (not running a request) is evicted to make room, so a flood
of idle or half-sent connections can never keep `status` out; only when every open
connection is running a request is the newcomer refused (it gets a one-line "busy" error).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import attrs

DEFAULT_MAX_TOTAL = 256
DEFAULT_MAX_PER_CLIENT = 32


@attrs.define(eq=False)
class Connection:
    """One admitted connection. `busy` while a request of it runs; `on_evict` closes it."""

    client: int
    last_active: float
    on_evict: Callable[[], None]
    busy: bool = False
    closed: bool = False


@attrs.frozen
class ConnectionStatistics:
    """`open` connections now and at most (`peak`); `accepted`; `refused` (busy or another
    user); `evicted` to make room; `timed_out` (idle, half-sent, or not reading replies)."""

    open: int
    peak: int
    accepted: int
    refused: int
    evicted: int
    timed_out: int


class ConnectionTable:
    """The open connections of one IPC server. Not thread-safe (one trio thread uses it)."""

    def __init__(
        self,
        *,
        max_total: int = DEFAULT_MAX_TOTAL,
        max_per_client: int = DEFAULT_MAX_PER_CLIENT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_total < 1 or max_per_client < 1:
            raise ValueError(f"limits must be >= 1; got {max_total}, {max_per_client}")
        self.max_total = max_total
        self.max_per_client = max_per_client
        self._clock = clock
        self._open: list[Connection] = []
        self._per_client: Counter[int] = Counter()
        self._peak = self._accepted = self._refused = self._evicted = self._timed_out = 0

    def admit(self, client: int, on_evict: Callable[[], None]) -> Connection | str:
        """Admit a connection of `client`, evicting the longest-idle one if the table is full.

        Returns the `Connection`, or the one-line reason it is refused.
        """
        if self._per_client[client] >= self.max_per_client:
            self._refused += 1
            return (
                f"busy: too many connections from process {client} "
                f"(at most {self.max_per_client}); close some and try again"
            )
        if len(self._open) >= self.max_total:
            idle = [c for c in self._open if not c.busy]
            if not idle:
                self._refused += 1
                return (
                    f"busy: the daemon is serving {len(self._open)} requests at once; "
                    "try again in a moment"
                )
            victim = min(idle, key=lambda c: c.last_active)
            self.release(victim)
            self._evicted += 1
            victim.on_evict()
        conn = Connection(client=client, last_active=self._clock(), on_evict=on_evict)
        self._open.append(conn)
        self._per_client[client] += 1
        self._accepted += 1
        self._peak = max(self._peak, len(self._open))
        return conn

    def refuse(self) -> None:
        """Count a connection refused before admission (e.g. another user's)."""
        self._refused += 1

    def timed_out(self) -> None:
        """Count a connection closed for being idle, half-sent or not reading."""
        self._timed_out += 1

    def set_busy(self, conn: Connection, busy: bool) -> None:
        """Mark `conn` as running a request (not evictable) or done with it (active now)."""
        conn.busy = busy
        conn.last_active = self._clock()

    def release(self, conn: Connection) -> None:
        """Forget `conn` (idempotent): it was closed or evicted."""
        if conn.closed:
            return
        conn.closed = True
        self._open.remove(conn)
        self._per_client[conn.client] -= 1
        if not self._per_client[conn.client]:
            del self._per_client[conn.client]

    def open_count(self, client: int | None = None) -> int:
        """Connections open now, of `client` or in all."""
        return len(self._open) if client is None else self._per_client[client]

    def statistics(self) -> ConnectionStatistics:
        return ConnectionStatistics(
            open=len(self._open),
            peak=self._peak,
            accepted=self._accepted,
            refused=self._refused,
            evicted=self._evicted,
            timed_out=self._timed_out,
        )
