"""Detection: every staleness row, every branch of steps 2–5, orphans, places."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ox_handler_session_finalize.detect import Kind, Place, Scanner, is_stale
from ox_session_capture import records, transcript
from ox_session_capture.records import RecordingMarker

from .finalize_support import entries, make_session, write_raw

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def live_pid() -> Iterator[int]:
    proc = subprocess.Popen(["sleep", "60"])
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def marker(
    age: timedelta, pid: int = 0, *, base: datetime = NOW, **extra: object
) -> RecordingMarker:
    data: dict[str, object] = {"agent_id": "a1", "started_at": base - age, "parent_pid": pid}
    return RecordingMarker.model_validate({**data, **extra})


# ------------------------------------------------------------------ staleness rows


def test_pid_alive_is_never_stale(live_pid: int) -> None:
    assert not is_stale(marker(timedelta(days=30), live_pid), NOW, NOW)


def test_pid_dead_within_grace_is_not_stale(dead_pid: int) -> None:
    assert not is_stale(marker(timedelta(minutes=9, seconds=59), dead_pid), NOW, NOW)


def test_pid_dead_after_grace_is_stale(dead_pid: int) -> None:
    assert is_stale(marker(timedelta(minutes=10), dead_pid), NOW, NOW)


def test_no_pid_before_24h_is_not_stale() -> None:
    assert not is_stale(marker(timedelta(hours=23, minutes=59)), NOW, NOW)


def test_no_pid_after_24h_is_stale() -> None:
    assert is_stale(marker(timedelta(hours=24)), NOW, NOW)


def test_unreadable_marker_ages_by_mtime() -> None:
    assert not is_stale(None, NOW - timedelta(hours=23), NOW)
    assert is_stale(None, NOW - timedelta(hours=25), NOW)


def test_stopped_at_is_stale_at_once(live_pid: int) -> None:
    assert is_stale(marker(timedelta(0), live_pid, stopped_at=NOW), NOW, NOW)


# ------------------------------------------------------------------ step 1 in a real folder


def cache(ledger: Path) -> Path:
    return records.ledger_cache_sessions(ledger)


def write_marker(folder: Path, m: RecordingMarker) -> None:
    records.atomic_write_model(folder / records.MARKER, m)


def kinds(scanner: Scanner) -> list[tuple[str, Kind, tuple[str, ...]]]:
    return [(f.name, f.kind, f.missing) for f in scanner.scan()]


def test_stale_recording_is_ended_and_detected(tmp_path: Path, dead_pid: int) -> None:
    folder = make_session(cache(tmp_path), "s1")
    write_marker(folder, marker(timedelta(hours=1), dead_pid, session_file=""))
    scanner = Scanner(tmp_path, tmp_path / "uc", now=lambda: NOW)
    assert kinds(scanner) == [("s1", Kind.FULL, records.ARTIFACTS)]
    assert not (folder / records.MARKER).exists()


def test_live_recording_is_skipped_and_untouched(tmp_path: Path, live_pid: int) -> None:
    folder = make_session(cache(tmp_path), "s1")
    write_marker(folder, marker(timedelta(hours=1), live_pid))
    assert Scanner(tmp_path, tmp_path / "uc", now=lambda: NOW).scan() == []
    assert (folder / records.MARKER).exists()


def test_unreadable_marker_in_a_folder_uses_its_mtime(tmp_path: Path) -> None:
    folder = make_session(cache(tmp_path), "s1")
    (folder / records.MARKER).write_text("{not json")
    scanner = Scanner(tmp_path, tmp_path / "uc")
    assert scanner.scan() == []
    old = time.time() - 25 * 3600
    os.utime(folder / records.MARKER, (old, old))
    assert kinds(scanner) == [("s1", Kind.FULL, records.ARTIFACTS)]
    assert not (folder / records.MARKER).exists()


def test_locked_raw_file_defers_leaving_everything(tmp_path: Path, dead_pid: int) -> None:
    folder = make_session(cache(tmp_path), "s1")
    write_marker(folder, marker(timedelta(hours=1), dead_pid))
    before = (folder / records.RAW).read_bytes()
    scanner = Scanner(tmp_path, tmp_path / "uc", now=lambda: NOW, recover=lambda f, m: None)
    with records.lock_file(folder / records.RAW):
        started = time.monotonic()
        assert scanner.scan() == []
        assert time.monotonic() - started < 2
    assert (folder / records.MARKER).exists()
    assert (folder / records.RAW).read_bytes() == before
    assert kinds(scanner) == [("s1", Kind.FULL, records.ARTIFACTS)]


def test_recover_runs_before_the_marker_goes_and_errors_keep_it(
    tmp_path: Path, dead_pid: int
) -> None:
    folder = make_session(cache(tmp_path), "s1")
    write_marker(folder, marker(timedelta(hours=1), dead_pid))
    seen: list[bool] = []

    def failing(f: Path, m: RecordingMarker | None) -> None:
        seen.append((f / records.MARKER).exists())
        raise RuntimeError("journal refuses to settle")

    assert Scanner(tmp_path, tmp_path / "uc", now=lambda: NOW, recover=failing).scan() == []
    assert seen == [True]
    assert (folder / records.MARKER).exists()

    def catch_up(f: Path, m: RecordingMarker | None) -> None:
        with open(f / records.RAW, "a") as raw:
            raw.write(json.dumps({"type": "user", "content": "caught up"}) + "\n")

    found = Scanner(tmp_path, tmp_path / "uc", now=lambda: NOW, recover=catch_up).scan()
    assert [f.name for f in found] == ["s1"]
    assert transcript.read_raw(folder / records.RAW).entries[-1].content == "caught up"


# ------------------------------------------------------------------ steps 2–5


def scan_one(tmp_path: Path, folder: Path) -> list[tuple[str, Kind, tuple[str, ...]]]:
    del folder
    return kinds(Scanner(tmp_path, tmp_path / "uc"))


def finish(folder: Path, *, title: str = "A title", attempts: int = 1, status: str = "ok") -> None:
    for name in ("summary.md", "session.md"):
        (folder / name).write_text("x")
    summary = records.Summary(title=title, summary_attempts=attempts, summary_status=status)
    records.atomic_write_model(folder / records.SUMMARY_JSON, summary)


def test_unreadable_meta_is_skipped(tmp_path: Path) -> None:
    folder = make_session(cache(tmp_path), "s1")
    (folder / records.META).write_text("[broken")
    assert scan_one(tmp_path, folder) == []


def test_lfs_pointer_raw_is_skipped(tmp_path: Path) -> None:
    folder = make_session(records.committed_sessions(tmp_path), "s1")
    (folder / records.RAW).write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:" + "0" * 64 + "\nsize 10\n"
    )
    assert scan_one(tmp_path, folder) == []


def test_no_raw_or_framing_only_is_skipped(tmp_path: Path) -> None:
    (cache(tmp_path) / "empty").mkdir(parents=True)
    framing = cache(tmp_path) / "framing"
    write_raw(framing, [{"type": "footer", "closed_at": NOW.isoformat()}])
    with open(framing / records.RAW, "a") as raw:  # garbage lines never count, never crash
        raw.write("[" * 5000 + "]" * 5000 + "\n{truncated\n")
    assert kinds(Scanner(tmp_path, tmp_path / "uc")) == []


def test_missing_artifacts(tmp_path: Path) -> None:
    folder = make_session(cache(tmp_path), "s1")
    (folder / "summary.md").write_text("x")
    assert scan_one(tmp_path, folder) == [("s1", Kind.FULL, ("summary.json", "session.md"))]


def test_needs_summary_means_everything_missing(tmp_path: Path) -> None:
    folder = make_session(records.committed_sessions(tmp_path), "s1")
    finish(folder)
    (folder / records.NEEDS_SUMMARY).touch()
    assert scan_one(tmp_path, folder) == [("s1", Kind.FULL, records.ARTIFACTS)]


def test_blank_title_retries_until_three_attempts(tmp_path: Path) -> None:
    folder = make_session(records.committed_sessions(tmp_path), "s1")
    finish(folder, title="", attempts=2, status="failed_validation")
    assert scan_one(tmp_path, folder) == [("s1", Kind.RETRY, ())]
    finish(folder, title="  ", attempts=3, status="unrecoverable")
    assert scan_one(tmp_path, folder) == []


def test_finished_in_ledger_cache_is_upload_only(tmp_path: Path) -> None:
    folder = make_session(cache(tmp_path), "s1")
    finish(folder)
    assert scan_one(tmp_path, folder) == [("s1", Kind.UPLOAD_ONLY, ())]


def test_finished_and_committed_needs_nothing(tmp_path: Path) -> None:
    folder = make_session(records.committed_sessions(tmp_path), "s1")
    finish(folder)
    assert scan_one(tmp_path, folder) == []


def test_local_only_stays_in_the_cache(tmp_path: Path) -> None:
    folder = make_session(cache(tmp_path), "s1")
    finish(folder)
    (folder / records.META).write_text(json.dumps({"disposition": "local_only"}))
    assert scan_one(tmp_path, folder) == []


def test_first_copy_of_a_name_wins_and_places_are_optional(tmp_path: Path) -> None:
    user_cache = records.user_cache_sessions(tmp_path, tmp_path / "uc")
    make_session(user_cache, "dup")
    make_session(user_cache, "only-user")
    committed = make_session(records.committed_sessions(tmp_path), "dup")
    finish(committed)
    found = {f.name: f for f in Scanner(tmp_path, tmp_path / "uc").scan()}
    # A committed folder of its name (a teammate's) never hides a user-cache session.
    assert set(found) == {"dup", "only-user"}
    assert found["dup"].place is Place.USER_CACHE
    assert found["only-user"].place is Place.USER_CACHE
    make_session(cache(tmp_path), "dup")
    found = {f.name: f for f in Scanner(tmp_path, tmp_path / "uc").scan()}
    assert found["dup"].place is Place.LEDGER_CACHE
    assert Scanner(tmp_path / "nowhere", tmp_path / "nothing").scan() == []


def test_ignored_folders_and_plain_files(tmp_path: Path) -> None:
    for name in ("raw", "events"):
        make_session(cache(tmp_path), name)
    (cache(tmp_path) / "plain.jsonl").write_text("{}")
    assert Scanner(tmp_path, tmp_path / "uc").scan() == []


# ------------------------------------------------------------------ helpers and the summary cache


def test_entries_helper_is_not_brief() -> None:
    from ox_handler_session_finalize.prompt import is_brief

    assert not is_brief([records.RawEntry.model_validate(e) for e in entries()])


def test_summary_cache_follows_changes_and_forgets_gone_sessions(tmp_path: Path) -> None:
    folder = make_session(records.committed_sessions(tmp_path), "s1")
    finish(folder, title="", attempts=1, status="failed_validation")
    scanner = Scanner(tmp_path, tmp_path / "uc")
    assert kinds(scanner) == [("s1", Kind.RETRY, ())]
    assert kinds(scanner) == [("s1", Kind.RETRY, ())]  # from the cache
    finish(folder, title="A real title now", attempts=2)
    assert kinds(scanner) == []
    assert len(scanner.summaries.entries) == 1
    import shutil

    shutil.rmtree(folder)
    assert kinds(scanner) == []
    assert scanner.summaries.entries == {}
