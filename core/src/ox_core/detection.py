"""The detection policy: when each handler's cleanup and detection run. A sync object.

A detection pass runs every handler's `cleanup` (even when agent work is disabled: cleanup
only tidies the ledger), then the `detect` of each handler whose type is enabled, not paused
and out of its cooldown (5 min since its last detection). One daemon per machine detects at a
time: the pass holds `<ledger>/.ox/cache/.detect.lock` (a non-blocking `flock`) and is skipped
when another process holds it. A forced pass (`ox-core detect --force`) ignores cooldowns and
the lock.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs

from ox_core.errors import ConfigError
from ox_core.fs import LockTimeout, UnsafePathError, lock_file
from ox_core.ledger_setup import ensure_cache_dir

log = logging.getLogger("ox_core.manager")

DETECT_COOLDOWN = 300.0
DETECT_LOCK = Path(".ox") / "cache" / ".detect.lock"


@attrs.frozen
class DetectionStatistics:
    """`passes` run, `skipped` for the lock, `detections` of handlers started, and the clock
    time of each type's last detection (`last`, sorted by type)."""

    passes: int
    skipped: int
    detections: int
    last: tuple[tuple[str, float], ...]


class DetectionPolicy:
    """Cooldown per work type and the cross-process detect lock of one ledger."""

    def __init__(
        self, ledger: Path, *, cooldown: float = DETECT_COOLDOWN, clock: Callable[[], float]
    ) -> None:
        self._ledger = ledger
        self._cooldown = float(cooldown)
        self._clock = clock
        self._last: dict[str, float] = {}
        self._passes = 0
        self._skipped = 0
        self._detections = 0

    def due(self, work_type: str, *, enabled: bool, paused: bool, forced: bool) -> bool:
        """Whether `work_type` detects now; when it does, its cooldown starts now."""
        if not enabled or paused:
            return False
        now = self._clock()
        last = self._last.get(work_type)
        if not forced and last is not None and now - last < self._cooldown:
            return False
        self._last[work_type] = now
        self._detections += 1
        return True

    @contextlib.contextmanager
    def lock(self, *, forced: bool) -> Iterator[bool]:
        """Hold the detect lock for one pass. Yields False when another process holds it;
        True when it is held here, `forced`, or could not be evaluated (then detection runs
        anyway: a broken lock must not stop the work)."""
        self._passes += 1
        with _file_lock(self._ledger, skip=forced) as acquired:
            if not acquired:
                self._skipped += 1
                log.debug("detection skipped: another process holds the detect lock")
            yield acquired

    def statistics(self) -> DetectionStatistics:
        return DetectionStatistics(
            passes=self._passes,
            skipped=self._skipped,
            detections=self._detections,
            last=tuple(sorted(self._last.items())),
        )


@contextlib.contextmanager
def _file_lock(ledger: Path, *, skip: bool) -> Iterator[bool]:
    """Yield whether this process may detect now: True when it holds the ledger's detect lock
    (or the lock is unusable: detecting twice is harmless, never detecting is not), False
    when another process holds it."""
    if skip:
        yield True
        return
    path = ledger / DETECT_LOCK
    try:
        # Never `mkdir(parents=True)`: a ledger moved away would come back as a ghost at the
        # old path, and a teammate's `.ox` link would be followed.
        ensure_cache_dir(ledger)
        with lock_file(path, timeout=0, what="the detect lock"):
            yield True
    except LockTimeout:
        yield False
    except (OSError, UnsafePathError, ConfigError) as exc:
        log.warning("detect lock %s unusable (%s); detecting anyway", path, exc)
        yield True
