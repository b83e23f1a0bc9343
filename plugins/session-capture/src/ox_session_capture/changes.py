"""The capture loop: one thread that learns which followed files changed and steps them.

`ChangeFeed` watches the folder of every followed file with inotify (one instance, one watch
per folder) and steps a file when an event names it. Every `sweep_interval` (1 s) it `lstat`s
every file and steps those whose (inode, size, mtime, ctime) differ from what their last step
saw: that catches an event lost to a queue overflow and files on file systems that send none
(network and FUSE mounts). A file changed twice without an event, or whose folder cannot be
watched (missing, the user's watch limit, no inotify on this system), is swept every
`poll_interval` (0.1 s) instead; a folder refused for the watch limit, and an inotify
instance the system could not give, are tried again at every full sweep, and counted in
`statistics()` meanwhile (the capture handler reports them in `status`).

Reading events, sweeping and stepping all run in one thread (`run` starts it as a trio worker
thread and ends it on cancellation, after the step in progress). A line appended costs one
`poll`, one inotify read and the step: no hand-off to a worker and back and no trio scheduler
pass per line, which at 500 files was most of the daemon's CPU. Steps are serial: a file with
more than one batch waiting is stepped again after the others due, so a long catch-up never
holds the rest for more than one batch. Idle, nothing runs but the 1 s sweep: with 500 files
about 2 ms of CPU per second.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import math
import os
import queue
import select
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import attrs
import trio

from ox_session_capture.inotify import (
    GONE,
    IN_IGNORED,
    IN_Q_OVERFLOW,
    Event,
    Inotify,
    InotifyUnavailable,
)

log = logging.getLogger(__name__)

SWEEP_INTERVAL = 1.0
"""Seconds between two sweeps of every file while kernel events arrive."""
MISSES_BEFORE_POLLING = 2
HELPERS = 4
"""Threads that take the steps likely to wait on the disk, started as needed."""
"""Changes found by the sweep with no event before a file is swept every `poll_interval`."""

_LIMITS = (errno.ENOSPC, errno.ENOMEM)
"""`inotify_add_watch` errors of the user's watch limit (`fs.inotify.max_user_watches`) or of
the kernel's memory: folders refused for them are watched again once a sweep can."""
MAX_WATCHES = (
    Path("/proc/sys/user/max_inotify_watches"),  # this user namespace's (Linux 5.11 and later)
    Path("/proc/sys/fs/inotify/max_user_watches"),  # the first namespace's, in any
)
MAX_INSTANCES = (
    Path("/proc/sys/user/max_inotify_instances"),
    Path("/proc/sys/fs/inotify/max_user_instances"),
)

StatKey = tuple[int, int, int, int] | None
"""(inode, size, mtime_ns, ctime_ns) of a file; None when it cannot be stat'ed."""


def stat_key(path: Path) -> StatKey:
    """What the sweep compares (`lstat`: a link is never followed)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def max_watches() -> str:
    """The user's inotify watch limit as the kernel says it (`?` when it cannot be read)."""
    return _lowest(MAX_WATCHES)


def _lowest(paths: Sequence[Path]) -> str:
    """The lowest of the limits read: the kernel enforces this user namespace's and each of
    its ancestors', and one that sets none of its own (a container's) reads 2**31 - 1."""
    limits = []
    for path in paths:
        try:
            limits.append(int(path.read_text()))
        except (OSError, ValueError):
            continue
    return str(min(limits)) if limits else "?"


def unavailable(exc: InotifyUnavailable) -> str:
    """Why there is no inotify instance, for a user: the limit named, the process's open files
    or the user's inotify instances (both `EMFILE`)."""
    if exc.errno == errno.EMFILE and not _descriptor_to_spare():
        return (
            "no file descriptor to spare for inotify: the daemon's open files limit is "
            "reached (raise LimitNOFILE or `ulimit -n`)"
        )
    if exc.errno == errno.EMFILE:
        return (
            "no inotify instance to spare: the user's inotify instances are used up "
            f"(fs.inotify.max_user_instances = {_lowest(MAX_INSTANCES)})"
        )
    return str(exc)


