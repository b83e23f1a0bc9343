"""`SessionWatcherManager` and the watch service: following, idempotent start,
rejections, cleanup rules, stop_all, restart from the persisted offset, IPC methods.

Real files and real worker threads, so the real clock; every wait is bounded."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trio

from ox_core.errors import OxError
from ox_session_capture.journal import JournalError
from ox_session_capture.recording import Recording, create_recording
from ox_session_capture.records import (
    JOURNAL,
    MARKER,
    RAW,
    AppendJournal,
    RecordingMarker,
    atomic_write_model,
    read_marker,
    update_marker,
)
from ox_session_capture.service import SessionWatchService
from ox_session_capture.testing import append, claude_session_file, numbered_user
from ox_session_capture.transcript import read_raw
from ox_session_capture.watcher import SessionWatcherManager, WatchRejected

LIMIT = 60  # seconds: generous bound on any wait (a loaded machine); a healthy run takes ms


def record(ledger: Path, src: Path, pid: int | None = None) -> Recording:
    return create_recording(ledger, "claude-code", src, pid=os.getpid() if pid is None else pid)


def contents(rec: Recording) -> list[str]:
    return [e.content for e in read_raw(rec.session_dir / RAW).entries]


def msgs(*ns: int) -> list[str]:
    return [f"message {n}" for n in ns]


def dead_pid() -> int:
    """The PID of a real process that has exited and been reaped."""
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(proc.stdout)


async def synced(m: SessionWatcherManager, name: str) -> None:
    with trio.fail_after(LIMIT):
        await m.wait_synced(name)


# ---------------------------------------------------------------- following


async def test_appends_are_followed_into_raw(
    manager: SessionWatcherManager, ledger: Path, src: Path
) -> None:
    append(src, numbered_user(0))  # before the recording: not captured
    rec = record(ledger, src)
    assert await manager.start_watch(rec.name, src, "claude-code")
    append(src, numbered_user(1) + numbered_user(2))
    await synced(manager, rec.name)
    append(src, numbered_user(3))
    await synced(manager, rec.name)
    assert contents(rec) == msgs(1, 2, 3)
    marker = read_marker(rec.session_dir)
    assert (marker.entry_count, marker.source_offset) == (
        3,
        len(b"".join(map(numbered_user, range(4)))),
    )
    stats = manager.statistics()
    assert stats.active == (rec.name,)
    assert stats.entries == 3


async def test_start_is_idempotent(manager: SessionWatcherManager, ledger: Path, src: Path) -> None:
    rec = record(ledger, src)
    assert await manager.start_watch(rec.name, src, "claude-code")
    assert not await manager.start_watch(rec.name, src, "claude")
    assert manager.active_sessions() == [rec.name]
    append(src, numbered_user(0))
    await synced(manager, rec.name)
    assert contents(rec) == msgs(0)


async def test_restart_resumes_from_the_persisted_offset(
    manager: SessionWatcherManager, ledger: Path, src: Path
) -> None:
    rec = record(ledger, src)
    await manager.start_watch(rec.name, src, "claude-code")
    append(src, numbered_user(0))
    await synced(manager, rec.name)
    assert await manager.stop_watch(rec.name)
    assert not await manager.stop_watch(rec.name)
    assert manager.active_sessions() == []
    append(src, numbered_user(1))  # written while nobody watched
    await manager.start_watch(rec.name, src, "claude-code", offset=0)
    append(src, numbered_user(2))
    await synced(manager, rec.name)
    assert contents(rec) == msgs(0, 1, 2)


async def test_start_settles_a_leftover_journal(
    manager: SessionWatcherManager, ledger: Path, src: Path
) -> None:
    rec = record(ledger, src)
    raw = rec.session_dir / RAW
    header_size = raw.stat().st_size
    append(src, numbered_user(0))
    # A crash left half a batch and its journal; the marker never moved.
    append(raw, b'{"type":"user","content":"half')
    atomic_write_model(
        rec.session_dir / JOURNAL,
        AppendJournal(raw_size=header_size, old_offset=0, new_offset=99),
    )
    await manager.start_watch(rec.name, src, "claude-code")
    await synced(manager, rec.name)
    assert contents(rec) == msgs(0)
    assert not (rec.session_dir / JOURNAL).exists()


async def test_an_unsettleable_journal_refuses_the_start(
    manager: SessionWatcherManager, ledger: Path, src: Path
) -> None:
    rec = record(ledger, src)
    atomic_write_model(
        rec.session_dir / JOURNAL, AppendJournal(raw_size=1, old_offset=5, new_offset=9)
    )
    with pytest.raises(JournalError):
        await manager.start_watch(rec.name, src, "claude-code")
    assert manager.active_sessions() == []


async def test_a_broken_recording_stops_only_its_own_watch(
    manager: SessionWatcherManager, ledger: Path, home: Path
) -> None:
    a_src, b_src = claude_session_file(home, "a"), claude_session_file(home, "b")
    a, b = record(ledger, a_src), record(ledger, b_src)
    await manager.start_watch(a.name, a_src, "claude-code")
    await manager.start_watch(b.name, b_src, "claude-code")
    (a.session_dir / RAW).unlink()
    (a.session_dir / RAW).mkdir()  # appends to it now fail with an OSError
    append(a_src, numbered_user(0))
    append(b_src, numbered_user(1))
    await synced(manager, a.name)
    await synced(manager, b.name)
    assert manager.active_sessions() == [b.name]
    assert manager.statistics().failed == 1
    assert contents(b) == msgs(1)


# ---------------------------------------------------------------- rejections


@pytest.mark.parametrize(
    ("file", "adapter", "message"),
    [
        ("relative.jsonl", "claude-code", "absolute path"),
        ("{home}/notes/x.jsonl", "claude-code", "not under the claude-code session folders"),
        ("{src}", "codex", "not under the codex session folders"),
        ("{src}", "cursor", "unknown session adapter"),
    ],
)
async def test_start_rejects_bad_requests(
    manager: SessionWatcherManager,
    ledger: Path,
    home: Path,
    src: Path,
    file: str,
    adapter: str,
    message: str,
) -> None:
    rec = record(ledger, src)
    with pytest.raises(WatchRejected, match=message):
        await manager.start_watch(rec.name, file.format(home=home, src=src), adapter)
    assert manager.active_sessions() == []


async def test_start_rejects_a_symlink_out_of_the_roots(
    manager: SessionWatcherManager, ledger: Path, home: Path, tmp_path: Path, src: Path
) -> None:
    rec = record(ledger, src)
    outside = tmp_path / "secret.jsonl"
    outside.touch()
    link = src.parent / "link.jsonl"
    link.symlink_to(outside)
    with pytest.raises(WatchRejected, match="not under"):
        await manager.start_watch(rec.name, link, "claude-code")


async def test_start_rejects_missing_corrupt_and_stopped_recordings(
    manager: SessionWatcherManager, ledger: Path, src: Path
) -> None:
    with pytest.raises(WatchRejected, match="no recording marker"):
        await manager.start_watch("no-such-recording", src, "claude-code")
    rec = record(ledger, src)
    (rec.session_dir / MARKER).write_text("{corrupt")
    with pytest.raises(WatchRejected, match="cannot watch"):
        await manager.start_watch(rec.name, src, "claude-code")
    atomic_write_model(rec.session_dir / MARKER, RecordingMarker(adapter_name="claude-code"))

    update_marker(rec.session_dir, lambda m: setattr(m, "stopped_at", datetime.now(UTC)))
    with pytest.raises(WatchRejected, match="was stopped"):
        await manager.start_watch(rec.name, src, "claude-code")
    assert manager.active_sessions() == []


async def test_start_before_run_is_rejected(ledger: Path, src: Path) -> None:
    rec = record(ledger, src)
    with pytest.raises(WatchRejected, match="not running"):
        await SessionWatcherManager(ledger).start_watch(rec.name, src, "claude-code")


async def test_stop_all_stops_everything_and_refuses_later_starts(
    manager: SessionWatcherManager, ledger: Path, home: Path
) -> None:
    recs = []
    for name in ("a", "b", "c"):
        s = claude_session_file(home, name)
        rec = record(ledger, s)
        await manager.start_watch(rec.name, s, "claude-code")
        recs.append((rec, s))
    assert len(manager.active_sessions()) == 3
    await manager.stop_all()
    assert manager.active_sessions() == []
    rec, s = recs[0]
    with pytest.raises(WatchRejected, match="has been stopped"):
        await manager.start_watch(rec.name, s, "claude-code")


# ---------------------------------------------------------------- cleanup and restart


async def test_cleanup_rules(manager: SessionWatcherManager, ledger: Path, home: Path) -> None:
    def watched(name: str, pid: int | None = None) -> tuple[Recording, Path]:
        s = claude_session_file(home, name)
        return record(ledger, s, pid), s

    gone, stopped, dead, corrupt, live = (
        watched("gone"),
        watched("stopped"),
        watched("dead", pid=dead_pid()),
        watched("corrupt"),
        watched("live"),
    )
    for rec, s in (gone, stopped, dead, corrupt, live):
        await manager.start_watch(rec.name, s, "claude-code")
    (gone[0].session_dir / MARKER).unlink()
    update_marker(stopped[0].session_dir, lambda m: setattr(m, "stopped_at", m.started_at))
    (corrupt[0].session_dir / MARKER).write_text("{corrupt")
    assert sorted(await manager.cleanup()) == sorted([gone[0].name, stopped[0].name, dead[0].name])
    assert manager.active_sessions() == sorted([corrupt[0].name, live[0].name])


async def test_detect_and_restart_resumes_live_tail_recordings_only(
    manager: SessionWatcherManager, ledger: Path, home: Path
) -> None:
    live_src = claude_session_file(home, "live")
    live = record(ledger, live_src)
    append(live_src, numbered_user(0))
    await manager.start_watch(live.name, live_src, "claude-code")
    await synced(manager, live.name)
    await manager.stop_watch(live.name)  # as if the daemon had died
    append(live_src, numbered_user(1))

    dead = record(ledger, claude_session_file(home, "dead"), pid=dead_pid())
    no_pid = record(ledger, claude_session_file(home, "nopid"), pid=0)
    old_no_pid = record(ledger, claude_session_file(home, "oldnopid"), pid=0)
    update_marker(
        old_no_pid.session_dir,
        lambda m: setattr(m, "started_at", datetime.now(UTC) - timedelta(hours=25)),
    )
    stopped = record(ledger, claude_session_file(home, "stopped"))
    update_marker(stopped.session_dir, lambda m: setattr(m, "stopped_at", m.started_at))
    hook_src = claude_session_file(home, "hook")
    hook = record(ledger, hook_src)
    update_marker(hook.session_dir, lambda m: setattr(m, "watch_mode", "hook"))
    assert dead.name != no_pid.name

    # A PID-less recording is taken as live until it is 24 h old.
    assert await manager.detect_and_restart(ledger) == sorted([live.name, no_pid.name])
    assert await manager.detect_and_restart() == []  # already running: idempotent
    await synced(manager, live.name)
    assert contents(live) == msgs(0, 1)


# ---------------------------------------------------------------- the service and IPC


@pytest.fixture
async def service(
    ledger: Path, home: Path, nursery: trio.Nursery
) -> AsyncIterator[tuple[SessionWatchService, list[str]]]:
    stopped: list[str] = []

    async def on_stop(name: str) -> None:
        stopped.append(name)

    svc = SessionWatchService(ledger, on_stop=on_stop, poll_interval=0.02)
    await nursery.start(svc.serve)
    yield svc, stopped
    await svc.manager.stop_all()


async def test_ipc_start_and_stop_a_recording(
    service: tuple[SessionWatchService, list[str]], src: Path
) -> None:
    svc, stopped = service
    methods = svc.ipc_methods()
    append(src, numbered_user(0))
    reply: dict[str, Any] = await methods["session_watch_start"](
        {"adapter": "claude", "file": str(src), "pid": os.getpid()}
    )
    name = reply["name"]
    session_dir = Path(reply["session_dir"])
    assert svc.manager.active_sessions() == [name]
    marker = read_marker(session_dir)
    assert (marker.watch_mode, marker.parent_pid) == ("tail", os.getpid())
    assert marker.start_offset == len(numbered_user(0))
    again = await methods["session_watch_start"]({"adapter": "claude-code", "file": str(src)})
    assert again["name"] == name
    append(src, numbered_user(1) + numbered_user(2))
    await synced(svc.manager, name)
    append(src, numbered_user(3))  # drained by the stop even if the watcher did not see it
    reply = await methods["session_watch_stop"]({"name": name})
    assert reply == {"name": name, "entry_count": 3}
    assert stopped == [name]
    assert svc.manager.active_sessions() == []
    assert not (session_dir / MARKER).exists()
    raw = read_raw(session_dir / RAW)
    assert [e.content for e in raw.entries] == msgs(1, 2, 3)
    assert raw.footer is not None
    assert raw.footer.entry_count == 3


@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        ("session_watch_start", {"file": "/x"}, "adapter"),
        ("session_watch_start", {"adapter": "claude", "file": "/x", "bogus": 1}, "bogus"),
        ("session_watch_start", {"adapter": "claude", "file": "rel.jsonl"}, "absolute"),
        ("session_watch_start", {"adapter": "nope", "file": "/x.jsonl"}, "unknown session"),
        ("session_watch_stop", {"name": "never-started"}, "no live recording"),
        ("session_watch_stop", {"name": "../x"}, "invalid session name"),
        ("session_watch_stop", {"name": ".."}, "invalid session name"),
        ("session_watch_start", {"adapter": "claude", "file": "/x", "pid": 99999999999}, "pid"),
        ("session_watch_start", {"adapter": "claude", "file": "/x", "pid": -1}, "pid"),
        ("session_watch_start", {"adapter": "../claude", "file": "/x"}, "adapter"),
        ("session_watch_start", {"adapter": "claude", "file": "/x\x00y"}, "NUL"),
        ("session_watch_stop", {}, "name"),
    ],
)
async def test_ipc_rejections_are_clear_errors_and_leave_nothing(
    service: tuple[SessionWatchService, list[str]],
    ledger: Path,
    method: str,
    params: dict[str, Any],
    message: str,
) -> None:
    svc, stopped = service
    with pytest.raises(OxError, match=message):
        await svc.ipc_methods()[method](params)
    assert stopped == []
    cache = ledger / ".ox" / "cache" / "sessions"
    assert not cache.exists() or list(cache.iterdir()) == []


async def test_service_resumes_live_recordings_when_it_starts(
    ledger: Path, src: Path, nursery: trio.Nursery
) -> None:
    rec = record(ledger, src)
    append(src, numbered_user(0))
    svc = SessionWatchService(ledger, poll_interval=0.02)
    await nursery.start(svc.serve)
    assert svc.manager.active_sessions() == [rec.name]
    await synced(svc.manager, rec.name)
    assert contents(rec) == msgs(0)
    await svc.manager.stop_all()


async def test_doctor_tick_stops_ended_and_restarts_missing(
    ledger: Path, home: Path, nursery: trio.Nursery
) -> None:
    svc = SessionWatchService(ledger, poll_interval=0.02)
    await nursery.start(svc.serve)
    a_src = claude_session_file(home, "a")
    a = record(ledger, a_src)
    await svc.manager.start_watch(a.name, a_src, "claude-code")
    (a.session_dir / MARKER).unlink()
    b = record(ledger, claude_session_file(home, "b"))
    await svc.tick()
    assert svc.manager.active_sessions() == [b.name]
    await svc.manager.stop_all()


async def test_a_recording_folder_removed_under_its_watch_ends_it_as_ended_not_failed(
    manager: SessionWatcherManager, ledger: Path, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Someone removed the recording (`rm -r` of the cache, a finalization elsewhere): the
    watch ends as a recording that ended, not as a failure that status counts and that logs
    an error."""
    import logging
    import shutil

    caplog.set_level(logging.INFO, logger="ox_session_capture")
    src = claude_session_file(home, "gone")
    rec = record(ledger, src)
    await manager.start_watch(rec.name, src, "claude-code")
    shutil.rmtree(rec.session_dir)
    append(src, numbered_user(0))
    await synced(manager, rec.name)
    assert manager.active_sessions() == []
    assert manager.statistics().failed == 0
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert any("the recording ended" in r.getMessage() for r in caplog.records)
    assert not rec.session_dir.exists()  # nothing made again where it was
