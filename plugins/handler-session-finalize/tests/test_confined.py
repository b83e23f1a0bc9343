"""The ledger's trust rules at the unit level: `confined` (no link followed, no special file
read, no path out of its root), and every reader and writer of ledger content built on it."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ox_core import HandlerContext
from ox_core.errors import LedgerBlockedError, OxError
from ox_handler_session_finalize.detect import Place, Scanner
from ox_handler_session_finalize.export import upload_files
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_handler_session_finalize.ledger import Ledger
from ox_session_capture import records, transcript
from ox_session_capture.confined import (
    UnsafePathError,
    check_dirs,
    check_session_name,
    confine,
    make_dirs,
    open_regular,
    read_regular,
    regular_files,
)
from ox_session_capture.liveness import pid_alive
from ox_session_capture.service import SessionWatchService

from .finalize_support import git, make_session

SECRET = "PRIVATE-never-read"


def build_tree(base: Path) -> tuple[Path, Path]:
    """A root with real folders and links (to outside, to inside, to a file outside), and an
    outside folder holding a secret."""
    root, outside = base / "root", base / "outside"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "f").write_text("inside\n")
    outside.mkdir()
    (outside / "secret").write_text(SECRET)
    (root / "out").symlink_to(outside)
    (root / "a" / "up").symlink_to("../..")
    (root / "a" / "in").symlink_to("b")
    (root / "a" / "sf").symlink_to(outside / "secret")
    return root, outside


COMPONENTS = st.sampled_from(
    ["a", "b", "f", "out", "up", "in", "sf", "secret", "..", ".", "", "new", "x\x00y", "/"]
)


def test_confine_never_leaves_the_root(tmp_path: Path) -> None:
    root, _outside = build_tree(tmp_path)
    real_root = os.path.realpath(root)

    @settings(max_examples=400, deadline=None)
    @given(st.lists(COMPONENTS, min_size=0, max_size=6), st.booleans())
    def check(parts: list[str], absolute: bool) -> None:
        rel = ("/" if absolute else "") + "/".join(parts)
        try:
            target = confine(root, rel)
        except (UnsafePathError, FileNotFoundError, NotADirectoryError):
            return
        assert target.is_relative_to(root)
        assert ".." not in target.relative_to(root).parts
        # Every existing folder on the way is real, so the parent resolves inside the root.
        existing = target.parent
        while not existing.exists():
            existing = existing.parent
        assert os.path.realpath(existing).startswith(real_root)
        try:
            data = read_regular(target)
        except (UnsafePathError, OSError):
            return
        assert SECRET.encode() not in data

    check()


@given(st.text(max_size=300))
def test_an_accepted_session_name_is_one_plain_component(name: str) -> None:
    try:
        check_session_name(name)
    except UnsafePathError:
        return
    assert name not in (".", "..")
    assert not name.startswith(".")
    assert "/" not in name
    assert "\\" not in name
    assert "\x00" not in name
    assert Path("/r", name).parent == Path("/r")


@pytest.mark.parametrize("name", ["..", ".", "../x", "a/b", "", ".hidden", "x\x00", "a\\b"])
def test_bad_session_names_are_refused(name: str) -> None:
    with pytest.raises(UnsafePathError, match="invalid session name"):
        check_session_name(name)


def test_open_regular_refuses_links_fifos_devices_and_folders(tmp_path: Path) -> None:
    root, _outside = build_tree(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        open_regular(root / "a" / "sf")
    with pytest.raises(UnsafePathError, match="FIFO"):
        open_regular(fifo)  # returns at once: never waits for a writer
    with pytest.raises(UnsafePathError, match="FIFO"):
        open_regular(fifo, os.O_WRONLY)
    with pytest.raises(UnsafePathError, match="device"):
        open_regular("/dev/zero")
    with pytest.raises((UnsafePathError, IsADirectoryError)):
        open_regular(root / "a")
    assert read_regular(root / "a" / "f") == b"inside\n"
    with pytest.raises(UnsafePathError, match="limit"):
        read_regular(root / "a" / "f", limit=3)


def test_regular_files_names_the_first_link(tmp_path: Path) -> None:
    root, _ = build_tree(tmp_path)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        regular_files(root / "a")
    assert set(regular_files(root / "a" / "b")) == set()


def test_check_and_make_dirs_refuse_a_link_on_the_way(tmp_path: Path) -> None:
    root, outside = build_tree(tmp_path)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        check_dirs(root, root / "out" / "x", missing_ok=True)
    with pytest.raises(UnsafePathError, match="outside"):
        check_dirs(root, tmp_path / "outside")
    with pytest.raises(UnsafePathError, match="symbolic link"):
        make_dirs(root, root / "a" / "in" / "new")
    assert not (outside / "new").exists()
    with pytest.raises(UnsafePathError, match="a file"):
        make_dirs(root, root / "a" / "f" / "new")
    assert make_dirs(root, root / "a" / "c" / "d").is_dir()


def test_make_dirs_never_makes_a_missing_root(tmp_path: Path) -> None:
    # A ledger renamed while the daemon runs: a recording's lock, the capture index or a
    # session folder made below it would bring back a ghost ledger at the old path.
    from ox_session_capture.recording import RecordingRejected, creation_lock

    ledger = tmp_path / "team" / "ledger"
    with pytest.raises(FileNotFoundError, match="no such folder"):
        make_dirs(ledger, ledger / ".ox" / "cache")
    with pytest.raises(RecordingRejected, match="cannot record into"), creation_lock(ledger):
        pass
    assert not (tmp_path / "team").exists()


def test_atomic_write_refuses_a_linked_folder_and_replaces_a_link(tmp_path: Path) -> None:
    root, outside = build_tree(tmp_path)
    with pytest.raises(UnsafePathError):
        records.atomic_write_bytes(root / "out" / "secret", b"overwritten")
    records.atomic_write_bytes(root / "a" / "sf", b"mine")
    assert (outside / "secret").read_text() == SECRET  # the target is untouched
    assert not (root / "a" / "sf").is_symlink()
    assert (root / "a" / "sf").read_bytes() == b"mine"


def test_record_readers_never_follow_links(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({"title": SECRET}))
    (folder / records.SUMMARY_JSON).symlink_to(secret)
    (folder / records.RAW).symlink_to(secret)
    (folder / records.MARKER).symlink_to(secret)
    with pytest.raises(records.RecordError, match="symbolic link"):
        records.read_model(folder / records.SUMMARY_JSON, records.Summary)
    with pytest.raises(records.RecordError, match="symbolic link"):
        records.read_marker(folder)
    with pytest.raises(UnsafePathError):
        transcript.read_raw(folder / records.RAW)
    with pytest.raises(UnsafePathError):
        upload_files(folder)
    # The lock sidecar may not be a link either (it would create the file it names).
    (folder / ".x.lock").symlink_to(tmp_path / "planted")
    with pytest.raises(UnsafePathError), records.lock_file(folder / "x"):
        pass
    assert not (tmp_path / "planted").exists()


def test_pid_alive_is_false_for_numbers_no_process_has() -> None:
    assert pid_alive(2**70) is False
    assert pid_alive(99999999999) is False
    assert pid_alive(os.getpid()) is True


async def test_a_doctor_tick_survives_a_marker_with_an_absurd_pid(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    folder = records.ledger_cache_sessions(ledger) / "2026-11-24T00-38-dev-a1"
    folder.mkdir(parents=True)
    source = tmp_path / "session.jsonl"
    source.touch()  # watchable: only the pid decides whether the recording is restarted
    marker = records.RecordingMarker(
        adapter_name="claude-code",
        session_file=str(source),
        parent_pid=99999999999,
        started_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    records.atomic_write_model(folder / records.MARKER, marker)
    service = SessionWatchService(ledger, home=tmp_path)
    restarted: list[str] = []

    async def start_watch(name: str, *args: object) -> bool:
        restarted.append(name)
        return True

    service.manager.start_watch = start_watch  # type: ignore[method-assign]
    await service.tick()  # neither OverflowError nor anything else
    # The agent counts as gone: its recording is not restarted, and is left to finalization.
    assert restarted == []
    assert records.read_marker(folder) == marker


def test_scanner_refuses_linked_places_and_folders(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    private = tmp_path / "private"
    make_session(private, "2026-11-24T00-38-dev-a1", [{"type": "user", "content": SECRET}])
    (ledger / "sessions").symlink_to(private)
    scanner = Scanner(ledger, tmp_path / "cache")
    assert scanner.scan() == []
    with pytest.raises(UnsafePathError, match="symbolic link"):
        scanner.session_folder(Place.COMMITTED, "2026-11-24T00-38-dev-a1")
    (ledger / "sessions").unlink()
    (ledger / "sessions").mkdir()
    (ledger / "sessions" / "2026-11-24T00-38-dev-a2").symlink_to(
        private / "2026-11-24T00-38-dev-a1"
    )
    assert scanner.scan() == []
    with pytest.raises(UnsafePathError, match="symbolic link"):
        scanner.session_folder(Place.COMMITTED, "2026-11-24T00-38-dev-a2")


async def test_publish_never_writes_through_a_linked_folder_or_attributes(
    ledger: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine\n")
    bashrc = tmp_path / "bashrc"
    bashrc.write_text("export PATH=$PATH\n")
    (ledger / "sessions").mkdir()
    (ledger / "sessions" / "2026-11-24T00-38-dev-a1").symlink_to(outside)
    repo = Ledger(ledger)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        await repo.publish("2026-11-24T00-38-dev-a1", {"raw.jsonl": b"{}\n"})
    assert sorted(p.name for p in outside.iterdir()) == ["keep.txt"]
    with pytest.raises(UnsafePathError, match="invalid session name"):
        await repo.publish("../escape", {"raw.jsonl": b"{}\n"})
    (ledger / ".gitattributes").symlink_to(bashrc)
    with pytest.raises(LedgerBlockedError, match="symbolic link"):
        await repo.uses_lfs()
    assert bashrc.read_text() == "export PATH=$PATH\n"
    assert git(ledger, "status", "--porcelain", "--untracked-files=no") == ""


def test_validate_payload_checks_every_field(ledger: Path, tmp_path: Path) -> None:
    handler = SessionFinalizeHandler(user_cache_dir=tmp_path / "cache")
    handler.attach(HandlerContext(ledger=ledger, enqueue=lambda item: True))
    folder = records.ledger_cache_sessions(ledger) / "2026-11-24T00-38-dev-a1"
    good = {"name": folder.name, "path": str(folder), "place": "ledger-cache", "kind": "full"}
    assert handler.validate_payload(good) == {**good, "missing": []}
    assert handler.validate_payload({**good, "ledger": str(ledger)}) == {**good, "missing": []}
    other = str(tmp_path / "other-repo")
    bad = [
        ({**good, "ledger": other}, "not the daemon's ledger"),
        ({**good, "name": ".."}, "invalid session name"),
        ({**good, "path": str(tmp_path)}, "is not the folder of session"),
        ({**good, "path": str(folder / ".." / folder.name)}, "is not the folder of session"),
        ({**good, "place": "committed"}, "is not the folder of session"),
        ({**good, "place": "/etc"}, "place"),
        ({**good, "kind": "rm"}, "kind"),
        ({**good, "missing": ["../x"]}, "unknown artifacts"),
        ({**good, "more": 1}, "more"),
        ({k: v for k, v in good.items() if k != "name"}, "name"),
    ]
    for payload, message in bad:
        with pytest.raises(OxError, match=message):
            handler.validate_payload(payload)


def test_a_cache_path_with_a_link_is_refused_by_validate_payload(ledger: Path) -> None:
    handler = SessionFinalizeHandler()
    handler.attach(HandlerContext(ledger=ledger, enqueue=lambda item: True))
    target = ledger.parent / "elsewhere"
    target.mkdir()
    (ledger / ".ox").mkdir(exist_ok=True)
    (ledger / ".ox" / "cache").symlink_to(target)
    folder = records.ledger_cache_sessions(ledger) / "2026-11-24T00-38-dev-a1"
    payload = {"name": folder.name, "path": str(folder), "place": "ledger-cache", "kind": "full"}
    with pytest.raises(OxError, match="symbolic link"):
        handler.validate_payload(payload)
    assert stat.S_ISLNK(os.lstat(ledger / ".ox" / "cache").st_mode)


def test_a_cache_marker_naming_a_file_outside_the_agent_folders_is_not_read(
    tmp_path: Path, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A stale recording whose marker names a private file (as if edited, or written by an
    older ox): detection's catch-up refuses it and captures nothing from it."""
    private = tmp_path / "shadow.jsonl"
    private.write_text(
        json.dumps({"type": "user", "message": {"role": "user", "content": SECRET}, "uuid": "u1"})
        + "\n"
    )
    ledger = tmp_path / "ledger"
    folder = records.ledger_cache_sessions(ledger) / "2026-11-24T00-38-dev-a1"
    make_session(folder.parent, folder.name, [])
    marker = records.RecordingMarker(
        adapter_name="claude-code",
        session_file=str(private),
        started_at=datetime.now(UTC) - timedelta(hours=1),
        stopped_at=datetime.now(UTC) - timedelta(minutes=50),
        watch_mode="tail",
    )
    records.atomic_write_model(folder / records.MARKER, marker)
    assert Scanner(ledger, tmp_path / "cache").scan() == []
    assert SECRET not in (folder / records.RAW).read_text()
    assert "is not under the claude-code session folders" in caplog.text


