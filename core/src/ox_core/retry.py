"""The retry policy: when may a failed or waiting item run again? A sync object, no I/O.

- A dedup key that fails `MAX_ATTEMPTS`-in-a-row is *parked*: not enqueued again for
  5 min, doubling up to 1 h (`Backoff`); a success clears its count.
- A ledger-wide blocker (`LedgerBlockedError`: a merge conflict, ...) *pauses* its work type
  at the first occurrence, with the same windows.
- An agent failure is retried after `RETRY_DELAY`, so a CLI that crashes at once does not
  burn its attempts (and rate-limit tokens) within a second; at most `MAX_ATTEMPTS` runs.
- An item that needs the agent while the agent gate is closed goes back to the queue with
  its prompt kept (*waiting*, in the queue's allowance of such items), and runs once the
  gate opens.

`clock` is monotonic seconds (the manager passes `trio.current_time`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import attrs

from ox_core.backoff import Backoff
from ox_core.contracts import RunRequest
from ox_core.work import WorkItem

log = logging.getLogger("ox_core.manager")

MAX_ATTEMPTS = 3
RETRY_DELAY = 60.0

Eligible = Callable[[WorkItem], bool]


@attrs.frozen
class Held:
    """A parked dedup key or a paused work type: `name`, the end of its hold (`until`, on
    the policy's clock), its consecutive `failures` and the last error (`reason`)."""

    name: str
    until: float
    failures: int
    reason: str


@attrs.frozen
class RetryStatistics:
    """`parked` keys and `paused` types now (sorted by name); `delayed`: items waiting out a
    retry delay; `waiting`: items waiting for the agent gate; `parks`: keys parked so far."""

    parked: tuple[Held, ...]
    paused: tuple[Held, ...]
    delayed: int
    waiting: int
    parks: int


class RetryPolicy:
    """Parks of keys, pauses of types, retry delays and prompts waiting for the agent."""

    def __init__(self, *, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.keys = Backoff(clock=clock)
        # Threshold 1: a ledger-wide blocker pauses its type at the first occurrence.
        self.types = Backoff(threshold=1, clock=clock)
        self._key_reasons: dict[str, str] = {}
        self._type_reasons: dict[str, str] = {}
        self._not_before: dict[str, float] = {}
        self._waiting: dict[str, RunRequest] = {}

    # ---- keys and types ----------------------------------------------------------------

    def is_parked(self, key: str) -> bool:
        return bool(key) and self.keys.is_parked(key)

    def key_failed(self, key: str, error: str) -> bool:
        """Count a failure of `key` (no-op without one); True when it parked the key."""
        if not key:
            return False
        until = self.keys.record_failure(key)
        self._key_reasons[key] = error
        if until is None:
            return False
        log.warning(
            "%s: parked for %.0f min after %d consecutive failures (last: %s)",
            key,
            (until - self._clock()) / 60,
            self.keys.failures(key),
            error or "?",
        )
        return True

    def block_type(self, work_type: str, reason: str) -> bool:
        """Pause `work_type` for a ledger-wide blocker; False when it is paused already
        (several items hit one blocker: one pause, one warning)."""
        if self.types.is_parked(work_type):
            return False
        until = self.types.record_failure(work_type)
        self._type_reasons[work_type] = reason
        if until is not None:
            log.warning(
                "work type %s paused for %.0f min: %s",
                work_type,
                (until - self._clock()) / 60,
                reason,
            )
        return True

    def type_paused(self, work_type: str) -> bool:
        return self.types.is_parked(work_type)

    def succeeded(self, key: str, work_type: str) -> None:
        """An item of `key` / `work_type` ended well: clear their counts and holds."""
        if key:
            self.keys.record_success(key)
            self._key_reasons.pop(key, None)
        self.types.record_success(work_type)
        self._type_reasons.pop(work_type, None)

    def lift(self) -> int:
        """End every park and type pause now (counts stay); how many were lifted."""
        return self.keys.lift() + self.types.lift()

    @staticmethod
    def retries(attempts: int, parked: bool) -> bool:
        """Whether an agent failure at `attempts` runs is retried."""
        return attempts < MAX_ATTEMPTS and not parked

    # ---- items in the queue ------------------------------------------------------------

    def delay(self, item_id: str, seconds: float) -> None:
        """Do not start `item_id` before `seconds` from now."""
        if seconds > 0:
            self._not_before[item_id] = self._clock() + seconds

    def wait(self, item_id: str, request: RunRequest) -> None:
        """`item_id` waits for the agent gate; keep its prompt."""
        self._waiting[item_id] = request

    def prompt(self, item_id: str) -> RunRequest | None:
        """The kept prompt of a waiting item (None: build it)."""
        return self._waiting.get(item_id)

    def started(self, item_id: str) -> None:
        """`item_id` was taken from the queue: its retry delay is spent."""
        self._not_before.pop(item_id, None)

    def running(self, item_id: str) -> None:
        """`item_id` got through the agent gate: it no longer waits."""
        self._waiting.pop(item_id, None)

    def forget(self, item_id: str) -> None:
        """`item_id` ended: drop what was kept for it."""
        self._not_before.pop(item_id, None)
        self._waiting.pop(item_id, None)

    @property
    def has_waiting(self) -> bool:
        return bool(self._waiting)

    def eligible(
        self, type_enabled: Callable[[str], bool] | None, agent_ready: Callable[[], bool]
    ) -> Eligible | None:
        """The dequeue predicate now, or None when every queued item may run.
        `type_enabled` is None when the config enables every type."""
        paused = self.types.parked()
        if not paused and not self._not_before and not self._waiting and type_enabled is None:
            return None
        now = self._clock()
        ready = agent_ready()
        not_before = self._not_before
        waiting = self._waiting
        enabled = type_enabled or (lambda _t: True)

        def eligible(item: WorkItem) -> bool:
            if item.type in paused or not enabled(item.type):
                return False
            if not_before.get(item.id, now) > now:
                return False
            return ready or item.id not in waiting

        return eligible

    def deadlines(self) -> list[float]:
        """Future clock times at which a type pause or a retry delay ends."""
        now = self._clock()
        times = [t for t in self._not_before.values() if t > now]
        end = self.types.next_expiry()
        if end is not None:
            times.append(end)
        return times

    def statistics(self) -> RetryStatistics:
        def held(backoff: Backoff, reasons: dict[str, str]) -> tuple[Held, ...]:
            return tuple(
                Held(name, until, backoff.failures(name), reasons.get(name, ""))
                for name, until in sorted(backoff.parked().items())
            )

        return RetryStatistics(
            parked=held(self.keys, self._key_reasons),
            paused=held(self.types, self._type_reasons),
            delayed=len(self._not_before),
            waiting=len(self._waiting),
            parks=self.keys.statistics().parks,
        )