def _descriptor_to_spare() -> bool:
    """Whether this process can open one more file (`EMFILE` is also its own limit's error)."""
    try:
        fd = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        return exc.errno != errno.EMFILE
    os.close(fd)
    return True


def _stat_all(paths: Sequence[Path]) -> list[StatKey]:
    return [stat_key(p) for p in paths]


class Target(Protocol):
    """A followed file: its path, the `StatKey` it had before its last step, and its step."""

    seen: StatKey

    @property
    def source(self) -> Path: ...

    @property
    def slow(self) -> bool:
        """Whether its next step is likely to wait on the disk (several fsyncs)."""

    def step(self) -> bool:
        """Step the file once in the capture thread (never raises); True to be stepped again
        soon (more is waiting)."""


@attrs.define(eq=False)
class _Folder:
    path: Path
    wd: int | None = None
    names: dict[str, set[Target]] = attrs.Factory(dict)


@attrs.frozen
class FeedStatistics:
    """Kernel events read, wake-ups from events and from sweeps, sweeps done, folders
    watched by inotify, files swept every `poll_interval`, whether inotify is in use,
    folders not watched because the watch limit is reached (`over_limit`)."""

    events: int
    woken_by_events: int
    woken_by_sweeps: int
    sweeps: int
    folders: int
    polled: int
    inotify: bool
    over_limit: int = 0
    no_inotify: str = ""
    """Why inotify could not be had (tried again every `sweep_interval`); empty while it is
    in use or before the feed runs."""


