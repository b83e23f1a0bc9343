"""Reading Linux `/proc`: the one place ox looks at other processes.

`read_stat` and `scan` read `/proc/<pid>/stat` (parent, group, start time: a pid with its start
time names one process, as pids are reused), `has_env` a process's environment, `last_pid`
the pid handed out last, `opened_path` what an open fd points to, `holding` which processes
hold one of ours open, `pid_alive` and `pid_max` answer the questions records ask about a
pid, `working_in` which commands work in a folder.
Elsewhere than Linux there is no `/proc`: each answers "nothing found" (or its documented
fallback), never raises.
"""

from __future__ import annotations

import functools
import os
from typing import NamedTuple

_PF_KTHREAD = 0x00200000


class ProcStat(NamedTuple):
    """The fields of `/proc/<pid>/stat` ox needs. `start`: start time in clock ticks since
    boot, which with the pid identifies a process (pids are reused); counted as the host
    counts it, so that processes in time namespaces of their own agree on it."""

    pid: int
    state: str
    ppid: int
    pgid: int
    start: int
    flags: int = 0

    @property
    def kernel_thread(self) -> bool:
        return bool(self.flags & _PF_KTHREAD)


def read_stat(pid: int) -> ProcStat | None:
    """`pid`'s stat, or None when it is gone or unreadable (or there is no `/proc`)."""
    try:
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
    except OSError:
        return None
    try:
        data = os.read(fd, 4096)  # one read: the kernel renders the whole line at once
    except OSError:
        return None
    finally:
        os.close(fd)
    # The command name (in parentheses) may hold spaces and parentheses: split after the last.
    # Then: state ppid pgrp session tty tpgid flags ... starttime is the 20th field.
    fields = data[data.rfind(b")") + 2 :].split(b" ", 20)
    if len(fields) < 21:
        return None
    start = int(fields[19]) - _boottime_offset()
    return ProcStat(pid, chr(fields[0][0]), int(fields[1]), int(fields[2]), start, int(fields[6]))


@functools.cache
def _boottime_offset() -> int:
    """How far this process's clock since boot runs ahead of the host's (its time namespace's
    boottime offset), in clock ticks: `/proc` shows every start time shifted by it, so a start
    time one process records would name no process for another (whole seconds are exact; a
    part of one may be a tick off). 0 outside a time namespace, or without `/proc`."""
    try:
        with open("/proc/self/timens_offsets", "rb") as f:
            for line in f:
                name, seconds, nanoseconds = line.split()
                if name == b"boottime":
                    total = int(seconds) * 10**9 + int(nanoseconds)
                    return total * os.sysconf("SC_CLK_TCK") // 10**9
    except (OSError, ValueError):
        pass
    return 0


def scan(since_pid: tuple[int, int] | None = None) -> dict[int, ProcStat]:
    """Every process of `/proc` (one pass; {} without `/proc`). `since_pid=(first, last)`: only
    the pids allocated from `first` to `last`, cyclically (pids are handed out in increasing
    order, wrapping around at `pid_max`)."""
    table: dict[int, ProcStat] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return table
    for name in names:
        if name.isdigit():
            pid = int(name)
            if since_pid is not None:
                first, last = since_pid
                if not (first <= pid <= last if first <= last else pid >= first or pid <= last):
                    continue
            stat = read_stat(pid)
            if stat is not None:
                table[pid] = stat
    return table


def last_pid() -> int | None:
    """The pid the kernel handed out last (in this pid namespace), or None."""
    try:
        with open("/proc/loadavg", "rb") as f:
            return int(f.read().split()[-1])
    except (OSError, ValueError, IndexError):
        return None


def has_env(pid: int, entry: bytes) -> bool | None:
    """Whether `pid`'s environment holds `entry` (`NAME=value`) exactly. False for a process of
    another user or one that is gone; None when it shows no environment at all (a process in
    the middle of `execve` or of exiting: ask again)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            environ = f.read()
    except OSError:
        return False
    if not environ:
        return None
    return (b"\0" + entry + b"\0") in (b"\0" + environ)


def opened_path(fd: int) -> str | None:
    """The path the kernel has for open file `fd` (`/proc/self/fd`), None when it cannot
    tell; a deleted file's path ends with ` (deleted)`."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None


