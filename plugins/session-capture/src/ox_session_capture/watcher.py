"""`SessionWatcherManager`: follows every watched session file, woken by the kernel.

The manager runs as a service in the daemon's nursery (`run`). One `ChangeFeed` watches the
folders of all followed files (inotify, with a stat sweep as the safety net and as the
fallback where no events come, see `changes`) and steps a file's `SourceTail` in its capture
thread only when that file changed: a quiet file costs nothing, and an append is captured
within milliseconds (on a file system without events within `poll_interval`, 0.1 s, plus one
sweep). The trio side starts and stops watches; it hears of a step only when a task waits for
one (`wait_step`, `wait_synced`) or the watch ended, so a captured line costs no trio work.
"""

from __future__ import annotations

import errno
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeGuard

import attrs
import trio

from ox_session_capture.changes import (
    SWEEP_INTERVAL,
    ChangeFeed,
    FeedStatistics,
    StatKey,
)
from ox_session_capture.confined import UnsafePathError
from ox_session_capture.journal import JournalError, RecordingGone
from ox_session_capture.liveness import NO_PID_STALE, agent_pid, pid_alive
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
from ox_session_capture.tail import SourceTail, TailError, WriteFailed

log = logging.getLogger(__name__)

DEFAULT_POLL_INTERVAL = 0.1
WRITE_RETRY = 2.0
"""Seconds between two tries of a watch whose recording could not be written (a full disk)."""
NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT})
NOT_WRITABLE = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})
WAITED_WRITE_ERRORS = NO_ROOM | NOT_WRITABLE
"""The write errors a watch waits out: the disk or the quota is full, the recording's folder
is read-only or not ours to write (freeing space, remounting it or fixing its mode ends it,
and status says capture waits meanwhile); any other error ends the watch (the doctor tick
restarts it)."""
NO_DESCRIPTOR = frozenset({errno.EMFILE, errno.ENFILE})
"""The errors of opening the source or the recording that a watch waits out too: the process
or the system has no file descriptor to spare now (every watch would end at once, and stay
ended until a doctor tick that finds descriptors)."""


def _waits_out(error: Exception) -> TypeGuard[OSError]:
    """Whether a step that raised `error` is retried (capture paused) rather than ended."""
    if isinstance(error, WriteFailed):
        return error.errno in WAITED_WRITE_ERRORS | NO_DESCRIPTOR
    return isinstance(error, OSError) and error.errno in NO_DESCRIPTOR


class WatchRejected(RecordingRejected):
    """`start_watch` refused: unknown adapter, bad path, no or stopped recording, or the
    manager was stopped (`stop_all`) or is not running."""


