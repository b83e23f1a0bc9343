"""End to end on a really full disk: the ledger lives on a small tmpfs that the test fills.

`ox-core serve` runs as a real process (as in `test_e2e_session.py`); the agent's session file
is on the normal disk, the ledger's clone on a tmpfs of a few MiB mounted for the test (root
only: without the right to mount, the tests skip), its bare remote on the normal disk. While
the disk is full the daemon stays up and says what is wrong; once space is freed every line of
the session is in `raw.jsonl` exactly once and the session reaches the remote whole.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ox_core.testing import wait_until
from ox_session_capture.testing import claude_session_file, claude_text, numbered_user

if TYPE_CHECKING:
    from conftest import Daemon, OxWorld

DISK_BYTES = 8 * 1024 * 1024  # the clone takes a few hundred KiB of it
FINALIZE_COMMIT = "finalize session {}"
NO_SPACE = "No space left on device"


# ------------------------------------------------------------------ the small disk


def _unmount(where: Path) -> None:
    """Unmount `where`; lazily when something still holds it (a daemon killed mid-write)."""
    done = subprocess.run(["umount", str(where)], capture_output=True, check=False)
    if done.returncode != 0:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of `DISK_BYTES` at the place the `world` fixture clones the ledger to (an empty
    mount point: git clones into it). Unmounted after the test, whatever its outcome."""
    where = tmp_path / "team" / "ledger"
    where.mkdir(parents=True)
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES},mode=0755", "ox-full", str(where)],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        pytest.skip("a real full disk needs `mount` (util-linux) and root to mount a tmpfs")
    if mounted.returncode != 0:
        pytest.skip(
            "a real full disk needs the right to mount a tmpfs (root, or CAP_SYS_ADMIN in a "
            f"mount namespace): {mounted.stderr.strip()}"
        )
    try:
        yield where
    finally:
        _unmount(where)


@pytest.fixture
def world(small_disk: Path, world: OxWorld) -> OxWorld:
    """The e2e `world` (see conftest.py) with its ledger clone on `small_disk`."""
    assert world.ledger == small_disk
    return world


def fill(disk: Path) -> Path:
    """Fill `disk` to the last byte with `disk/filler`: big writes, then byte by byte for the
    tail of the last page (tmpfs allocates whole pages)."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as out:
        for size in (1 << 20, 1 << 12, 1):
            chunk = b"\0" * size
            while True:
                try:
                    out.write(chunk)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    assert os.statvfs(disk).f_bavail == 0
    return filler


# ------------------------------------------------------------------ the session


def pair(n: int) -> bytes:
    """Exchange `n`: user line `message n`, assistant line `answer n` (distinct message ids:
    claude-code repeats an id across the lines of one message, and capture keeps one)."""
    answer = str(uuid.UUID(int=(n + 1) << 96))
    return numbered_user(n) + claude_text(answer, f"answer {n}")


class Session:
    """A recorded claude-code session: its file on the normal disk, appended by the test, and
    the live process whose pid the recording follows."""

    def __init__(self, world: OxWorld) -> None:
        self.world = world
        self.source = claude_session_file(world.home)
        self.agent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        self.written = 0
        started = world.cli(
            "session", "start", "--adapter", "claude-code", "--file", str(self.source),
            "--pid", str(self.agent.pid), "--json",
        )  # fmt: skip
        reply = json.loads(started.stdout)
        self.name: str = reply["name"]
        self.raw = Path(reply["session_dir"]) / "raw.jsonl"

    def write(self, count: int) -> None:
        """Append `count` more exchanges, one line at a time."""
        with self.source.open("ab") as out:
            for n in range(self.written, self.written + count):
                for line in pair(n).splitlines(keepends=True):
                    out.write(line)
                    out.flush()
        self.written += count

    def close(self) -> None:
        self.agent.kill()
        self.agent.wait()


@pytest.fixture
def session(world: OxWorld) -> Iterator[Any]:
    made: list[Session] = []

    def start() -> Session:
        made.append(Session(world))
        return made[-1]

    try:
        yield start
    finally:
        for s in made:
            s.close()


def contents(raw: bytes) -> list[str]:
    """The `content` of each user and assistant entry of a `raw.jsonl`, in order. Every line
    must be whole JSON ending in a newline: a torn line fails here."""
    assert raw.endswith(b"\n") or not raw, raw[-200:]
    found = []
    for line in raw.splitlines():
        record = json.loads(line)
        if record.get("type") in ("user", "assistant"):
            found.append(str(record["content"]))
    return found


def expected(count: int) -> list[str]:
    return [text for n in range(count) for text in (f"message {n}", f"answer {n}")]


def captured(raw: Path) -> list[str]:
    try:
        return contents(raw.read_bytes())
    except FileNotFoundError:
        return []


# ------------------------------------------------------------------ what the daemon says


def disk_diagnosis(world: OxWorld) -> str:
    """The detail of `ox-core doctor --json`'s failing `disk` check, "" when it passes."""
    report = json.loads(world.cli("doctor", "--json", check=False).stdout)
    for row in report["ledger_checks"]:
        if row["name"] == "disk" and not row["ok"]:
            return str(row["detail"])
    return ""


def write_until_refused(rec: Session, daemon: Daemon) -> None:
    """Append exchanges one at a time until the capture finds the disk full (the last page
    of `raw.jsonl` may still take a few lines)."""
    for _ in range(200):
        rec.write(1)

        def refused() -> bool:
            return NO_SPACE in daemon.log.read_text()

        wait_until(
            "the capture of the exchange or its failure",
            lambda: refused() or captured(rec.raw) == expected(rec.written),
        )
        if refused():
            return
    raise AssertionError("the capture never found the disk full")


