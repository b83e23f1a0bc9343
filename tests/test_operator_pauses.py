"""What the operator sees of each pause of publishing, end to end.

A real `ox-core serve` process, a clone of a bare remote, real git and git-lfs (and a real LFS
server where uploads matter), the CLI as a subprocess. For each state that pauses publishing:
the session is not lost, `status` names the cause and the fix on one readable line, `status
--json` carries it, `doctor` exits non-zero with it, and the fix as the message gives it makes
publishing resume without restarting the daemon.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ox_core.testing import wait_until
from ox_handler_session_finalize.testing import (
    GIT_SAFE_ENV,
    Member,
    bare_remote,
    finished_session,
    member,
    run,
)
from ox_session_capture import records

if TYPE_CHECKING:
    pass

NAME = "2026-11-25T10-00-ann-a1"
LFS_SERVER = (
    Path(__file__).parents[1] / "plugins" / "handler-session-finalize" / "tests" / "lfs_server.py"
)
WIDE = "1000"
"""The terminal width the CLI runs at: a message that fits is on one line (rich wraps the
rest at 80 columns, which says nothing about what ox prints)."""


# ------------------------------------------------------------------ set-up


def teammate_commits(remote: Path, root: Path, files: dict[str, str]) -> None:
    """A teammate's clone commits `files` (path: text; "" removes it) and pushes."""
    env = {**os.environ, **GIT_SAFE_ENV}
    mate = root / "mate"
    if not mate.exists():
        run(["git", "clone", "-q", str(remote), str(mate)], env=env)
    run(["git", "-C", str(mate), "pull", "-q", "origin", "main"], env=env)
    for rel, text in files.items():
        path = mate / rel
        if text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            run(["git", "-C", str(mate), "add", "-f", "--", rel], env=env)
        else:
            run(["git", "-C", str(mate), "rm", "-q", "--", rel], env=env)
    ident = ["-c", "user.name=mate", "-c", "user.email=mate@example.invalid"]
    run(["git", "-C", str(mate), *ident, "commit", "-q", "-m", "teammate"], env=env)
    run(["git", "-C", str(mate), "push", "-q", "origin", "HEAD:main"], env=env)


@pytest.fixture
def lfs_url(tmp_path: Path) -> Iterator[str]:
    """A real LFS server (the finalize tests' one) on 127.0.0.1: its endpoint URL."""
    root = tmp_path / "lfs"
    root.mkdir()
    port = root / "port"
    proc = subprocess.Popen(
        [sys.executable, str(LFS_SERVER), str(root / "objects"), str(port)],
        start_new_session=True,
    )
    try:
        wait_until("the LFS server", lambda: port.exists() and port.read_text().strip() != "")
        yield f"http://127.0.0.1:{int(port.read_text())}/ledger.git/info/lfs"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def team(tmp_path: Path, files: dict[str, str] | None = None) -> tuple[Member, Path]:
    """Ann's clone of a team's remote (which holds `files` a teammate committed), with one
    finished session in its cache; the daemon not started yet."""
    remote = bare_remote(tmp_path / "team.git")
    if files:
        teammate_commits(remote, tmp_path, files)
    ann = member(tmp_path, remote, "ann", interval=1)
    finished_session(records.ledger_cache_sessions(ann.ledger), NAME)
    return ann, remote


def start(ann: Member) -> None:
    ann.serve()
    wait_until("the daemon", lambda: bool((s := ann.status()) and s["daemon"]["ready"]))


