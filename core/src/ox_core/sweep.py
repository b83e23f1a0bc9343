"""What an agent run leaves behind: finding, killing and reaping it (through `ox_core.proc`).

A group kill misses what left the run's process group: a `setsid` helper, a classic daemon
(fork, setsid, fork, parent exits), a detached child of a Node CLI. `RunSweep` finds them all
and kills them when the run ends. Each run carries a unique token in its environment
(`RUN_TOKEN_VAR`), inherited by everything it starts, whatever group, session or parent it ends
up with; a process started by the run is also recognised by its process group (the leader's)
and by its ancestry (the tree under the leader while the leader lives, and under every process
found). Only processes started after the leader are ever considered, so one pass over `/proc`
reads a single short stat line per process and the environment of the few recent ones.

Everything found is frozen (SIGSTOP) first, the scan repeated until nothing new appears (a
process may fork while it is being found), then killed (SIGKILL) through a pidfd, so a reused
pid is never signalled. When the daemon is the *subreaper* of its descendants
(`set_subreaper`), orphans of a run are re-parented to it instead of to init: they stay
traceable, and the sweep reaps them so they do not linger as zombies; `reap_orphans` is the
daemon's service that becomes the subreaper and reaps the zombies nobody else waits for
(e.g. a `git gc` that git detached).

Elsewhere than Linux there is no `/proc`: the sweep finds nothing and the group kill of
`ox_core.process` is all there is.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import select
import signal
import sys
import time
import uuid
from collections.abc import Iterable

import trio

from ox_core.proc import ProcStat, has_env, last_pid, read_stat, scan

RUN_TOKEN_VAR = "OX_RUN_TOKEN"
"""The environment variable that marks every process of one agent run."""

MAX_ROUNDS = 8
"""Freeze-and-rescan rounds of one sweep before killing what was found (a fork bomb is
bounded by how fast it forks between two rounds; what it made last is killed by the next
sweep pass)."""

STOP_WAIT = 0.1
"""Seconds a sweep round waits for the processes it froze to show as stopped: SIGSTOP lands
when the process next leaves the kernel, so one busy in `fork` on another core makes its child
first, and the next scan must come after that to see the child."""

REAP_WAIT = 1.0
"""Seconds a sweep waits for the processes it killed to exit (SIGKILL is asynchronous; a
process in uninterruptible sleep dies when its I/O ends)."""

PID_RANGE_WITHIN = 1.0
"""Seconds after the leader's start within which a sweep reads only the pids handed out since
the leader's (they all are > its pid, cyclically): the kernel cannot hand out a whole
`pid_max` of pids in that time, so the range has not wrapped past the leader. Later, every
process is read (one `/proc` read each: about 10 us; a run that long does not notice)."""

ORPHAN_REAP_INTERVAL = 10.0
"""Seconds between two passes of `reap_orphans`; a zombie child is reaped at the second pass
that sees it, so its own parent (trio, subprocess) had that long to reap it first."""

UNSURE_PAUSE = 0.002
"""Seconds a sweep pauses before looking again at a process that showed no environment."""

_PR_SET_CHILD_SUBREAPER = 36


@functools.cache
def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        # The interpreter's own symbols include libc's (and no `ctypes.util` lookup).
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def set_subreaper(on: bool = True) -> bool:
    """Make this process the subreaper of its descendants (`on`), or stop being it: orphans
    among them are re-parented to it rather than to init, so they stay in its tree and it must
    reap them. True when done; False where unsupported (not Linux)."""
    libc = _libc()
    if libc is None:
        return False
    return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0)) == 0


def is_subreaper() -> bool:
    """Whether this process is a subreaper (False where unsupported)."""
    libc = _libc()
    if libc is None:
        return False
    value = ctypes.c_int(0)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER + 1, ctypes.byref(value), 0, 0, 0) != 0:
        return False
    return value.value != 0


class _Target:
    """One process found by a sweep, held through a pidfd when the kernel has them (its pid
    may be reused once it is reaped; the pidfd still names it)."""

    def __init__(self, stat: ProcStat) -> None:
        self.stat = stat
        self.fd: int | None = None
        self.gone = False
        with contextlib.suppress(OSError, AttributeError):
            self.fd = os.pidfd_open(stat.pid)
        # The pidfd names whoever had the pid when it was opened: it is this process only if
        # the pid still shows the same start time now.
        now = read_stat(stat.pid)
        if now is None or now.start != stat.start:
            self.close()
            self.gone = True

    def signal(self, sig: signal.Signals) -> None:
        if self.gone:
            return
        # EPERM: it changed credentials (setuid); ESRCH: already dead.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if self.fd is not None:
                signal.pidfd_send_signal(self.fd, sig)
            else:
                now = read_stat(self.stat.pid)
                if now is not None and now.start == self.stat.start:
                    os.kill(self.stat.pid, sig)

    def settled(self) -> bool:
        """Whether it can run no more (stopped, exiting, or gone) as far as `/proc` shows."""
        if self.gone:
            return True
        now = read_stat(self.stat.pid)
        return now is None or now.start != self.stat.start or now.state in "TtZX"

    def exited(self) -> bool:
        """Whether it exited (a zombie has), without waiting."""
        if self.gone or self.fd is None:
            now = read_stat(self.stat.pid)
            return now is None or now.start != self.stat.start or now.state in "ZX"
        return bool(select.select([self.fd], [], [], 0)[0])

    def reap(self) -> None:
        """Collect its exit status if it is a child of ours (an orphan re-parented to a
        subreaper); others are reaped by their own parent."""
        if self.gone:
            return
        with contextlib.suppress(ChildProcessError, OSError):
            if self.fd is not None:
                os.waitid(os.P_PIDFD, self.fd, os.WEXITED | os.WNOHANG)
            else:
                now = read_stat(self.stat.pid)
                if now is not None and now.start == self.stat.start and now.ppid == os.getpid():
                    os.waitid(os.P_PID, self.stat.pid, os.WEXITED | os.WNOHANG)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class RunSweep:
    """Finds, kills and reaps every process of one agent run but its leader (whose own parent,
    trio, reaps it; its group is killed by `ox_core.process`).

    `env(base)` is the run's environment (with its token); call `started(leader_pid)` right
    after spawning, `remember()` while the leader still lives (to know its tree), then `kill()`
    once it has exited, and `await wait()` (or `wait_sync()`) to wait for the deaths and reap.
    """

    def __init__(self, *, active: bool = True) -> None:
        self.active = active  # inactive: finds nothing, adds no token (see `run_process`)
        self.token = uuid.uuid4().hex
        self._entry = f"{RUN_TOKEN_VAR}={self.token}".encode()
        self.leader: ProcStat | None = None
        self._since = 0.0
        self._known: dict[int, int] = {}  # pid -> start of what `remember` saw
        self.targets: dict[tuple[int, int], _Target] = {}
        self.rounds = 0
        self.killed = False

    def env(self, base: dict[str, str]) -> dict[str, str]:
        if self.active:
            base[RUN_TOKEN_VAR] = self.token
        return base

    def started(self, leader: int) -> None:
        if self.active:
            self.leader = read_stat(leader)
        self._since = time.monotonic()

    def _scan(self) -> dict[int, ProcStat]:
        if self.leader is not None and time.monotonic() - self._since < PID_RANGE_WITHIN:
            last = last_pid()
            if last is not None:
                return scan((self.leader.pid, last))
        return scan()

    def _found(self, table: dict[int, ProcStat]) -> tuple[list[ProcStat], int]:
        """The processes of this run in `table` (one scan), the leader excluded, and how many
        others could not be told (no environment to read at that instant)."""
        leader = self.leader
        if leader is None:
            return [], 0
        me = os.getpid()
        children: dict[int, list[int]] = {}
        seeds: list[int] = []
        unsure = 0
        for stat in table.values():
            if stat.start < leader.start or stat.pid in (me, leader.pid) or stat.kernel_thread:
                continue
            children.setdefault(stat.ppid, []).append(stat.pid)
            if stat.pgid == leader.pid or self._known.get(stat.pid) == stat.start:
                seeds.append(stat.pid)
            elif stat.state not in "ZX":
                marked = has_env(stat.pid, self._entry)
                if marked:
                    seeds.append(stat.pid)
                elif marked is None:
                    unsure += 1
        now = table.get(leader.pid)
        if now is not None and now.start == leader.start:
            seeds.extend(children.get(leader.pid, []))
        found: dict[int, ProcStat] = {}
        while seeds:
            pid = seeds.pop()
            if pid not in found:
                found[pid] = table[pid]
                seeds.extend(children.get(pid, []))
        return list(found.values()), unsure

    def remember(self) -> None:
        """Note the run's processes now (while the leader lives, its tree shows those that
        cleared their environment), to be killed by `kill()`."""
        if self.leader is None:
            return
        for stat in self._found(self._scan())[0]:
            self._known[stat.pid] = stat.start

    def note(self, stats: Iterable[ProcStat]) -> None:
        """Count `stats` among the run's processes, as `remember` counts what it sees (found
        otherwise: holding the run's pipes after its leader exited), for `kill()`."""
        for stat in stats:
            self._known[stat.pid] = stat.start

    def kill(self) -> int:
        """Freeze every process of the run, rescanning until no new one appears, then SIGKILL
        them all. Returns how many were found in all. Synchronous: a few scans of `/proc`."""
        self.killed = True
        if self.leader is None:
            return 0
        for _ in range(MAX_ROUNDS):
            self.rounds += 1
            found, unsure = self._found(self._scan())
            new = [s for s in found if (s.pid, s.start) not in self.targets]
            if not new:
                if not unsure:
                    break
                # A process caught in `execve` shows no environment for an instant: it may be
                # one of ours (a helper exec'ing right as the run ends). Look again.
                time.sleep(UNSURE_PAUSE)
                continue
            frozen = []
            for stat in new:
                target = _Target(stat)
                self.targets[stat.pid, stat.start] = target
                if stat.state not in "ZX":
                    target.signal(signal.SIGSTOP)
                    frozen.append(target)
            _until_settled(frozen)
        for target in self.targets.values():
            target.signal(signal.SIGKILL)
        return len(self.targets)

    async def wait(self, limit: float = REAP_WAIT) -> None:
        """Wait (at most `limit` seconds) until what `kill()` found has exited; reap those
        that are our children; release the pidfds."""
        try:
            with trio.move_on_after(limit):
                for target in self.targets.values():
                    if target.fd is not None and not target.gone:
                        await trio.lowlevel.wait_readable(target.fd)
                    else:
                        while not target.exited():  # noqa: ASYNC110 - no fd to wait on
                            await trio.sleep(0.005)
        finally:
            for target in self.targets.values():
                if target.fd is not None:
                    trio.lowlevel.notify_closing(target.fd)  # trio may have it registered
            self._finish()

    def wait_sync(self, limit: float = REAP_WAIT) -> None:
        """`wait` for synchronous callers (blocks up to `limit` seconds)."""
        end = time.monotonic() + limit
        try:
            for target in self.targets.values():
                while not target.exited() and time.monotonic() < end:
                    if target.fd is not None:
                        select.select([target.fd], [], [], max(0.0, end - time.monotonic()))
                    else:
                        time.sleep(0.005)
        finally:
            self._finish()

    def _finish(self) -> None:
        for target in self.targets.values():
            target.reap()
            target.close()
        self.targets.clear()