def alive(daemon: Daemon) -> None:
    assert daemon.proc.poll() is None, f"the daemon exited: {daemon.log.read_text()}"


def remote_files(world: OxWorld, name: str) -> list[str]:
    out = world.git(world.remote, "ls-tree", "-r", "--name-only", "main", f"sessions/{name}/")
    return sorted(line.removeprefix(f"sessions/{name}/") for line in out.splitlines())


def finalize_commits(world: OxWorld, name: str) -> list[str]:
    log = world.git(world.remote, "log", "--format=%s", "main", "--", f"sessions/{name}")
    return log.splitlines()


ARTIFACTS = sorted(["raw.jsonl", "summary.md", "summary.json", "session.md", "meta.json"])


def published_whole(world: OxWorld, name: str, count: int) -> None:
    """The remote holds the session once: one finalize commit, every artifact, every line of
    its transcript once."""
    assert finalize_commits(world, name) == [FINALIZE_COMMIT.format(name)]
    assert remote_files(world, name) == ARTIFACTS
    raw = world.git(world.remote, "show", f"main:sessions/{name}/raw.jsonl")
    assert contents(raw.encode()) == expected(count)
    for artifact in ("summary.json", "meta.json"):
        json.loads(world.git(world.remote, "show", f"main:sessions/{name}/{artifact}"))


# ------------------------------------------------------------------ the scenarios


def test_a_full_disk_while_recording_loses_no_line(world: OxWorld, session: Any) -> None:
    daemon = world.serve()
    rec: Session = session()
    rec.write(5)
    wait_until("the first lines in raw.jsonl", lambda: captured(rec.raw) == expected(5))

    filler = fill(world.ledger)
    write_until_refused(rec, daemon)
    rec.write(5)  # the agent goes on while nothing can be written
    alive(daemon)
    diagnosis = wait_until("doctor to name the full disk", lambda: disk_diagnosis(world))
    assert "free some space" in diagnosis
    world.cli("detect")  # each handler's scan now, not at its next interval
    paused = wait_until("status to say capture waits", lambda: capture_paused(world))
    assert rec.name in paused, paused
    assert NO_SPACE in paused, paused
    # What is in raw.jsonl meanwhile is a prefix of whole lines: a failed batch's part that
    # reached the disk is cut off at once, not left torn until space comes back.
    captured_while_full = captured(rec.raw)
    assert captured_while_full == expected(len(captured_while_full) // 2)

    filler.unlink()
    rec.write(5)
    # The live watch waits the full disk out and resumes within seconds (not at the next
    # doctor tick, a minute later, as when the first failure ended the watch).
    wait_until(
        "every line in raw.jsonl once space is back",
        lambda: captured(rec.raw) == expected(rec.written),
        timeout=30,
    )
    alive(daemon)
    world.cli("detect")
    wait_until("status to stop saying capture waits", lambda: capture_paused(world) == "")

    stopped = world.cli("session", "stop", rec.name)
    assert stopped.stdout.startswith(f"recording {rec.name} stopped")
    wait_until("the push", lambda: finalize_commits(world, rec.name), timeout=60)
    published_whole(world, rec.name, rec.written)
    assert daemon.stop() == 0


def capture_paused(world: OxWorld) -> str:
    """The standing error of the session-capture work that says a capture waits, or ""."""
    status = json.loads(world.cli("status", "--json").stdout)["agent_work"]
    errors = [e["error"] for e in status["errors"] if e["work_type"] == "session-capture"]
    return next((e for e in errors if "capture paused" in e), "")


def finalize_errors(world: OxWorld) -> list[str]:
    """The standing errors of the session-finalize work."""
    status = json.loads(world.cli("status", "--json").stdout)["agent_work"]
    return [e["error"] for e in status["errors"] if e["work_type"] == "session-finalize"]


def finalize_error(world: OxWorld) -> str:
    """The last standing error of the session-finalize work, "" while there is none."""
    errors = finalize_errors(world)
    return errors[-1] if errors else ""


def unpublished_files(world: OxWorld) -> list[str]:
    """Files under the ledger's `sessions/` (none must be there before a commit), and the
    paths the ledger's HEAD holds there."""
    folder = world.ledger / "sessions"
    found = [str(p.relative_to(world.ledger)) for p in folder.rglob("*")] if folder.exists() else []
    return (
        found + world.git(world.ledger, "ls-tree", "-r", "--name-only", "HEAD", "sessions/").split()
    )


def test_a_full_disk_while_finalizing_publishes_once_whole(world: OxWorld, session: Any) -> None:
    world.claude.block.touch()  # the summary run waits until the disk is full
    daemon = world.serve()
    rec: Session = session()
    rec.write(12)  # prompts long enough not to be discarded as brief
    wait_until("the lines in raw.jsonl", lambda: captured(rec.raw) == expected(12))
    world.cli("session", "stop", rec.name)
    wait_until("the summary run", world.claude.started.exists)
    filler = fill(world.ledger)
    world.claude.block.unlink()

    # Other steps may fail on the full disk too (a scan's cleanup): the session's own error
    # is the one that must say it.
    wait_until(
        "status to name the full disk for the session",
        lambda: next((e for e in finalize_errors(world) if NO_SPACE in e and rec.name in e), None),
    )
    alive(daemon)
    assert unpublished_files(world) == []  # nothing half-written in sessions/, nothing committed
    assert finalize_commits(world, rec.name) == []
    assert captured(rec.raw) == expected(12)  # the recording is kept for the next try

    filler.unlink()
    world.cli("detect")  # what a person does once space is freed: no wait for the next scan
    wait_until("the push", lambda: finalize_commits(world, rec.name), timeout=60)
    published_whole(world, rec.name, 12)
    assert finalize_error(world) == ""
    assert daemon.stop() == 0