def _may_be_live(marker: RecordingMarker, now: datetime) -> bool:
    if (pid := agent_pid(marker)) > 0:
        return pid_alive(pid)
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
    """One followed file. The capture thread steps it (`step`) and writes the counters; the
    trio thread owns `changed`, `done` and `waiters`, and learns of a step only when it waits
    (`waiters`) or the watch ended."""

    name: str
    session_dir: Path
    tail: SourceTail
    offset: int
    owner: SessionWatcherManager
    done: trio.Event = attrs.Factory(trio.Event)
    changed: trio.Event = attrs.Factory(trio.Event)
    waiters: int = 0  # trio tasks waiting on `changed`
    step_seq: int = 0  # steps started
    changed_seq: int = 0  # steps finished
    idle_seq: int = -1  # the last step that found nothing new
    live: bool = False  # resumed and followed by the feed
    ended: bool = False  # no step starts any more
    error: BaseException | None = None
    # The last step could not write the recording (capture thread); a retry is scheduled
    # (trio thread).
    write_error: OSError | None = None
    retrying: bool = False
    seen: StatKey = None  # the source's stat before the last step (the sweep compares it)

    steps: int = 0
    entries: int = 0

    @property
    def source(self) -> Path:
        return self.tail.source

    @property
    def slow(self) -> bool:
        return self.tail.slow

    def step(self) -> bool:
        return self.owner._step(self)

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
        self._running = False
        self._closed = False
        self._watches: dict[str, _Watch] = {}
        self._nursery: trio.Nursery | None = None
        self._feed = ChangeFeed(poll_interval=poll_interval, sweep_interval=sweep_interval)
        self._started = self._stopped = self._failed = self._entries = self._steps = 0

    # ------------------------------------------------------------ service

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run the manager until cancelled. Cancellation ends every watch after the step in
        progress (so nothing is half-written and the capture thread is gone on return)."""
        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(self._feed.run)
                self._running = True
                self._nursery = nursery
                task_status.started()
                try:
                    await trio.sleep_forever()
                finally:
                    self._running = False
                    self._nursery = None
        finally:
            for watch in list(self._watches.values()):
                watch.ended = True
                self._finish(watch, None)

    def active_sessions(self) -> list[str]:
        """The names of the recordings being watched now, sorted."""
        return sorted(self._watches)

    def write_errors(self) -> dict[str, str]:
        """The watches whose recording cannot be written now (a full disk, a read-only folder,
        no file descriptor to spare), with the error: they wait it out and resume by themselves."""
        return {
            name: str(watch.write_error.strerror or watch.write_error)
            for name, watch in sorted(self._watches.items())
            if watch.write_error is not None and not watch.ended
        }

    def statistics(self) -> WatcherStatistics:
        return WatcherStatistics(
            active=tuple(self.active_sessions()),
            started=self._started,
            stopped=self._stopped,
            failed=self._failed,
            entries=self._entries + sum(w.entries for w in self._watches.values()),
            steps=self._steps + sum(w.steps for w in self._watches.values()),
            feed=self._feed.statistics(),
        )

    # ------------------------------------------------------------ start / stop

    @property
    def running(self) -> bool:
        """Whether `run` is active, so that watches can start."""
        return self._running

    async def start_watch(
        self, name: str, session_file: str | Path, adapter: str, *, offset: int = 0
    ) -> bool:
        """Start following `session_file` into the recording `name` of the ledger cache.

        Idempotent: returns False when `name` is already watched, True when a watch started
        (with the journal settled; what was appended before is caught up at once). The offset
        is max(`offset`, the marker's `source_offset`, its `start_offset`). Raises
        `WatchRejected` for a call after `stop_all` or while the manager is not running, an
        unknown adapter, a relative path, a path outside the adapter's roots under `$HOME`, a
        missing, corrupt or stopped recording; `JournalError` when a crash journal cannot be
        settled.
        """
        if self._closed:
            raise WatchRejected(f"cannot watch {name}: the session watcher has been stopped")
        if name in self._watches:
            return False
        if not self._running:
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
        watch = _Watch(name, session_dir, tail, offset, self)
        if name in self._watches or not self._running or self._closed:
            return False  # raced with another start, or stopped meanwhile
        self._watches[name] = watch  # the name is taken while the journal settles
        try:
            await trio.to_thread.run_sync(watch.tail.resume, watch.offset)
        except BaseException as exc:
            if self._watches.get(name) is watch:
                del self._watches[name]
            watch.ended = True
            watch.done.set()
            if isinstance(exc, RecordingGone):
                raise WatchRejected(f"cannot watch {name}: {exc}") from exc
            raise
        if watch.ended or not self._running:  # stopped meanwhile
            self._finish(watch, None)
            return False
        watch.live = True
        log.info("watching %s from offset %d", name, watch.tail.offset)
        self._feed.add(watch)
        self._feed.wake(watch)  # catch up with what was appended before the feed followed it
        self._started += 1
        return True

    def _step(self, watch: _Watch) -> bool:
        """One step of `watch`, in the capture thread; whether to step it again at once (the
        source was re-read from the start, or more than one batch was waiting)."""
        if watch.ended:
            return False
        watch.step_seq += 1
        seq = watch.step_seq
        tail = watch.tail
        before = tail.offset
        try:
            result = tail.step()
        except Exception as exc:
            if _waits_out(exc):
                self._write_failed(watch, seq, exc)
                return False
            watch.ended = True
            watch.changed_seq = seq
            self._feed.post(self._finish, watch, exc)
            return False
        if watch.write_error is not None:
            log.info("%s: the recording takes lines again; capture resumed", watch.name)
            watch.write_error = None
        watch.seen = seen = tail.source_stat  # the sweep steps the file again if it moved since
        watch.steps += 1
        watch.entries += result.entries
        if not result.progressed:
            watch.idle_seq = seq
        watch.changed_seq = seq
        if watch.waiters:
            self._feed.post(watch.notify)
        full = seen is not None and seen[1] - before > tail.batch_bytes
        return result.reset or result.reloaded or (result.consumed > 0 and full)

    def _write_failed(self, watch: _Watch, seq: int, error: OSError) -> None:
        """In the capture thread: the step could not write the recording (a full disk or
        quota, a read-only folder) or open a file (no descriptor to spare). Nothing of its
        batch was committed and the source keeps the lines, so the watch goes on: it is
        stepped again every `WRITE_RETRY` seconds (and on every change), and capture resumes
        by itself once the step can write again."""
        if not isinstance(error, WriteFailed):  # the source's side: its message names no recording
            error = OSError(error.errno, f"{watch.name}: {error.strerror or error}")
        if watch.write_error is None:
            log.error("%s; capture paused, retrying until it can write", error.strerror or error)
        watch.write_error = error
        watch.changed_seq = seq
        if watch.waiters:
            self._feed.post(watch.notify)
        self._feed.post(self._retry_later, watch)

    def _retry_later(self, watch: _Watch) -> None:
        """In the trio thread: step `watch` again in `WRITE_RETRY` seconds (one retry pending
        at a time), unless it ended meanwhile."""
        if watch.retrying or watch.ended or self._nursery is None:
            return
        watch.retrying = True

        async def retry() -> None:
            try:
                await trio.sleep(WRITE_RETRY)
            finally:
                watch.retrying = False
            if not watch.ended:
                self._feed.wake(watch)

        self._nursery.start_soon(retry)

    def _finish(self, watch: _Watch, error: BaseException | None) -> None:
        """In the trio thread: `watch` ended (stopped, or its step raised `error`)."""
        if watch.done.is_set():
            return
        self._feed.remove(watch)
        if self._watches.get(watch.name) is watch:
            del self._watches[watch.name]
        self._steps += watch.steps
        self._entries += watch.entries
        self._stopped += watch.live
        if isinstance(error, RecordingGone):
            log.info("%s: the recording ended; watcher stops", watch.name)
        elif error is not None:
            # One broken recording never takes the daemon down: log it, stop this watch.
            watch.error = error
            self._failed += 1
            if isinstance(
                error, TailError | JournalError | RecordError | OSError | UnsafePathError
            ):
                log.error("%s: watcher stopped: %s", watch.name, error)
            else:
                log.error("%s: watcher failed", watch.name, exc_info=error)
        watch.done.set()
        watch.notify()

    async def stop_watch(self, name: str) -> bool:
        """Stop watching `name` and wait until its step in progress, if any, completed.
        Returns False when it was not watched."""
        watch = self._watches.get(name)
        if watch is None:
            return False
        watch.ended = True
        self._feed.remove(watch)
        await self._feed.settled(watch)
        self._finish(watch, None)
        return True

    async def stop_all(self) -> None:
        """Stop every watch and refuse any later `start_watch`."""
        self._closed = True
        for name in list(self._watches):
            await self.stop_watch(name)

    async def wait_synced(self, name: str) -> None:
        """Wait until watch `name` has consumed every complete line present when called (a
        step that started after this call found nothing new), has ended, or a step after the
        call could not write the recording (a full disk). Steps it as needed, without waiting
        for change events."""
        watch = self._watches.get(name)
        if watch is None:
            return
        target = watch.step_seq + 1
        watch.waiters += 1
        try:
            while watch.idle_seq < target and not watch.done.is_set():
                if watch.write_error is not None and watch.changed_seq >= target:
                    return  # the recording takes no lines now (a full disk): nothing to wait on
                self._feed.wake(watch)  # no need to wait for a change event: step now
                await watch.changed.wait()
        finally:
            watch.waiters -= 1

    async def wait_step(self, name: str) -> None:
        """Step watch `name` now (changed or not) and wait until that step finished (or the
        watch ended): what it found is then durably in `raw.jsonl` and the marker."""
        watch = self._watches.get(name)
        if watch is None:
            return
        target = watch.step_seq + 1
        watch.waiters += 1
        try:
            self._feed.wake(watch)
            while watch.changed_seq < target and not watch.done.is_set():
                await watch.changed.wait()
        finally:
            watch.waiters -= 1

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
                elif (pid := agent_pid(marker)) > 0 and not pid_alive(pid):
                    reason = f"agent process {pid} died"
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
