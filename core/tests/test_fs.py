"""`ox_core.fs`: atomic writes, locks and the no-link rules, on the real file system (and a
second real process holding a lock)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ox_core.fs import (
    LockTimeout,
    UnsafePathError,
    acquire,
    atomic_write,
    fsync_dir,
    lock_file,
    open_regular,
)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_atomic_write_replaces_the_file_with_its_mode_and_leaves_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    atomic_write(path, "old")
    atomic_write(path, b"new", mode=0o644)
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert leftovers(tmp_path) == []


@settings(max_examples=50, deadline=None)
@given(data=st.binary(max_size=2048), mode=st.sampled_from([0o600, 0o640, 0o644]))
def test_what_is_written_is_what_is_read(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, mode: int
) -> None:
    folder = tmp_path_factory.mktemp("w")
    atomic_write(folder / "f", data, mode=mode)
    assert (folder / "f").read_bytes() == data
    assert stat.S_IMODE((folder / "f").stat().st_mode) == mode
    assert leftovers(folder) == []


def test_a_failed_write_keeps_the_old_file_and_removes_the_temp(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    atomic_write(path, "old")
    with pytest.raises(TypeError):
        atomic_write(path, 42)  # type: ignore[arg-type]  # fails while writing the temp file
    assert path.read_text() == "old"
    assert leftovers(tmp_path) == []


def test_a_link_in_place_of_the_file_is_replaced_never_followed(tmp_path: Path) -> None:
    target = tmp_path / "secret"
    target.write_text("keep me")
    path = tmp_path / "record.json"
    path.symlink_to(target)
    atomic_write(path, "data")
    assert not path.is_symlink()
    assert path.read_text() == "data"
    assert target.read_text() == "keep me"


def test_a_folder_that_is_a_link_is_refused_unless_asked(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(UnsafePathError, match="is not a real folder; refused"):
        atomic_write(link / "f", "x")
    assert list(real.iterdir()) == []
    atomic_write(link / "f", "x", follow_symlinks=True)  # e.g. a user's linked config folder
    assert (real / "f").read_text() == "x"


def test_a_write_relative_to_an_open_folder_follows_no_swap(tmp_path: Path) -> None:
    folder = tmp_path / "session"
    folder.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        # The folder is swapped for a link after it was opened: the write stays in the
        # folder that was opened.
        folder.rename(tmp_path / "moved")
        folder.symlink_to(elsewhere)
        atomic_write("marker", "x", dir_fd=dfd)
        with pytest.raises(UnsafePathError, match="not a file name"):
            atomic_write("../escape", "x", dir_fd=dfd)
        fsync_dir(dfd)
    finally:
        os.close(dfd)
    assert (tmp_path / "moved" / "marker").read_text() == "x"
    assert list(elsewhere.iterdir()) == []
    fsync_dir(tmp_path / "moved")


def test_open_regular_refuses_links_and_fifos_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    # Without a writer (or a reader), opening it would block forever: the refusal comes first.
    with pytest.raises(UnsafePathError, match="is a FIFO; refused"):
        open_regular(fifo)
    with pytest.raises(UnsafePathError, match="is a FIFO; refused"):
        open_regular(fifo, os.O_WRONLY)
    (tmp_path / "link").symlink_to(tmp_path / "file")
    with pytest.raises(UnsafePathError, match="is a symbolic link; refused"):
        open_regular(tmp_path / "link", os.O_RDWR | os.O_CREAT)
    assert not (tmp_path / "file").exists()  # the link was not followed to create its target


HOLDER = """
import sys, time
from ox_core.fs import lock_file
with lock_file(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_a_lock_held_by_another_process_times_out_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / ".lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None
    assert holder.stdout is not None
    try:
        assert holder.stdout.readline() == "held\n"
        with (
            pytest.raises(LockTimeout, match=r"the queue is locked by another process"),
            lock_file(path, timeout=0.05, what="the queue"),
        ):
            pass
        fd = open_regular(path, os.O_RDWR)
        try:
            with pytest.raises(LockTimeout, match="locked by another process"):
                acquire(fd, timeout=0)
        finally:
            os.close(fd)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()
    # The holder is gone, and its lock with it.
    with lock_file(path, timeout=0):
        pass


def test_a_lock_file_that_is_a_link_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    (tmp_path / ".lock").symlink_to(target)
    with pytest.raises(UnsafePathError, match="symbolic link"), lock_file(tmp_path / ".lock"):
        pass
    assert target.read_text() == "keep"
