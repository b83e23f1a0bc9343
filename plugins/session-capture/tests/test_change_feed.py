"""Event-driven capture: the inotify binding, the `ChangeFeed` (kernel events, the stat sweep,
the fallback polling) and the watcher stepping a file only when it changed. Real files, real
inotify, the real clock; every wait is bounded."""

from __future__ import annotations

import contextlib
import os
import struct
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from ox_session_capture import changes as changes_mod
from ox_session_capture.changes import ChangeFeed, StatKey
from ox_session_capture.inotify import IN_MODIFY, Event, Inotify, InotifyUnavailable, parse
from ox_session_capture.recording import create_recording
from ox_session_capture.records import read_marker
from ox_session_capture.testing import append, claude_session_file, numbered_user
from ox_session_capture.watcher import SessionWatcherManager

LIMIT = 20.0


def pack(wd: int, mask: int, name: bytes) -> bytes:
    padded = name + b"\0" * (-len(name) % 16 or (16 if name else 0))
    return struct.pack("iIII", wd, mask, 0, len(padded)) + padded


events = st.lists(
    st.tuples(
        st.integers(-1, 2**31 - 1),
        st.integers(0, 2**32 - 1),
        st.binary(max_size=40).map(lambda b: b.replace(b"\0", b"x").replace(b"/", b"y")),
    ),
    max_size=20,
)


@given(events)
def test_parse_reads_back_what_the_kernel_packs(evs: list[tuple[int, int, bytes]]) -> None:
    data = b"".join(pack(*e) for e in evs)
    assert parse(data) == [Event(wd, mask, os.fsdecode(name)) for wd, mask, name in evs]


@given(events, st.integers(1, 15), st.binary(max_size=64))
def test_parse_drops_a_truncated_tail_and_never_raises_on_junk(
    evs: list[tuple[int, int, bytes]], cut: int, junk: bytes
) -> None:
    data = b"".join(pack(*e) for e in evs)
    assert parse(data + pack(1, 2, b"name")[:cut]) == parse(data)
    parse(junk)  # whatever it returns, hostile bytes never raise


def test_inotify_reports_a_write_in_a_watched_folder(tmp_path: Path) -> None:
    with Inotify.open() as ino:
        wd = ino.watch_folder(tmp_path)
        (tmp_path / "f.jsonl").write_bytes(b"x\n")
        got = ino.read_now()
    assert any(e.wd == wd and e.name == "f.jsonl" and e.mask & IN_MODIFY for e in got)