def cli(ann: Member, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ox_core.cli", *args],
        env={**ann.env, "COLUMNS": WIDE},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def text_of(path: Path) -> str:
    """The file's text, "" while it is missing: git replaces a file it updates (unlink,
    then write), so a reader polling during a sync can find it absent for a moment."""
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def strings(data: Any) -> Iterator[str]:
    """Every string in a JSON value."""
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from strings(value)


def naming(status: Any, cause: str) -> str:
    """The message of a `status` answer naming `cause` ("" while none does)."""
    return next((s for s in strings(status) if re.search(cause, s)), "")


def operator_sees(ann: Member, cause: str, fix: str) -> str:
    """Wait until the daemon reports `cause` (a regex); then check status (text and JSON) and
    doctor name it with `fix` (a regex), readably. Returns the JSON message."""
    wait_until(f"status to name {cause!r}", lambda: naming(ann.status(), cause))
    answer = cli(ann, "status", "--json")
    assert answer.returncode == 0, answer.stderr
    message = naming(json.loads(answer.stdout), cause)
    assert re.search(fix, message), message
    screen = cli(ann, "status")
    assert screen.returncode == 0, screen.stderr
    assert "Traceback" not in screen.stdout + screen.stderr
    assert "\x1b" not in screen.stdout
    lines = [line for line in screen.stdout.splitlines() if re.search(cause, line)]
    assert lines, screen.stdout
    assert re.search(fix, lines[0]), screen.stdout
    doctor = cli(ann, "doctor")
    assert doctor.returncode != 0, doctor.stdout
    assert "Traceback" not in doctor.stdout + doctor.stderr
    assert "\x1b" not in doctor.stdout
    flat = " ".join(doctor.stdout.split())
    assert re.search(cause, flat), doctor.stdout
    assert re.search(fix, flat), doctor.stdout
    return message


def not_lost(ann: Member) -> None:
    """The session is in the cache, or committed in the clone."""
    cached = (records.ledger_cache_sessions(ann.ledger) / NAME / records.RAW).is_file()
    committed = NAME in ann.git("ls-tree", "-r", "--name-only", "HEAD", "sessions/")
    assert cached or committed


def on_remote(remote: Path) -> bool:
    listed = run(["git", "-C", str(remote), "ls-tree", "-r", "--name-only", "main", "sessions/"])
    return f"sessions/{NAME}/{records.RAW}" in listed


def resumes(ann: Member, remote: Path) -> None:
    """Publishing goes on: the session reaches the remote, the daemon still the same one.
    A paused work type resumes by itself at the time `status` shows (5 min); `ox-core detect`
    lifts the pause at once, which a test cannot wait for."""
    pid = ann.status()["daemon"]["pid"]  # type: ignore[index]
    detect = cli(ann, "detect")
    assert detect.returncode == 0, detect.stderr
    wait_until("the session on the remote", lambda: on_remote(remote))
    assert ann.status()["daemon"]["pid"] == pid  # type: ignore[index]
    assert ann.stop() == 0


# ------------------------------------------------------------------ the states


def test_an_endpoint_only_the_lfsconfig_names(tmp_path: Path, lfs_url: str) -> None:
    lfs = "sessions/**/raw.jsonl filter=lfs diff=lfs merge=lfs -text\n"
    ann, remote = team(
        tmp_path, {".gitattributes": lfs, ".lfsconfig": f"[lfs]\n\turl = {lfs_url}\n"}
    )
    ann.git("config", "lfs.locksverify", "false")
    try:
        start(ann)
        message = operator_sees(ann, r"committed \.lfsconfig sends LFS uploads", r"config lfs\.url")
        not_lost(ann)
        assert not on_remote(remote)
        # The command as given, run by the person: the team's server is the one named.
        command = re.search(r"git -C \S+ config lfs\.url \S+$", message)
        assert command, message
        run(shlex.split(command.group(0)), env=ann.env)
        resumes(ann, remote)
    finally:
        ann.stop()


def test_a_git_info_attributes_link(tmp_path: Path) -> None:
    ann, remote = team(tmp_path)
    attributes = ann.ledger / ".git" / "info" / "attributes"
    outside = tmp_path / "attributes"
    outside.write_text("")
    attributes.parent.mkdir(exist_ok=True)
    attributes.unlink(missing_ok=True)
    attributes.symlink_to(outside)
    teammate_commits(remote, tmp_path, {"README.md": "the team's ledger\n"})  # to integrate
    try:
        start(ann)
        operator_sees(ann, r"info/attributes", r"make it a regular file")
        not_lost(ann)
        assert not on_remote(remote)
        assert outside.read_text() == ""  # never written through
        attributes.unlink()
        resumes(ann, remote)
    finally:
        ann.stop()


def test_a_teammates_redaction_pattern_that_backtracks(tmp_path: Path) -> None:
    ann, remote = team(tmp_path, {".ox/redact.toml": 'patterns = ["(a+)+$"]\n'})
    try:
        start(ann)
        operator_sees(
            ann, r"redact\.toml: pattern .\(a\+\)\+\$. refused", r"write it with .* instead"
        )
        not_lost(ann)
        assert not on_remote(remote)
        teammate_commits(remote, tmp_path, {".ox/redact.toml": 'patterns = ["a+$"]\n'})
        rules = ann.ledger / ".ox" / "redact.toml"
        # Not empty: the fixed file itself, not a moment of git's replacing it.
        wait_until("the sync to bring the fix", lambda: "a+$" in text_of(rules))
        assert "(a+)+" not in rules.read_text()
        resumes(ann, remote)
    finally:
        ann.stop()
