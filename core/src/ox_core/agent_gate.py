"""The agent gate: may an agent run start now? A sync policy object with injected clocks.

Three things close the gate: no usable agent (none installed, or its usability check says it
is not logged in), a quota pause (the agent said its quota is used up; kept in the ledger's
cache so a restart does not forget it) and the rate limit (a token bucket). Items that need
the agent wait in the queue while the gate is closed; `skip_llm` items do not ask it.

`clock` is monotonic seconds (the manager passes `trio.current_time`, tests a counter);
`wall` is the UTC wall clock for reset times and the kept pause.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs

from ox_core import quota_store
from ox_core.agents import usability as agent_usability
from ox_core.config import RateLimitConfig
from ox_core.contracts import Quota, Runner
from ox_core.quota_store import QuotaPause
from ox_core.ratelimit import RateLimiter, RateLimiterStatistics

log = logging.getLogger("ox_core.manager")

QUOTA_FALLBACK = 3600.0
QUOTA_MAX = 7 * 24 * 3600.0
# A reset time already past (clock skew, a stale message) still pauses a little: retrying at
# once would hit the quota again in a tight loop.
QUOTA_MIN = 60.0


def describe(exc: BaseException) -> str:
    """`Type: message` (just `Type` when the message is empty), for logs and status."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def check_usability(runner: Runner) -> tuple[bool, str]:
    """Ask `runner` whether it can run now: `(usable, why not)`. Blocking (run it in a
    thread); a check that raises counts as unusable."""
    usability = agent_usability(runner)
    if not usability.installed:
        return False, usability.auth_detail or f"{runner.name} is not installed"
    return usability.usable, usability.auth_detail or "not logged in"


@attrs.frozen
class AgentGateStatistics:
    """The gate now. `agent`: the runner's name, `""` without one; `available`: it passed its
    last usability check (`detail` says why not); `quota`: the quota pause in force (None:
    none) and `quota_until` its end on the gate's clock; `rate`: the rate limiter's
    statistics, `rate_refill` when its window ends (clock; None before the first run)."""

    agent: str
    available: bool
    detail: str
    quota: QuotaPause | None
    quota_until: float | None
    rate: RateLimiterStatistics
    rate_refill: float | None


class AgentGate:
    """Availability + quota pause + rate limit of the one runner the manager uses."""

    def __init__(
        self,
        agent: str,
        ledger: Path,
        *,
        runs: int,
        window: float,
        clock: Callable[[], float],
        wall: Callable[[], datetime],
    ) -> None:
        self.agent = agent
        self._ledger = ledger
        self._clock = clock
        self._wall = wall
        self.limiter = RateLimiter(runs, window, clock=clock)
        self._available = bool(agent)
        self._detail = "" if agent else "no agent CLI is installed"
        self._quota_until: float | None = None
        self._quota: QuotaPause | None = None

    @property
    def available(self) -> bool:
        return self._available

    def set_availability(self, available: bool, detail: str) -> bool:
        """Record a usability check; True when availability changed."""
        self._detail = "" if available else detail
        if available == self._available:
            return False
        log.info("agent %s is %s", self.agent, "available" if available else "not available")
        self._available = available
        return True

    def reconfigure(self, rate: RateLimitConfig) -> None:
        """Apply an edited rate limit (runs already made in this window stay counted)."""
        if (rate.runs, rate.window) != (self.limiter.max_tokens, self.limiter.window):
            self.limiter.reconfigure(rate.runs, rate.window)

    def ready(self) -> bool:
        """Whether an agent run could start now (takes no token). Ends a quota pause that is
        over, and forgets its kept copy."""
        if not self._available:
            return False
        if self._quota_until is not None:
            if self.paused():
                return False
            log.info("quota pause ended; agent work resumes")
            self._end_quota()
        return self.limiter.remaining() > 0

    def take(self) -> bool:
        """Open the gate for one run: True (and one rate-limit token used) when it is open."""
        return self.ready() and self.limiter.allow()

    def paused(self) -> bool:
        """Whether a quota pause holds now: until its end on the clock or its reset time on
        the wall, whichever comes first. The monotonic clock stands still while the machine
        sleeps, but the agent's quota resets at a time of day all the same."""
        if self._quota_until is None or self._quota is None:
            return False
        return self._clock() < self._quota_until and self._wall() < self._quota.until

    def start_quota_pause(self, quota: Quota) -> None:
        """The agent said its quota is used up: pause until its reset time (bounded to
        [1 min, 7 days]; 1 h when it did not say), and keep the pause in the ledger's cache.
        A pause already holding at least as long is kept as it is."""
        now, wall = self._clock(), self._wall()
        basis = quota.basis
        if quota.reset_at is None:
            seconds, basis = QUOTA_FALLBACK, ""
        else:
            reset = quota.reset_at
            if reset.tzinfo is None:
                reset = reset.replace(tzinfo=UTC)
            seconds = min(max((reset - wall).total_seconds(), QUOTA_MIN), QUOTA_MAX)
        until = now + seconds
        if self.paused():
            assert self._quota_until is not None
            assert self._quota is not None
            if until <= self._quota_until:
                return
            since = self._quota.since
        else:
            since = wall
            said = f"read from {basis!r}" if basis else "the agent did not say when"
            log.warning(
                "agent quota reached, agent work paused for %.0f min (%s): %s",
                seconds / 60,
                said,
                quota.message,
            )
        self._quota_until = until
        self._quota = QuotaPause(
            until=wall + timedelta(seconds=seconds),
            message=quota.message,
            basis=basis,
            since=since,
        )
        quota_store.save(self._ledger, self._quota)

    def restore(self) -> None:
        """Take up the quota pause a previous run kept in the ledger's cache, if still on."""
        wall = self._wall()
        pause = quota_store.load(self._ledger, wall)
        if pause is None:
            return
        seconds = min((pause.until - wall).total_seconds(), QUOTA_MAX)
        self._quota_until = self._clock() + seconds
        # The kept file may say any time (a corrupt or edited one, year 9999): status shows
        # when the pause really ends, as capped here.
        self._quota = attrs.evolve(pause, until=wall + timedelta(seconds=seconds))
        log.warning(
            "agent work stays paused for %.0f min: a quota pause kept from the last run (%s)",
            seconds / 60,
            pause.message,
        )

    def resume(self) -> bool:
        """End the quota pause now (and forget the kept copy); True when one held."""
        active = self.paused()
        self._end_quota()
        if active:
            log.info("quota pause lifted by request; agent work resumes")
        return active

    def _end_quota(self) -> None:
        self._quota_until = None
        self._quota = None
        quota_store.clear(self._ledger)

    def deadlines(self, waiting: bool) -> list[float]:
        """Clock times at which the gate may open by itself: the end of the quota pause and,
        when items wait for the agent (`waiting`), the rate-limit refill."""
        times = [] if self._quota_until is None else [self._quota_until]
        if waiting and self.limiter.remaining() == 0:
            refill = self.limiter.next_refill()
            if refill is not None:
                times.append(refill)
        return times

    def statistics(self) -> AgentGateStatistics:
        paused = self.paused()
        return AgentGateStatistics(
            agent=self.agent,
            available=bool(self.agent) and self._available,
            detail=self._detail,
            quota=self._quota if paused else None,
            quota_until=self._quota_until if paused else None,
            rate=self.limiter.statistics(),
            rate_refill=self.limiter.next_refill(),
        )