def test_a_link_to_a_folder_is_not_watched(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with Inotify.open() as ino, pytest.raises(OSError, match="Not a directory"):
        ino.watch_folder(tmp_path / "link")


class FakeTarget:
    def __init__(self, source: Path) -> None:
        self._source = source
        self.seen: StatKey = changes_mod.stat_key(source)
        self.woken = 0
        self.slow = False

    @property
    def source(self) -> Path:
        return self._source

    def step(self) -> bool:
        self.woken += 1
        self.seen = changes_mod.stat_key(self._source)  # as the watcher does before stepping
        return False


@contextlib.asynccontextmanager
async def following(feed: ChangeFeed, *targets: FakeTarget) -> AsyncIterator[trio.Nursery]:
    """`feed` running, following `targets`, until the block ends (then cancelled)."""
    async with trio.open_nursery() as nursery:
        await nursery.start(feed.run)
        for target in targets:
            feed.add(target)
        yield nursery
        nursery.cancel_scope.cancel()


async def until(what: str, predicate: object) -> None:
    with trio.fail_after(LIMIT):
        # Counters moved by other tasks and worker threads: nothing to wait on but them.
        while not predicate():  # type: ignore[operator]  # noqa: ASYNC110
            await trio.sleep(0.01)


async def settling(nursery: trio.Nursery, feed: ChangeFeed, target: FakeTarget) -> list[bool]:
    """`feed.settled(target)` awaited in the background, once it waits; the list it returns
    gets `True` when it has returned."""
    done: list[bool] = []

    async def settle() -> None:
        await feed.settled(target)
        done.append(True)

    nursery.start_soon(settle)
    await trio.testing.wait_all_tasks_blocked()
    return done


async def test_an_event_wakes_the_file_without_any_sweep(tmp_path: Path) -> None:
    src = tmp_path / "a.jsonl"
    src.touch()
    other = FakeTarget(tmp_path / "other.jsonl")
    feed = ChangeFeed(poll_interval=0.25, sweep_interval=3600)
    target = FakeTarget(src)
    async with following(feed, target):
        feed.add(other)
        append(src, b"line\n")
        await until("woken", lambda: target.woken)
        stats = feed.statistics()
        assert stats.inotify
        assert (stats.folders, stats.polled, stats.sweeps) == (1, 0, 0)
        assert stats.woken_by_events >= 1
        assert other.woken == 0  # another file of the folder did not change


async def test_without_inotify_files_are_polled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable() -> Inotify:
        raise InotifyUnavailable("not on this system")

    monkeypatch.setattr(Inotify, "open", staticmethod(unavailable))
    src = tmp_path / "a.jsonl"
    src.touch()
    feed = ChangeFeed(poll_interval=0.02, sweep_interval=3600)
    target = FakeTarget(src)
    async with following(feed, target):
        append(src, b"line\n")
        await until("woken by a sweep", lambda: target.woken)
        stats = feed.statistics()
        assert not stats.inotify
        assert stats.polled == 1
        assert stats.woken_by_sweeps >= 1


async def test_changes_without_events_make_a_file_polled(tmp_path: Path) -> None:
    """A file system that sends no events (simulated: the events are dropped) is caught by
    the sweep, and after two such misses the file is polled at `poll_interval`."""
    src = tmp_path / "a.jsonl"
    src.touch()
    feed = ChangeFeed(poll_interval=0.02, sweep_interval=0.05)
    feed._dispatch = lambda event: None  # type: ignore[method-assign]
    target = FakeTarget(src)
    async with following(feed, target):
        for n in range(2):
            woken = target.woken
            append(src, b"line\n")
            await until(f"sweep {n}", lambda w=woken: target.woken > w)  # type: ignore[misc]
        await until("polled", lambda: feed.statistics().polled == 1)


async def test_a_missing_folder_is_polled_then_watched_once_it_exists(tmp_path: Path) -> None:
    src = tmp_path / "later" / "a.jsonl"
    feed = ChangeFeed(poll_interval=0.02, sweep_interval=0.05)
    target = FakeTarget(src)
    async with following(feed, target):
        assert feed.statistics().polled == 1
        src.parent.mkdir()
        src.write_bytes(b"line\n")
        await until("woken", lambda: target.woken)
        await until("watched", lambda: feed.statistics().folders == 1)
        assert feed.statistics().polled == 0
        feed.remove(target)
        assert feed.statistics().folders == 0  # the last file of the folder took its watch


class BlockingTarget(FakeTarget):
    """A file whose step waits until released (a step waiting on the disk)."""

    def __init__(self, source: Path, *, slow: bool) -> None:
        super().__init__(source)
        self.slow = slow
        self.entered = threading.Event()
        self.release = threading.Event()
        self.threads: set[str] = set()

    def step(self) -> bool:
        self.threads.add(threading.current_thread().name)
        self.entered.set()
        if not self.release.wait(LIMIT):
            raise AssertionError("never released")
        return super().step()


def slow_and_fast(folder: Path) -> tuple[BlockingTarget, FakeTarget]:
    """Two files in `folder`: one whose steps wait on the disk (`slow`), one that does not."""
    for name in ("slow.jsonl", "fast.jsonl"):
        (folder / name).touch()
    return BlockingTarget(folder / "slow.jsonl", slow=True), FakeTarget(folder / "fast.jsonl")


async def wait_thread_event(event: threading.Event) -> None:
    assert await trio.to_thread.run_sync(event.wait, LIMIT), "never set"


async def test_a_step_waiting_on_the_disk_does_not_hold_the_other_files(tmp_path: Path) -> None:
    """A slow step (several fsyncs: a recording's first lines, a reset) runs in a helper
    thread, so the lines of the other files keep being captured meanwhile; the helpers end
    with the feed."""
    feed = ChangeFeed(poll_interval=0.25, sweep_interval=3600)
    slow, fast = slow_and_fast(tmp_path)
    slow_src, fast_src = slow.source, fast.source
    async with trio.open_nursery() as nursery:
        await nursery.start(feed.run)
        feed.add(slow)
        feed.add(fast)
        append(slow_src, b"line\n")
        await wait_thread_event(slow.entered)
        for n in range(3):
            append(fast_src, b"line\n")
            await until(f"fast line {n}", lambda n=n: fast.woken > n)  # type: ignore[misc]
        assert slow.woken == 0  # still held in its step
        slow.release.set()
        await until("slow step done", lambda: slow.woken >= 1)
        assert slow.threads == {"ox-capture-helper"}
        nursery.cancel_scope.cancel()
    assert not [t for t in threading.enumerate() if t.name == "ox-capture-helper"]


async def test_removing_a_file_waits_for_its_step_in_progress(tmp_path: Path) -> None:
    src = tmp_path / "a.jsonl"
    src.touch()
    feed = ChangeFeed(poll_interval=0.25, sweep_interval=3600)
    target = BlockingTarget(src, slow=False)
    async with following(feed, target) as nursery:
        feed.wake(target)
        await wait_thread_event(target.entered)
        feed.remove(target)
        settled = await settling(nursery, feed, target)
        assert not settled  # its step is still running
        target.release.set()
        await until("settled", lambda: settled)
        assert target.woken == 1
        append(src, b"line\n")
        feed.wake(target)  # removed: never stepped again
        await feed.settled(target)
    assert target.woken == 1


async def test_settling_a_file_waits_for_its_own_step_not_another_files(
    tmp_path: Path,
) -> None:
    """A slow step runs in a helper thread while the capture thread steps other files: the
    end of another file's step is no reason to say this one's has ended (`stop_watch` relies
    on it before the recording is stopped)."""
    feed = ChangeFeed(poll_interval=0.25, sweep_interval=3600)
    slow, fast = slow_and_fast(tmp_path)
    slow_src, fast_src = slow.source, fast.source
    async with following(feed, slow, fast) as nursery:
        append(slow_src, b"line\n")
        await wait_thread_event(slow.entered)
        feed.remove(slow)
        settled = await settling(nursery, feed, slow)
        try:
            append(fast_src, b"line\n")
            await until("the other file's step", lambda: fast.woken >= 1)
            await feed.settled(fast)  # its end has been told to every waiter
            await trio.testing.wait_all_tasks_blocked()
            assert not settled  # the slow step still runs
        finally:
            slow.release.set()
        await until("settled", lambda: settled)


async def test_a_target_that_raises_does_not_stop_the_others(tmp_path: Path) -> None:
    bad_src, good_src = tmp_path / "bad.jsonl", tmp_path / "good.jsonl"
    bad_src.touch()
    good_src.touch()

    class Raising(FakeTarget):
        def step(self) -> bool:
            super().step()
            raise RuntimeError("a bug in one target")

    feed = ChangeFeed(poll_interval=0.25, sweep_interval=3600)
    bad, good = Raising(bad_src), FakeTarget(good_src)
    async with trio.open_nursery() as nursery:
        await nursery.start(feed.run)
        feed.add(bad)
        feed.add(good)
        append(bad_src, b"line\n")
        await until("bad stepped", lambda: bad.woken)
        append(good_src, b"line\n")
        await until("good stepped", lambda: good.woken)
        nursery.cancel_scope.cancel()


def max_queued_events() -> int:
    try:
        return int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    except (OSError, ValueError):
        return 16384


async def test_a_queue_overflow_steps_every_file(tmp_path: Path) -> None:
    """Events lost to a full inotify queue: the overflow event steps every file at once,
    without waiting for the sweep (here an hour away)."""
    busy, noisy, quiet = tmp_path / "busy", tmp_path / "noisy", tmp_path / "quiet"
    for folder in (busy, noisy, quiet):
        folder.mkdir()
    (busy / "a.jsonl").touch()
    (quiet / "b.jsonl").touch()
    feed = ChangeFeed(poll_interval=0.25, sweep_interval=3600)
    blocker = BlockingTarget(busy / "a.jsonl", slow=False)
    target = FakeTarget(quiet / "b.jsonl")
    noise = FakeTarget(noisy / "x")  # only so that its folder is watched
    async with trio.open_nursery() as nursery:
        await nursery.start(feed.run)
        for t in (blocker, target, noise):
            feed.add(t)
        append(busy / "a.jsonl", b"line\n")
        await wait_thread_event(blocker.entered)  # the capture thread reads no event now
        fds = [os.open(noisy / n, os.O_WRONLY | os.O_CREAT, 0o600) for n in ("x", "y")]
        try:
            for n in range(max_queued_events() + 100):  # alternating names: never merged
                os.write(fds[n % 2], b".")
        finally:
            for fd in fds:
                os.close(fd)
        append(quiet / "b.jsonl", b"line\n")  # its event is lost: the queue is full
        blocker.release.set()
        await until("stepped after the overflow", lambda: target.woken)
        assert feed.statistics().sweeps == 0
        nursery.cancel_scope.cancel()


async def test_a_removed_folder_is_polled_then_watched_again(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    src = folder / "a.jsonl"
    src.touch()
    feed = ChangeFeed(poll_interval=0.02, sweep_interval=0.05)
    target = FakeTarget(src)
    async with following(feed, target):
        assert feed.statistics().folders == 1
        src.unlink()
        folder.rmdir()  # its watch ends (IN_DELETE_SELF, IN_IGNORED)
        await until("polled", lambda: feed.statistics().polled == 1)
        folder.mkdir()
        src.write_bytes(b"line\n")
        await until("watched again", lambda: feed.statistics().folders == 1)
        woken = target.woken
        append(src, b"line\n")
        await until("stepped", lambda: target.woken > woken)


async def test_a_file_is_stepped_only_when_it_changed(home: Path, ledger: Path) -> None:
    src = claude_session_file(home)
    rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home)
    manager = SessionWatcherManager(ledger, home=home, poll_interval=0.02, sweep_interval=0.05)
    async with trio.open_nursery() as nursery:
        await nursery.start(manager.run)
        await manager.start_watch(rec.name, src, "claude-code")
        await manager.wait_synced(rec.name)
        # A sweep racing the first step may wake it once more: let the start settle.
        sweeps = manager.statistics().feed.sweeps  # type: ignore[union-attr]
        await until("2 sweeps", lambda: manager.statistics().feed.sweeps >= sweeps + 2)  # type: ignore[union-attr]
        await manager.wait_synced(rec.name)
        steps = manager.statistics().steps
        sweeps = manager.statistics().feed.sweeps  # type: ignore[union-attr]
        # Several sweeps of an unchanged file: no step, no thread.
        await until("3 sweeps", lambda: manager.statistics().feed.sweeps >= sweeps + 3)  # type: ignore[union-attr]
        assert manager.statistics().steps == steps
        append(src, numbered_user(0))
        await until("stepped", lambda: manager.statistics().steps > steps)
        await until("captured", lambda: read_marker(rec.session_dir).entry_count == 1)
        await manager.stop_all()
        nursery.cancel_scope.cancel()
