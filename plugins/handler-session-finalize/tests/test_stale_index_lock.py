"""A `.git/index.lock` left by a git that was killed (ox's own timeouts end a hung git with
SIGKILL) must not stop the ledger from publishing for ever; a lock that a running git holds is
never taken from it. Real git processes, killed for real."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ox_core import RunResult
from ox_core.proc import command_name, working_in
from ox_core.testing_runners import group_members
from ox_handler_session_finalize.git import GitError
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_handler_session_finalize.stale_lock import STALE_AFTER, remove_stale_index_lock
from ox_session_capture import records

from .finalize_support import answer, git, make_session

NAME = "2026-11-25T11-00-dev-a1"


@pytest.fixture
def holder(ledger: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A `git commit -a` waiting on its editor: it holds `.git/index.lock` until it ends."""
    (ledger / "notes.txt").write_text("one\n")
    git(ledger, "add", "notes.txt")
    git(ledger, "commit", "-q", "-m", "notes")
    (ledger / "notes.txt").write_text("two\n")
    env = {**os.environ, "GIT_EDITOR": "sleep 600;"}
    proc = subprocess.Popen(
        ["git", "commit", "-q", "-a"], cwd=ledger, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    lock = ledger / ".git" / "index.lock"
    deadline = time.monotonic() + 60  # generous: a loaded machine
    # Its editor running: git has written the new index into the lock by then (aged by a
    # test before that write, the lock would be fresh again).
    while not any(command_name(pid) == "sleep" for pid in group_members(proc.pid)):
        assert proc.poll() is None, "git ended before running its editor"
        assert time.monotonic() < deadline, "git never ran its editor"
        time.sleep(0.02)
    assert lock.exists()
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def kill(proc: subprocess.Popen[bytes]) -> None:
    """As ox's timeout ends a hung git: SIGKILL to its whole group (no chance to clean up).
    Returns once every process of the group has exited: git's child for the editor, killed
    between fork and exec, still bears the name `git` and works in the ledger until the
    kernel has finished it, which a loaded machine may take a while to do."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 60
    while group_members(proc.pid):  # zombies have left their folder: they do not count
        assert time.monotonic() < deadline, "the killed git's group never exited"
        time.sleep(0.02)


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


async def publish(handler: SessionFinalizeHandler, ledger: Path) -> None:
    items = await handler.detect(ledger)
    assert [i.payload["name"] for i in items] == [NAME]
    await handler.build_prompt(items[0])
    await handler.process_result(items[0], RunResult(output=answer()))


async def test_a_lock_left_by_a_killed_git_is_removed_and_the_session_published(
    handler: SessionFinalizeHandler,
    ledger: Path,
    holder: subprocess.Popen[bytes],
    caplog: pytest.LogCaptureFixture,
) -> None:
    kill(holder)
    lock = ledger / ".git" / "index.lock"
    assert lock.exists()  # what a killed git leaves
    folder = make_session(records.ledger_cache_sessions(ledger), NAME)

    # Fresh, it may still be a git's: publishing fails clearly and loses nothing.
    with pytest.raises(GitError, match=r"index\.lock"):
        await publish(handler, ledger)
    assert lock.exists()
    assert (folder / records.RAW).exists()

    age(lock, STALE_AFTER + 5)  # no git has touched it since: a leftover
    with caplog.at_level(logging.WARNING):
        await publish(handler, ledger)
    assert not lock.exists()
    assert "by a git that was killed" in caplog.text
    assert NAME in git(ledger, "log", "-1", "--format=%B")
    assert not folder.exists()  # the commit holds it: the cache copy went


def test_a_lock_that_a_running_git_holds_is_left_to_it(
    ledger: Path, holder: subprocess.Popen[bytes]
) -> None:
    lock = ledger / ".git" / "index.lock"
    age(lock, 10 * STALE_AFTER)  # old, but its git still runs (an editor open for a commit)
    assert not remove_stale_index_lock(ledger, ledger / ".git")
    assert lock.exists()
    kill(holder)
    # Any git still working in the ledger (one the killed commit started outside its group,
    # on a loaded machine) may own the lock: wait until none does.
    folders = (str(ledger.resolve()), str((ledger / ".git").resolve()))
    deadline = time.monotonic() + 60
    while working_in(folders, "git"):
        assert time.monotonic() < deadline, (
            f"gits still in the ledger: {working_in(folders, 'git')}"
        )
        time.sleep(0.02)
    assert remove_stale_index_lock(ledger, ledger / ".git")
    assert not lock.exists()


@pytest.mark.parametrize("what", ["a link", "a folder"])
def test_anything_but_a_regular_lock_file_is_never_removed(
    ledger: Path, tmp_path: Path, what: str
) -> None:
    lock = ledger / ".git" / "index.lock"
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    if what == "a link":
        lock.symlink_to(target)
    else:
        lock.mkdir()
    os.utime(lock, (0, 0), follow_symlinks=False)
    assert not remove_stale_index_lock(ledger, ledger / ".git")
    assert os.path.lexists(lock)
    assert target.read_text() == "keep"