class ChangeFeed:
    """Steps the files `add`ed when they change, in one thread, while `run` runs.

    `add`, `remove`, `wake` and `statistics` may be called from any thread.
    """

    def __init__(self, *, poll_interval: float, sweep_interval: float = SWEEP_INTERVAL) -> None:
        self.poll_interval = poll_interval
        self.sweep_interval = sweep_interval
        # Guards everything below; never held while a file is stepped or the sweep stats.
        self._lock = threading.Lock()
        self._targets: set[Target] = set()
        self._folders: dict[Path, _Folder] = {}
        self._by_wd: dict[int, _Folder] = {}
        self._over_limit: set[Path] = set()  # folders the watch limit refused, until watched
        self._no_inotify = ""  # why `Inotify.open` failed, until it succeeds
        self._polled: set[Target] = set()  # swept every poll_interval
        self._no_events: set[Target] = set()  # polled because changes came without events
        self._evented: set[Target] = set()  # woken by an event since the last sweep
        self._misses: dict[Target, int] = {}
        self._due: dict[Target, None] = {}  # to step, in order
        self._stepping: set[Target] = set()
        self._helpers: list[threading.Thread] = []
        self._slow_steps: queue.SimpleQueue[Target | None] = queue.SimpleQueue()
        self._step_ended: list[trio.Event] = []  # `settled` callers waiting on that step
        self._inotify: Inotify | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._interrupt_fd: int | None = None  # a pipe's write end: wakes the thread's poll
        self._thread: int | None = None
        self._stopping = False
        self._events = self._by_events = self._by_sweeps = self._sweeps = 0

    def statistics(self) -> FeedStatistics:
        with self._lock:
            return FeedStatistics(
                events=self._events,
                woken_by_events=self._by_events,
                woken_by_sweeps=self._by_sweeps,
                sweeps=self._sweeps,
                folders=len(self._by_wd),
                polled=len(self._polled),
                inotify=self._inotify is not None,
                over_limit=len(self._over_limit),
                no_inotify=self._no_inotify,
            )

    # ------------------------------------------------------------ targets

    def add(self, target: Target) -> None:
        """Follow `target.source` (its folder is watched from now on, or it is polled)."""
        with self._lock:
            self._targets.add(target)
            folder = self._folders.get(target.source.parent)
            if folder is None:
                folder = self._folders[target.source.parent] = _Folder(target.source.parent)
            folder.names.setdefault(target.source.name, set()).add(target)
            if folder.wd is None:
                self._watch(folder)
            if folder.wd is None:
                self._polled.add(target)
        self._interrupt()  # the thread's next deadline may be sooner now

    def remove(self, target: Target) -> None:
        """Stop following `target` (its folder's watch ends with its last file). A step of it
        in progress finishes (`settled` waits for that); no other starts."""
        with self._lock:
            self._targets.discard(target)
            for s in (self._polled, self._no_events, self._evented):
                s.discard(target)
            self._misses.pop(target, None)
            self._due.pop(target, None)
            folder = self._folders.get(target.source.parent)
            if folder is None:
                return
            names = folder.names.get(target.source.name, set())
            names.discard(target)
            if not names:
                folder.names.pop(target.source.name, None)
            if not folder.names:
                del self._folders[folder.path]
                self._over_limit.discard(folder.path)
                self._unwatch(folder)

    def wake(self, target: Target) -> None:
        """Step `target` soon, changed or not (again after the step in progress, if any)."""
        with self._lock:
            if target not in self._targets:
                return
            self._due[target] = None
        self._interrupt()

    def post(self, fn: Callable[..., object], *args: object) -> None:
        """Run `fn(*args)` in the trio thread soon (from the capture thread or a helper);
        nothing once `run` has ended."""
        token = self._token
        if token is not None:
            with contextlib.suppress(trio.RunFinishedError):
                token.run_sync_soon(fn, *args)

    async def settled(self, target: Target) -> None:
        """Return once no step of `target` is in progress (at once when none is)."""
        while True:
            with self._lock:
                if target not in self._stepping or self._token is None:
                    return
                ended = trio.Event()
                self._step_ended.append(ended)
            # Set when any step ends (a helper thread may end another file's step first):
            # look again.
            await ended.wait()

    def _watch(self, folder: _Folder) -> None:
        if self._inotify is None:
            return
        try:
            folder.wd = self._inotify.watch_folder(folder.path)
        except OSError as exc:
            self._refused(folder, exc)
            return
        self._not_over_limit(folder.path)
        other = self._by_wd.get(folder.wd)  # the same folder by another path (a link on the way)
        if other is not None and other is not folder:
            folder.wd = None
            return
        self._by_wd[folder.wd] = folder
        for targets in folder.names.values():
            self._polled.difference_update(targets - self._no_events)

    def _refused(self, folder: _Folder, exc: OSError) -> None:
        if exc.errno not in _LIMITS:  # a folder missing for now, not a folder at all
            log.debug("cannot watch %s (%s); its files are polled", folder.path, exc.strerror)
            # Refused for the limit before, maybe: raising it would not watch it now.
            self._not_over_limit(folder.path)
            return
        if not self._over_limit:  # said once, not for each folder at each sweep
            log.warning(
                "cannot watch %s (%s): the inotify watch limit (%s watches) is reached; "
                "the files of this folder and of any other refused are polled every %ss, "
                "and watched once fs.inotify.max_user_watches allows",
                folder.path,
                exc.strerror,
                max_watches(),
                self.poll_interval,
            )
        self._over_limit.add(folder.path)

    def _not_over_limit(self, path: Path) -> None:
        if path in self._over_limit:
            self._over_limit.discard(path)
            if not self._over_limit:
                log.info("no followed folder is refused for the inotify watch limit any more")

    def _unwatch(self, folder: _Folder) -> None:
        if folder.wd is None:
            return
        self._by_wd.pop(folder.wd, None)
        if self._inotify is not None:
            try:
                self._inotify.unwatch(folder.wd)
            except OSError as exc:  # never fatal: the watch only wakes steppers
                log.debug("inotify_rm_watch %s: %s", folder.path, exc.strerror)
        folder.wd = None

    def _interrupt(self) -> None:
        if threading.get_ident() != self._thread:
            self._interrupt_loop()

    def _interrupt_loop(self) -> None:
        fd = self._interrupt_fd
        if fd is not None:
            with contextlib.suppress(OSError):  # full (a wake-up is pending anyway) or closed
                os.write(fd, b"\0")

    # ------------------------------------------------------------ service

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Read events, sweep and step in the capture thread until cancelled; cancellation
        ends it after the step in progress."""
        read_fd, write_fd = os.pipe()
        try:
            os.set_blocking(read_fd, False)
            os.set_blocking(write_fd, False)
            # Opened after the pipe, closed below: an instance held by a start that failed
            # would be one of the user's few taken for good.
            inotify = self._open_inotify()
            with self._lock:
                self._inotify = inotify
                self._token = trio.lowlevel.current_trio_token()
                self._interrupt_fd = write_fd
                self._stopping = False
                for folder in self._folders.values():
                    self._watch(folder)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._stop_when_cancelled)
                task_status.started()
                # The thread is this task's: never abandoned, it ends before `run` returns.
                limiter = trio.CapacityLimiter(1)
                await trio.to_thread.run_sync(self._loop, read_fd, limiter=limiter)
                nursery.cancel_scope.cancel()
        finally:
            with self._lock:
                for folder in self._folders.values():
                    folder.wd = None
                self._by_wd.clear()
                self._over_limit.clear()
                self._interrupt_fd = None
                self._token = None
                self._no_inotify = ""
                if self._inotify is not None:
                    self._inotify.close()
                    self._inotify = None
                for ended in self._step_ended:
                    ended.set()
                self._step_ended.clear()
            os.close(read_fd)
            os.close(write_fd)

    def _open_inotify(self) -> Inotify | None:
        try:
            return Inotify.open()
        except InotifyUnavailable as exc:
            self._no_inotify = unavailable(exc)
            log.warning(
                "session watcher: %s; files are polled every %ss, inotify tried every %ss",
                self._no_inotify,
                self.poll_interval,
                self.sweep_interval,
            )
            return None

    async def _stop_when_cancelled(self) -> None:
        try:
            await trio.sleep_forever()
        finally:
            self._stopping = True
            self._interrupt()

    def _loop(self, interrupts: int) -> None:
        self._thread = threading.get_ident()
        poller = select.poll()
        poller.register(interrupts, select.POLLIN)
        inotify = self._inotify
        if inotify is not None:
            poller.register(inotify.fd, select.POLLIN)
        now = time.monotonic()
        next_full = next_try = now + self.sweep_interval
        next_poll = now + self.poll_interval
        try:
            while not self._stopping:
                self._step_due()
                now = time.monotonic()
                deadline = next_full
                if inotify is None or self._polled:
                    deadline = min(deadline, next_poll)
                with self._lock:  # `wake` adds to `_due` from other threads
                    ready = any(t not in self._stepping for t in self._due)
                wait_ms = 0 if ready else math.ceil(max(0.0, deadline - now) * 1000)
                for fd, _ in poller.poll(wait_ms):
                    if fd == interrupts:
                        with contextlib.suppress(BlockingIOError):
                            os.read(interrupts, 4096)
                    elif inotify is not None:
                        events = inotify.read_now()
                        with self._lock:
                            for event in events:
                                self._dispatch(event)
                now = time.monotonic()
                if inotify is None and now >= next_try:  # its sweeps move `next_full` on
                    next_try = now + self.sweep_interval
                    inotify = self._inotify_again(poller)
                if now >= next_full or (now >= next_poll and (inotify is None or self._polled)):
                    full = now >= next_full or inotify is None
                    if full:
                        next_full = now + self.sweep_interval
                    next_poll = now + self.poll_interval
                    self._sweep(full)
        finally:
            for _ in self._helpers:
                self._slow_steps.put(None)
            for helper in self._helpers:
                helper.join()
            self._helpers.clear()
            self._thread = None

    def _inotify_again(self, poller: select.poll) -> Inotify | None:
        """In the capture thread, while files are polled for want of inotify (the user's
        instances used up when the feed started): an instance now, if the system gives one,
        with every folder watched (the sweep that follows polls only what is still refused)."""
        try:
            inotify = Inotify.open()
        except InotifyUnavailable as exc:
            why = unavailable(exc)  # the process's descriptors may be what is short now
            with self._lock:
                self._no_inotify = why
            return None
        with self._lock:
            self._inotify = inotify
            self._no_inotify = ""
            for folder in self._folders.values():
                self._watch(folder)
        poller.register(inotify.fd, select.POLLIN)
        log.info("session watcher: inotify is available again; followed folders are watched")
        return inotify

    def _step_due(self) -> None:
        """Step each file due once; one with more waiting goes to the back of the line. A
        step likely to wait on the disk goes to a helper thread, so that the others' lines
        are not held behind its fsyncs (many recordings starting at once)."""
        with self._lock:
            due = [t for t in self._due if t not in self._stepping]
            for target in due:
                del self._due[target]
        for target in due:
            if self._stopping:
                return
            with self._lock:
                if target not in self._targets:
                    continue
                self._stepping.add(target)
            if target.slow:
                if len(self._helpers) < HELPERS:
                    helper = threading.Thread(
                        target=self._help, name="ox-capture-helper", daemon=True
                    )
                    helper.start()
                    self._helpers.append(helper)
                self._slow_steps.put(target)
            else:
                self._run_step(target)

    def _help(self) -> None:
        while (target := self._slow_steps.get()) is not None:
            self._run_step(target)
            self._interrupt_loop()  # it may be due again

    def _run_step(self, target: Target) -> None:
        again = False
        try:
            again = target.step()
        except Exception:  # a target's own errors are its to handle: one never stops the rest
            log.exception("session watcher: stepping %s failed", target.source)
        finally:
            with self._lock:
                self._stepping.discard(target)
                if again and target in self._targets:
                    self._due[target] = None
                ended, self._step_ended = self._step_ended, []
            for event in ended:
                self.post(event.set)

    def _dispatch(self, event: Event) -> None:
        self._events += 1
        if event.mask & IN_Q_OVERFLOW:
            log.info("session watcher: inotify queue overflow; stepping every file")
            for target in self._targets:
                self._wake(target, by_event=True)
            return
        folder = self._by_wd.get(event.wd)
        if folder is None:
            return
        if event.name:
            for target in folder.names.get(event.name, ()):
                self._wake(target, by_event=True)
        if event.mask & GONE:
            # The folder was removed or moved: poll its files until a sweep can watch it again.
            self._by_wd.pop(event.wd, None)
            if not event.mask & IN_IGNORED:
                self._unwatch(folder)
            folder.wd = None
            for targets in folder.names.values():
                self._polled.update(targets)
                for target in targets:
                    self._wake(target, by_event=True)

    def _wake(self, target: Target, *, by_event: bool) -> None:
        if by_event:
            self._by_events += 1
            self._evented.add(target)
        else:
            self._by_sweeps += 1
        self._due[target] = None

    def _sweep(self, full: bool) -> None:
        with self._lock:
            if full:
                for folder in list(self._folders.values()):
                    if folder.wd is None:
                        self._watch(folder)
            targets = list(self._targets if full else self._polled)
        if not targets:
            return
        keys = _stat_all([t.source for t in targets])
        with self._lock:
            self._sweeps += 1
            evented, self._evented = self._evented, set()
            for target, key in zip(targets, keys, strict=True):
                if key == target.seen or target not in self._targets:
                    continue
                self._wake(target, by_event=False)
                if target in evented:
                    self._misses.pop(target, None)
                if not full or target in evented or target in self._polled:
                    continue
                misses = self._misses[target] = self._misses.get(target, 0) + 1
                if misses >= MISSES_BEFORE_POLLING:
                    log.info("%s changes without kernel events; polled", target.source)
                    self._no_events.add(target)
                    self._polled.add(target)