def test_validated_payloads_always_name_a_folder_of_their_place(
    ledger: Path, tmp_path: Path
) -> None:
    handler = SessionFinalizeHandler(user_cache_dir=tmp_path / "cache")
    handler.attach(HandlerContext(ledger=ledger, enqueue=lambda item: True))
    scanner = handler.scanner(ledger)
    roots = dict(scanner.places())
    (ledger / "sessions").mkdir()
    (ledger / "sessions" / "linked").symlink_to(tmp_path)
    parts = st.sampled_from(["..", ".", "sessions", "linked", "a", "", "/", str(tmp_path)])

    @settings(max_examples=300, deadline=None)
    @given(
        st.text(max_size=20) | st.sampled_from(["a", "..", "linked", "a/b"]),
        st.sampled_from(list(Place)),
        st.lists(parts, max_size=5),
        st.booleans(),
    )
    def check(name: str, place: Place, path_parts: list[str], exact: bool) -> None:
        path = str(roots[place] / name) if exact else "/".join([str(ledger), *path_parts])
        payload = {"name": name, "path": path, "place": place.value, "kind": "full"}
        try:
            accepted = handler.validate_payload(payload)
        except OxError:
            return
        folder = Path(accepted["path"])
        assert folder.parent == roots[place]
        assert folder.name == name == accepted["name"]
        assert not folder.is_symlink()
        assert "ledger" not in accepted

    check()


def test_a_raw_file_linked_to_a_device_is_never_read(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    folder = ledger / "sessions" / "2026-11-24T00-38-dev-a1"
    folder.mkdir(parents=True)
    (folder / records.RAW).symlink_to("/dev/zero")  # would be an endless read if followed
    (folder / records.SUMMARY_JSON).symlink_to("/dev/zero")
    assert Scanner(ledger, tmp_path / "cache").scan() == []
