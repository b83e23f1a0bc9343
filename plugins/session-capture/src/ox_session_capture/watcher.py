"""`SessionWatcherManager`: follows every watched session file, woken by the kernel.

The manager runs as a service in the daemon's nursery (`run`). One `ChangeFeed` watches the
folders of all followed files (inotify, with a stat sweep as the safety net and as the
fallback where no events come, see `changes`) and wakes a file's stepper only when that file
changed. Each watch is a task parked on its wake-up event, costing nothing while its file is
quiet; woken, it steps its `SourceTail` once in a worker thread (`trio.to_thread`, never
abandoned, so no thread outlives a cancelled watch). An append is captured within
milliseconds; on a file system without events within `poll_interval` (0.1 s) plus one sweep.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import attrs
import trio

from ox_session_capture.changes import (
    SWEEP_INTERVAL,
    ChangeFeed,
    FeedStatistics,
    StatKey,
    stat_key,
)
from ox_session_capture.confined import UnsafePathError
from ox_session_capture.journal import JournalError, RecordingGone
from ox_session_capture.liveness import NO_PID_STALE, pid_alive
from ox_session_capture.raw_lines import Redactor, ledger_of
from ox_session_capture.recording import (
    RecordingRejected,
    check_source,
    resolve_adapter,
)
from ox_session_capture.records import (
    RecordError,
    RecordingMarker,
    ledger_cache_sessions,
    read_marker,
)
from ox_session_capture.redact import make_redactor
from ox_session_capture.tail import SourceTail, StepResult, TailError

log = logging.getLogger(__name__)

DEFAULT_POLL_INTERVAL = 0.1


class WatchRejected(RecordingRejected):
    """`start_watch` refused: unknown adapter, bad path, no or stopped recording, or the
    manager was stopped (`stop_all`) or is not running."""


def _may_be_live(marker: RecordingMarker, now: datetime) -> bool:
    if marker.parent_pid > 0:
        return pid_alive(marker.parent_pid)
    started = marker.started_at
    return started is not None and now - started < NO_PID_STALE


@attrs.frozen
class WatcherStatistics:
    """A snapshot of the manager: sessions watched now, and totals since it started."""

    active: tuple[str, ...]
    started: int
    stopped: int
    failed: int
    entries: int
    steps: int
    feed: FeedStatistics | None = None


@attrs.define(eq=False)
class _Watch:
    name: str
    session_dir: Path
    tail: SourceTail
    offset: int
    scope: trio.CancelScope = attrs.Factory(trio.CancelScope)
    done: trio.Event = attrs.Factory(trio.Event)
    changed: trio.Event = attrs.Factory(trio.Event)
    step_seq: int = 0  # steps started
    changed_seq: int = 0  # steps finished
    idle_seq: int = -1  # the last step that found nothing new
    error: BaseException | None = None
    wakeup: trio.Event = attrs.Factory(trio.Event)
    seen: StatKey = None  # the source's stat before the last step (the sweep compares it)

    @property
    def source(self) -> Path:
        return self.tail.source

    def wake(self) -> None:
        self.wakeup.set()

    def notify(self) -> None:
        self.changed.set()
        self.changed = trio.Event()


class SessionWatcherManager:
    """Follows the agent session files of live tail recordings into their `raw.jsonl`.

    `ledger`: the ledger whose cache holds the recordings (`cache_path` overrides
    `<ledger>/.ox/cache/sessions`). `home` overrides `$HOME` for the adapters' roots (read at
    call time otherwise). `redact`: the redaction applied before writing (default: the
    ledger's rules, docs/redaction.md). `poll_interval`: how often a file whose changes come
    without kernel events is stat'ed; `sweep_interval`: how often every file is (1 s).
    """

    def __init__(
        self,
        ledger: Path,
        *,
        cache_path: Path | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        sweep_interval: float = SWEEP_INTERVAL,
        home: Path | None = None,
        redact: Redactor | None = None,
    ) -> None:
        if not 0 < poll_interval <= 0.25:
            raise ValueError("poll_interval must be in (0, 0.25] seconds")
        self.ledger = ledger
        self.cache_path = cache_path or ledger_cache_sessions(ledger)
        self.poll_interval = poll_interval
        self.home = home
        self._redact = redact
        self._nursery: trio.Nursery | None = None
        self._closed = False
        self._watches: dict[str, _Watch] = {}
        self._feed = ChangeFeed(poll_interval=poll_interval, sweep_interval=sweep_interval)
        self._started = self._stopped = self._failed = self._entries = self._steps = 0

    # ------------------------------------------------------------ service

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run the manager until cancelled; watches started later live in its nursery.

        Cancellation stops every watch (each finishes the file step it is in, so nothing is
        half-written and no worker thread is left behind).
        """
        async with trio.open_nursery() as nursery:
            await nursery.start(self._feed.run)
            self._nursery = nursery
            task_status.started()
            try:
                await trio.sleep_forever()
            finally:
                self._nursery = None

    def active_sessions(self) -> list[str]:
        """The names of the recordings being watched now, sorted."""
        return sorted(self._watches)

    def statistics(self) -> WatcherStatistics:
        return WatcherStatistics(
            active=tuple(self.active_sessions()),
            started=self._started,
            stopped=self._stopped,
            failed=self._failed,
            entries=self._entries,
            steps=self._steps,
            feed=self._feed.statistics(),
        )

    # ------------------------------------------------------------ start / stop

    @property
    def running(self) -> bool:
        """Whether `run` is active, so that watches can start."""
        return self._nursery is not None

    async def start_watch(
        self, name: str, session_file: str | Path, adapter: str, *, offset: int = 0
    ) -> bool:
        """Start following `session_file` into the recording `name` of the ledger cache.

        Idempotent: returns False when `name` is already watched, True when a watch started
        (after catching up with the journal settled). The offset is max(`offset`, the
        marker's `source_offset`, its `start_offset`). Raises `WatchRejected` for a call after
        `stop_all` or while the manager is not running, an unknown adapter, a relative path, a
        path outside the adapter's roots under `$HOME`, a missing, corrupt or stopped
        recording; `JournalError` when a crash journal cannot be settled.
        """
        if self._closed:
            raise WatchRejected(f"cannot watch {name}: the session watcher has been stopped")
        if name in self._watches:
            return False
        if self._nursery is None:
            raise WatchRejected(f"cannot watch {name}: the session watcher is not running")
        try:
            impl = resolve_adapter(adapter)
            source = check_source(impl, session_file, self.home)
        except RecordingRejected as exc:
            raise WatchRejected(f"cannot watch {name}: {exc}") from None
        session_dir = self.cache_path / name
        try:
            marker = await trio.to_thread.run_sync(read_marker, session_dir)
        except FileNotFoundError:
            raise WatchRejected(f"cannot watch {name}: no recording marker") from None
        except RecordError as exc:
            raise WatchRejected(f"cannot watch {name}: {exc}") from exc
        if marker.stopped_at is not None:
            raise WatchRejected(f"cannot watch {name}: the recording was stopped")
        redact = self._redact or make_redactor(ledger_of(session_dir) or self.ledger)
        tail = SourceTail(session_dir, impl, source, redact=redact)
        watch = _Watch(name, session_dir, tail, offset)
        if name in self._watches or self._nursery is None or self._closed:
            return False  # raced with another start, or stopped meanwhile
        self._watches[name] = watch
        try:
            await self._nursery.start(self._follow, watch)
        except BaseException:
            self._watches.pop(name, None)
            raise
        self._started += 1
        return True

    async def _follow(self, watch: _Watch, *, task_status: trio.TaskStatus[None]) -> None:
        started = False
        try:
            with watch.scope:
                await trio.to_thread.run_sync(watch.tail.resume, watch.offset)
                task_status.started()
                started = True
                log.info("watching %s from offset %d", watch.name, watch.tail.offset)
                self._feed.add(watch)
                watch.wake()  # catch up with what was appended before the feed followed it
                while True:
                    await watch.wakeup.wait()
                    watch.wakeup = trio.Event()  # a change during the step wakes it again
                    watch.step_seq += 1
                    seq = watch.step_seq
                    result, more = await trio.to_thread.run_sync(_step, watch)
                    self._steps += 1
                    self._entries += result.entries
                    if not result.progressed:
                        watch.idle_seq = seq
                    watch.changed_seq = seq
                    watch.notify()
                    if more:
                        watch.wake()
        except RecordingGone as exc:
            if not started:
                raise WatchRejected(f"cannot watch {watch.name}: {exc}") from exc
            log.info("%s: the recording ended; watcher stops", watch.name)
        except Exception as exc:
            # One broken recording never takes the daemon down: log it, stop this watch.
            if not started:
                raise
            watch.error = exc
            self._failed += 1
            if isinstance(exc, TailError | JournalError | RecordError | OSError | UnsafePathError):
                log.error("%s: watcher stopped: %s", watch.name, exc)
            else:
                log.exception("%s: watcher failed", watch.name)
        finally:
            self._feed.remove(watch)
            if self._watches.get(watch.name) is watch:
                del self._watches[watch.name]
            self._stopped += 1 if started else 0
            watch.done.set()
            watch.notify()

    async def stop_watch(self, name: str) -> bool:
        """Stop watching `name` and wait until its task ended (the step in progress, if any,
        completes first). Returns False when it was not watched."""
        watch = self._watches.get(name)
        if watch is None:
            return False
        watch.scope.cancel()
        await watch.done.wait()
        return True

    async def stop_all(self) -> None:
        """Stop every watch and refuse any later `start_watch`."""
        self._closed = True
        watches = list(self._watches.values())
        for watch in watches:
            watch.scope.cancel()
        for watch in watches:
            await watch.done.wait()

    async def wait_synced(self, name: str) -> None:
        """Wait until watch `name` has consumed every complete line present when called (a
        step that started after this call found nothing new), or has ended. Steps it as
        needed, without waiting for change events."""
        watch = self._watches.get(name)
        if watch is None:
            return
        target = watch.step_seq + 1
        while watch.idle_seq < target and not watch.done.is_set():
            watch.wake()  # no need to wait for a change event: step now
            await watch.changed.wait()

    async def wait_step(self, name: str) -> None:
        """Step watch `name` now (changed or not) and wait until that step finished (or the
        watch ended): what it found is then durably in `raw.jsonl` and the marker."""
        watch = self._watches.get(name)
        if watch is None:
            return
        target = watch.step_seq + 1
        watch.wake()
        while watch.changed_seq < target and not watch.done.is_set():
            await watch.changed.wait()

    # ------------------------------------------------------------ housekeeping

    async def cleanup(self) -> list[str]:
        """Stop the watches whose marker vanished, whose recording was stopped or whose agent
        (`parent_pid`) died; a corrupt marker keeps its watch. Returns the names stopped."""
        stopped = []
        for name, watch in list(self._watches.items()):
            try:
                marker = await trio.to_thread.run_sync(read_marker, watch.session_dir)
            except FileNotFoundError:
                reason = "marker vanished"
            except (RecordError, OSError) as exc:
                log.warning("%s: unreadable marker, watcher kept: %s", name, exc)
                continue
            else:
                if marker.stopped_at is not None:
                    reason = "recording stopped"
                elif marker.parent_pid > 0 and not pid_alive(marker.parent_pid):
                    reason = f"agent process {marker.parent_pid} died"
                else:
                    continue
            log.info("%s: stopping watcher (%s)", name, reason)
            await self.stop_watch(name)
            stopped.append(name)
        return stopped

    async def detect_and_restart(self, ledger: Path | None = None) -> list[str]:
        """Restart the watches of the tail recordings in the ledger cache whose agent is alive,
        each from its persisted offset (at daemon start and on every doctor tick). A recording
        without a PID counts as live until it is 24 h old (when finalization takes it as
        stale). A recording that cannot be watched is logged and skipped. Returns the names
        started."""
        cache = ledger_cache_sessions(ledger) if ledger is not None else self.cache_path

        now = datetime.now(UTC)

        def scan() -> list[tuple[str, str, str]]:
            found: list[tuple[str, str, str]] = []
            try:
                folders = sorted(cache.iterdir())
            except OSError:  # missing, a file, unreadable: nothing to restart
                return found
            for folder in folders:
                try:
                    marker = read_marker(folder)
                except (FileNotFoundError, NotADirectoryError):
                    continue
                except (RecordError, OSError) as exc:
                    log.warning("%s: unreadable marker, not restarted: %s", folder.name, exc)
                    continue
                if (
                    marker.watch_mode == "tail"
                    and marker.stopped_at is None
                    and _may_be_live(marker, now)
                ):
                    found.append((folder.name, marker.session_file, marker.adapter_name))
            return found

        started = []
        for name, session_file, adapter in await trio.to_thread.run_sync(scan):
            if name in self._watches:
                continue
            try:
                if await self.start_watch(name, session_file, adapter):
                    started.append(name)
            except (WatchRejected, JournalError) as exc:
                log.error("%s: not restarted: %s", name, exc)
            except Exception:  # one broken recording never stops the others' restart
                self._failed += 1
                log.exception("%s: not restarted", name)
        return started


def _step(watch: _Watch) -> tuple[StepResult, bool]:
    """One step of `watch` (in a worker thread), and whether to step again at once: the
    source was re-read from the start, or more than one batch was waiting."""
    tail = watch.tail
    before = tail.offset
    watch.seen = seen = stat_key(tail.source)
    result = tail.step()
    full = seen is not None and seen[1] - before > tail.batch_bytes
    return result, result.reset or result.reloaded or (result.consumed > 0 and full)
