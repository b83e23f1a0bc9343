"""The session watcher when the process runs out of file descriptors, or the recording's
folder turns read-only, mid-session: the watch waits it out (status says capture is paused)
and every line is captured once that is lifted, without waiting for a doctor tick; the change
feed started short of descriptors neither leaks an inotify instance nor blames the user's
inotify instances.

Real files, a real RLIMIT_NOFILE and (root only) a real read-only bind mount."""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import trio

from ox_core.testing import wait_for
from ox_session_capture.changes import ChangeFeed
from ox_session_capture.recording import Recording, create_recording
from ox_session_capture.records import RAW
from ox_session_capture.testing import append, claude_session_file, numbered_user
from ox_session_capture.transcript import read_raw
from ox_session_capture.watcher import SessionWatcherManager

LIMIT = 60  # seconds: generous bound on any wait (a loaded machine); a healthy run takes ms


def contents(rec: Recording) -> list[str]:
    return [e.content for e in read_raw(rec.session_dir / RAW).entries]


async def watched(m: SessionWatcherManager, ledger: Path, home: Path, n: int) -> list[Recording]:
    """`n` live recordings, watched, each with `message 0` captured."""
    recs = []
    for i in range(n):
        src = claude_session_file(home, f"s{i}")
        rec = create_recording(ledger, "claude-code", src, pid=os.getpid())
        assert await m.start_watch(rec.name, src, "claude-code")
        append(src, numbered_user(0))
        with trio.fail_after(LIMIT):
            await m.wait_synced(rec.name)
        recs.append(rec)
    return recs


@contextmanager
def no_free_descriptor() -> Iterator[None]:
    """Every descriptor number the process may use is taken until the block ends."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    lowest_free = os.dup(0)
    os.close(lowest_free)
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def test_running_out_of_descriptors_pauses_capture_and_loses_nothing(
    manager: SessionWatcherManager, ledger: Path, home: Path
) -> None:
    recs = await watched(manager, ledger, home, 3)
    # The agents' files stay open: the agents are other processes, with descriptors to spare.
    agents = [
        os.open(claude_session_file(home, f"s{i}"), os.O_WRONLY | os.O_APPEND) for i in range(3)
    ]
    try:
        with no_free_descriptor():
            for agent, rec in zip(agents, recs, strict=True):
                os.write(agent, numbered_user(1))
                with trio.fail_after(LIMIT):
                    await manager.wait_step(rec.name)
            paused = manager.write_errors()
    finally:
        for agent in agents:
            os.close(agent)
    # Each watch waits for descriptors (status says so), none was dropped.
    assert sorted(paused) == sorted(r.name for r in recs)
    assert all("Too many open files" in error for error in paused.values())
    assert manager.active_sessions() == sorted(r.name for r in recs)
    for rec in recs:
        with trio.fail_after(LIMIT):
            await manager.wait_synced(rec.name)
        assert contents(rec) == ["message 0", "message 1"]
    assert manager.write_errors() == {}


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """`folder` on a read-only bind mount of itself until the block ends (root only: else
    the test skips; root ignores a folder's mode, so `chmod` cannot make it read-only)."""
    try:
        subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True)
    except (FileNotFoundError, subprocess.CalledProcessError):
        pytest.skip("a read-only folder for root needs `mount` and the right to bind-mount")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)


async def test_a_recording_on_a_read_only_folder_pauses_capture_until_it_is_writable(
    manager: SessionWatcherManager, ledger: Path, home: Path
) -> None:
    [rec] = await watched(manager, ledger, home, 1)
    with read_only(rec.session_dir):
        append(claude_session_file(home, "s0"), numbered_user(1))
        with trio.fail_after(LIMIT):
            await manager.wait_step(rec.name)
        paused = manager.write_errors()
        assert manager.active_sessions() == [rec.name]
    assert list(paused) == [rec.name]
    assert "Read-only file system" in paused[rec.name]
    # Writable again: the watch's own retry (not a doctor tick a minute later) captures it.
    # The lines land in the step, in the capture thread; the pause is lifted when it returns.
    await wait_for("the retry", lambda: contents(rec) == ["message 0", "message 1"], LIMIT)
    await wait_for("capture resumed", lambda: manager.write_errors() == {}, LIMIT)


@contextmanager
def free_descriptors(n: int) -> Iterator[None]:
    """Only `n` descriptor numbers left for the process to use until the block ends."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    taken = [os.dup(0) for _ in range(n)]  # each the lowest free: every number below is used
    for fd in taken:
        os.close(fd)
    resource.setrlimit(resource.RLIMIT_NOFILE, (taken[-1] + 1, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def inotify_instances() -> int:
    """The inotify instances this process holds open."""
    held = 0
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor, closed since
            held += os.readlink(f"/proc/self/fd/{name}") == "anon_inode:inotify"
    return held


async def test_a_feed_started_short_of_descriptors_leaks_no_inotify_instance() -> None:
    before = inotify_instances()
    for free in (1, 2, 3):  # too few for the feed's own pipe and its inotify instance
        with free_descriptors(free):
            try:
                async with trio.open_nursery() as nursery:
                    await nursery.start(ChangeFeed(poll_interval=0.1).run)
                    nursery.cancel_scope.cancel()
            except* OSError:  # none for its pipe: it fails (the service restarts it later)
                pass
    # An instance left open would hold one of the user's few (often 128) for good, at each
    # start of the session watcher while the daemon is short of descriptors.
    assert inotify_instances() == before


async def test_a_feed_without_a_descriptor_for_inotify_says_so_and_gets_one_later() -> None:
    feed = ChangeFeed(poll_interval=0.1, sweep_interval=0.1)
    async with trio.open_nursery() as nursery:
        with free_descriptors(2):  # the feed's pipe, none left for its inotify instance
            await nursery.start(feed.run)
            why = feed.statistics().no_inotify
        # The process's descriptors, not the user's inotify instances (a fix elsewhere).
        assert "no file descriptor to spare" in why, why
        assert "max_user_instances" not in why, why
        await wait_for("inotify", lambda: feed.statistics().inotify, LIMIT)
        assert feed.statistics().no_inotify == ""
        nursery.cancel_scope.cancel()