def _until_settled(targets: list[_Target], limit: float = STOP_WAIT) -> None:
    """Wait (at most `limit` seconds) until every one of `targets` shows as stopped or gone,
    so that a scan after this sees every child they made (see `STOP_WAIT`)."""
    end = time.monotonic() + limit
    pending = [t for t in targets if not t.settled()]
    while pending and time.monotonic() < end:
        time.sleep(0.001)
        pending = [t for t in pending if not t.settled()]


def reap_zombie_children(previous: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """One pass of `reap_orphans`: reap the zombie children of this process that were already
    zombies in `previous` (their own parent code had a whole interval to reap them: they are
    orphans re-parented to us). Returns the zombie children seen now, for the next pass."""
    me = os.getpid()
    now = {(s.pid, s.start) for s in scan().values() if s.ppid == me and s.state == "Z"}
    for pid, start in now & previous:
        target = _Target(ProcStat(pid, "Z", me, 0, start))
        target.reap()
        target.close()
    return now - previous


async def reap_orphans(
    *,
    interval: float = ORPHAN_REAP_INTERVAL,
    task_status: trio.TaskStatus[bool] = trio.TASK_STATUS_IGNORED,
) -> None:
    """The daemon's service: become the subreaper of our descendants, then reap the orphans
    that die on their own (a detached helper no sweep saw) every `interval` seconds. Reports
    through `task_status.started(bool)` whether this process is a subreaper. On cancellation
    it is again what it was before (orphans of a test's process go to init again)."""
    before = is_subreaper()
    on = set_subreaper(True)
    task_status.started(on)
    if not on:
        await trio.sleep_forever()
    try:
        seen: set[tuple[int, int]] = set()
        while True:
            await trio.sleep(interval)
            seen = reap_zombie_children(seen)
    finally:
        set_subreaper(before)