def holding(paths: frozenset[str], since: int, table: dict[int, ProcStat]) -> list[ProcStat]:
    """The processes of `table` (a `scan`) started at or after `since` (clock ticks, as
    `ProcStat.start`), this one aside, that hold an open file whose link is one of `paths`
    (`opened_path`'s form: `pipe:[<inode>]`). Processes of another user are not seen."""
    me = os.getpid()
    found = []
    for stat in table.values():
        if stat.pid == me or stat.start < since or stat.kernel_thread or stat.state in "ZX":
            continue
        folder = f"/proc/{stat.pid}/fd"
        try:
            fds = os.listdir(folder)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"{folder}/{fd}") in paths:
                    found.append(stat)
                    break
            except OSError:
                continue
    return found


def pid_alive(pid: int) -> bool:
    """Whether process `pid` exists (a process we may not signal counts as alive). A number
    no process can have (over the kernel's range) is not alive: pids in records are data. A
    process that exited and waits for its parent to reap it (a zombie) is not alive: it runs
    no code and holds no file open, and may stay so for as long as its parent does not wait."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        pass
    stat = read_stat(pid)
    return stat is None or stat.state not in ("Z", "X")


def pid_max() -> int:
    """The largest pid the kernel hands out (`/proc/sys/kernel/pid_max`; 2**22 without it)."""
    try:
        with open("/proc/sys/kernel/pid_max", "rb") as f:
            return int(f.read(32))
    except (OSError, ValueError):
        return 2**22


def pid_namespace(pid: int | str = "self") -> str:
    """The pid namespace of process `pid` (this one by default), as `/proc` names it
    (`pid:[4026531836]`); "" when `/proc` does not say."""
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return ""


def same_pid_namespace(pid: int) -> bool | None:
    """Whether process `pid` runs in this process's pid namespace: a pid it gives of itself
    or of another process means here what it means there. True where `/proc` names no
    namespace at all (this process's neither: none is told apart) and `pid` runs. None when it
    cannot be told (it is gone, or `/proc` does not say which namespace it is in)."""
    ours = pid_namespace()
    if not ours:
        return True if pid_alive(pid) else None
    theirs = pid_namespace(pid)
    return theirs == ours if theirs else None


def pid_here(pid: int, counted_by: int) -> int:
    """The pid in this process's pid namespace of the process that process `counted_by`
    calls `pid` (a pid it gives, counted in its own pid namespace); 0 when none here is that
    one (gone, `counted_by` gone, or `/proc` does not say which namespace it is in). `pid`
    itself where `/proc` names no namespace at all (this process's neither). One pass over
    `/proc` when the namespaces differ."""
    same = same_pid_namespace(counted_by) if pid > 0 else None
    if same is None:
        return 0
    return pid if same else _in_other_namespace(pid, pid_namespace(counted_by))


def _in_other_namespace(pid: int, theirs: str) -> int:
    """The pid here of the process that is `pid` in the pid namespace `theirs`; 0 for none."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return 0
    for name in names:
        if name.isdigit() and pid_namespace(name) == theirs and _own_pid(name) == pid:
            return int(name)
    return 0


def _own_pid(pid: str) -> int | None:
    """`pid`'s number in its own pid namespace: the last of `NSpid` in its status."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def command_name(pid: int) -> str:
    """`pid`'s command name (`/proc/<pid>/comm`, at most 15 bytes), "" when it is gone."""
    try:
        with open(f"/proc/{pid}/comm", "rb") as f:
            return f.read(64).decode("utf-8", "replace").strip()
    except OSError:
        return ""


def working_in(folders: tuple[str, ...], command_prefix: str) -> list[int]:
    """The processes whose command name starts with `command_prefix` and whose working folder
    is one of `folders` (absolute, resolved) or inside one; processes whose working folder
    cannot be read (another user's) are left out. [] without `/proc`."""
    found: list[int] = []
    try:
        names = os.listdir("/proc")
    except OSError:
        return found
    for name in names:
        if not name.isdigit() or not command_name(int(name)).startswith(command_prefix):
            continue
        try:
            cwd = os.readlink(f"/proc/{name}/cwd")
        except OSError:
            continue
        if any(cwd == f or cwd.startswith(f.rstrip("/") + "/") for f in folders):
            found.append(int(name))
    return found
