"""A hostile agent's session file and hook input against capture, beyond
`test_redteam_local_sources`: the source swapped between steps for a directory, a link, a
socket or a device; a folder on its way swapped for a link to the terminals (a daemon that
leads its session, as a systemd service does, must not take one as its controlling
terminal); a sparse file with a byte of data every MiB and no newline (scanned by its data,
not its holes, so it never holds the capture thread); a hard link to a private file of the
user named by a real hook; hook stdin that never ends or is closed. Real files,
real processes. And a file of junk lines, a byte each, which no parser takes.

What is right: a special file or a link is refused before anything of it is read, and the
genuine lines are all captured once the file is back; hostile bytes cost what they cost on
disk, not what they claim to be; a hook exits 0 at once with one line in its log.
"""

from __future__ import annotations

import json
import os
import select
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ox_core.testing import make_ledger
from ox_session_capture.adapters import load_adapter
from ox_session_capture.confined import UnsafePathError
from ox_session_capture.recording import create_recording, stop_recording
from ox_session_capture.records import RAW, ledger_cache_sessions, read_marker
from ox_session_capture.tail import SourceTail
from ox_session_capture.testing import CLAUDE_DIR, append, followed, numbered_user
from ox_session_capture.transcript import read_raw

SECRET = "hunter2-private-of-this-user"


def folder(home: Path) -> Path:
    path = home / CLAUDE_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def contents(session_dir: Path) -> list[str]:
    return [e.content for e in read_raw(session_dir / RAW).entries]


def private_file(home: Path) -> Path:
    """A private file of the user's, partly in the agent's format: it must never be copied."""
    path = home / "private.jsonl"
    line = {"type": "user", "uuid": "p1", "message": {"role": "user", "content": SECRET}}
    path.write_bytes(numbered_user(1) + json.dumps(line).encode() + b"\n")
    return path


# ------------------------------------------------------------------ swapped between steps


def _directory(src: Path, home: Path) -> None:
    src.mkdir()
    (src / "x.jsonl").write_bytes(numbered_user(1))


def _link_to_private(src: Path, home: Path) -> None:
    src.symlink_to(private_file(home))


def _link_to_zero(src: Path, home: Path) -> None:
    src.symlink_to("/dev/zero")


def _socket(src: Path, home: Path) -> None:
    sock = socket.socket(socket.AF_UNIX)
    here = os.getcwd()
    os.chdir(src.parent)  # a socket's path is limited to 108 bytes: bound by its name
    try:
        sock.bind(src.name)
    finally:
        os.chdir(here)
        sock.close()


def _device(src: Path, home: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to make a device node")
    os.mknod(src, stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero's: never ends


SWAPS: dict[str, Callable[[Path, Path], None]] = {
    "directory": _directory,
    "link to a private file": _link_to_private,
    "link to /dev/zero": _link_to_zero,
    "socket": _socket,
    "device": _device,
}


@pytest.mark.parametrize("swap", list(SWAPS))
def test_a_source_swapped_between_steps_is_refused_and_the_genuine_lines_all_kept(
    home: Path, ledger: Path, swap: str
) -> None:
    src, rec, tail = followed(home, ledger)
    append(src, numbered_user(2))
    kept = src.parent / "kept"
    os.rename(src, kept)
    SWAPS[swap](src, home)
    with pytest.raises(UnsafePathError, match="refused"):
        tail.step()  # never blocks, never reads what is there
    assert tail.offset == tail.persisted  # nothing consumed, nothing to re-read wrongly
    if src.is_dir() and not src.is_symlink():
        (src / "x.jsonl").unlink()
        src.rmdir()
    else:
        src.unlink()
    os.rename(kept, src)  # the agent's file is back, with a line written meanwhile
    append(src, numbered_user(3))
    stop_recording(rec.session_dir)
    assert contents(rec.session_dir) == ["message 1", "message 2", "message 3"]
    assert SECRET not in (rec.session_dir / RAW).read_text(errors="replace")


# ------------------------------------------------------------------ a terminal on the way


def _run_as_session_leader(action: Callable[[], int], timeout: float = 30.0) -> int:
    """`action()` in a forked child that leads a new session without a controlling
    terminal (as a systemd service does); its result (0-255)."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 99
        try:
            os.setsid()
            code = action()
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            raise AssertionError("the child did not end")
        select.select([], [], [], 0.01)  # a short poll of the child's exit, not a fixed wait


def _has_terminal() -> bool:
    try:
        os.close(os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY))
    except OSError:
        return False
    return True


def test_a_folder_swapped_for_a_link_to_the_terminals_never_gives_the_daemon_one(
    home: Path, ledger: Path
) -> None:
    """The tail opens its source with `O_NOFOLLOW`, which follows a link on the way; the
    open reaches the terminal before `fstat` refuses it. Without `O_NOCTTY`, a session
    leader with no terminal (the daemon as a systemd service) takes it as its controlling
    terminal: its hangup, or a ^C typed into it, then stops the daemon."""
    master, slave = os.openpty()
    number = os.path.basename(os.ttyname(slave))
    os.close(slave)
    try:
        src, _, tail = followed(home, ledger, number)
        where = src.parent
        os.rename(where, where.with_name("moved"))
        where.symlink_to("/dev/pts")

        def step_then_check() -> int:
            if _has_terminal():
                return 3  # the test cannot tell: it started with one
            try:
                tail.step()
            except UnsafePathError:
                pass
            else:
                return 4
            return 1 if _has_terminal() else 0

        assert _run_as_session_leader(step_then_check) == 0
    finally:
        os.close(master)


# ------------------------------------------------------------------ sparse files


MIB = 1024 * 1024
SPARSE_PAGES = 512
"""Data pages (one byte each), a MiB apart: 512 MiB that cost 2 MiB of disk."""


def sparse_dots(src: Path, pages: int = SPARSE_PAGES) -> None:
    """`src` goes on with `pages` single bytes of data, each a MiB and a page past the last,
    holes between them and no newline: a line of `pages` MiB, which costs its maker a page
    of disk per MiB."""
    with open(src, "r+b") as f:
        pos = f.seek(0, os.SEEK_END)
        for _ in range(pages):
            pos += MIB + 4096
            f.seek(pos)
            f.write(b"x")


def bytes_read() -> int:
    """Bytes this process has read so far (`rchar`: every read and pread, holes included)."""
    with open("/proc/self/io", "rb") as f:
        for line in f:
            if line.startswith(b"rchar:"):
                return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


def test_a_sparse_line_with_a_byte_every_mib_is_scanned_by_its_data_not_its_holes(
    home: Path, ledger: Path
) -> None:
    """The scan for the end of an over-long line skips holes (`SEEK_DATA`), but read a whole
    MiB from each data byte on: one byte per MiB made it read every hole anyway, in one step
    of the capture thread that every other session waits on."""
    src, rec, tail = followed(home, ledger)
    sparse_dots(src)
    assert os.stat(src).st_blocks * 512 < 8 * MIB  # what the attack costs on disk
    before = bytes_read()
    assert not tail.step().progressed  # no newline yet: nothing to consume
    append(src, b"\n" + numbered_user(2))
    while tail.step().progressed:
        pass
    read = bytes_read() - before
    assert contents(rec.session_dir) == ["message 1", "message 2"]
    # The line's last 10 MiB are read once to take what follows its last NUL; the rest is
    # a page per data byte, not the SPARSE_PAGES MiB of holes.
    assert read < 32 * MIB, f"read {read // MIB} MiB of a file that holds {SPARSE_PAGES} MiB"


def test_a_sparse_line_at_a_stops_catch_up_reads_its_data_not_its_holes(
    home: Path, ledger: Path
) -> None:
    src = folder(home) / "a.jsonl"
    src.write_bytes(b"")
    rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home)
    append(src, numbered_user(1))
    sparse_dots(src)
    append(src, b"\n" + numbered_user(2))
    before = bytes_read()
    stop_recording(rec.session_dir, redact=lambda text: text)
    read = bytes_read() - before
    assert contents(rec.session_dir) == ["message 1", "message 2"]
    assert read < 48 * MIB, f"read {read // MIB} MiB of a file that holds {SPARSE_PAGES} MiB"


# ------------------------------------------------------------------ cheap junk lines


def _drain_cpu(home: Path, ledger: Path, name: str, data: bytes) -> tuple[float, Path]:
    """CPU seconds a live tail takes to capture `data` (no redaction: only the reading and
    parsing are measured), and the recording's folder."""
    src = folder(home) / name
    src.write_bytes(b"")
    rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home)
    tail = SourceTail(rec.session_dir, load_adapter("claude-code"), src, redact=lambda t: t)
    tail.resume()
    append(src, data)
    started = time.process_time()
    while tail.step().progressed:
        pass
    return time.process_time() - started, rec.session_dir


def test_junk_lines_cost_what_any_useless_line_costs_not_two_parsers_errors(
    home: Path, ledger: Path
) -> None:
    """A line no parser takes (`x`, a byte each) was tried by pydantic-core, then by `json`,
    each raising: 5 µs a line, a 1 MiB batch of them held the capture thread for 5 s. It
    now costs about what a line both parse costs (`{}`), measured side by side (so on any
    machine), and is still counted as unreadable."""
    lines = 200_000
    parsed, _ = _drain_cpu(home, ledger, "parsed.jsonl", b"{}\n" * lines)
    junk, session_dir = _drain_cpu(home, ledger, "junk.jsonl", b"x\n" * lines)
    parsed = min(parsed, _drain_cpu(home, ledger, "again.jsonl", b"{}\n" * lines)[0])
    unknown = (read_marker(session_dir).model_extra or {})["unknown_lines"]
    assert unknown == {"(unreadable line)": lines}
    assert junk < 3.5 * parsed, f"{junk:.2f} s of CPU for junk lines, {parsed:.2f} s for `{{}}`"


# ------------------------------------------------------------------ the hook, for real


SID = "f04c7045-b614-40b5-816d-7256c84b37f6"


def hook(
    home: Path, ledger: Path, event: str, stdin: int | bytes | None
) -> subprocess.CompletedProcess[bytes]:
    """`ox-core hook claude-code <event>` in a real process; `stdin` bytes to write, an fd to
    give it, or None for none at all (fd 0 closed)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
    environ.update(HOME=str(home), OX_LEDGER=str(ledger), XDG_RUNTIME_DIR=str(home / "run"))
    (home / "run").mkdir(mode=0o700, exist_ok=True)
    argv = [sys.executable, "-m", "ox_core.cli", "hook", "claude-code", event]
    if isinstance(stdin, bytes):
        return subprocess.run(argv, input=stdin, env=environ, capture_output=True, timeout=60)
    if stdin is None:
        # fd 0 closed in the child: a shell's `<&-`.
        argv = ["/bin/sh", "-c", 'exec "$@" <&-', "sh", *argv]
        return subprocess.run(argv, env=environ, capture_output=True, timeout=60)
    return subprocess.run(argv, stdin=stdin, env=environ, capture_output=True, timeout=60)


def git_ledger(tmp_path: Path) -> Path:
    """A ledger the hook can record into (a git repository, as `ox-core` makes it)."""
    return make_ledger(tmp_path / "git-ledger").path


def hooks_log(home: Path) -> list[str]:
    log = home / ".local" / "state" / "ox" / "hooks.log"
    return log.read_text().splitlines() if log.exists() else []


def payload(path: Path | str) -> bytes:
    fields = {"session_id": SID, "transcript_path": str(path), "source": "startup"}
    return json.dumps(fields).encode()


def test_a_hook_naming_a_hard_link_to_a_private_file_copies_nothing_of_it(
    home: Path, tmp_path: Path
) -> None:
    """A hard link of the user's own file in the agent's folder is allowed (`confined`): it
    holds nothing the agent could not have written. Only lines in the agent's format are
    kept, so credentials, keys and other JSON of the user's never reach the recording, which
    reports them as lines it could not read."""
    private = home / ".credentials.json"
    private.write_text(
        json.dumps({"claudeAiOauth": {"accessToken": SECRET, "refreshToken": SECRET}}) + "\n"
        f"-----BEGIN OPENSSH PRIVATE KEY-----\n{SECRET}\n-----END OPENSSH PRIVATE KEY-----\n"
        + json.dumps({"type": "history", "display": SECRET})
        + "\n"
    )
    private.chmod(0o600)
    linked = folder(home) / f"{SID}.jsonl"
    os.link(private, linked)
    ledger = git_ledger(tmp_path)
    started = hook(home, ledger, "SessionStart", payload(linked))
    assert (started.returncode, started.stderr) == (0, b"")
    (session_dir,) = ledger_cache_sessions(ledger).iterdir()
    assert read_marker(session_dir).start_offset == 0  # a new session: from its first byte
    ended = hook(home, ledger, "SessionEnd", payload(linked))
    assert (ended.returncode, ended.stderr) == (0, b"")
    assert SECRET not in (session_dir / RAW).read_text(errors="replace")
    raw = read_raw(session_dir / RAW)
    assert raw.entries == []
    assert raw.footer is not None
    unknown = (raw.footer.model_extra or {})["unknown_lines"]
    assert unknown == {"(unreadable line)": 3, "?": 1, "history": 1}
    assert hooks_log(home) == []


def test_hook_stdin_that_never_ends_is_cut_at_its_limit_at_once(home: Path, tmp_path: Path) -> None:
    ledger = git_ledger(tmp_path)
    with open("/dev/zero", "rb") as zeros:
        started = time.monotonic()
        result = hook(home, ledger, "SessionStart", zeros.fileno())
    assert (result.returncode, result.stderr) == (0, b"")
    assert time.monotonic() - started < 30  # read up to its limit, not forever
    (line,) = hooks_log(home)
    assert "over 1048576 bytes" in line
    assert not ledger_cache_sessions(ledger).exists()


def test_hook_stdin_closed_is_one_line_in_the_log(home: Path, tmp_path: Path) -> None:
    ledger = git_ledger(tmp_path)
    result = hook(home, ledger, "SessionStart", None)
    assert (result.returncode, result.stderr) == (0, b"")
    (line,) = hooks_log(home)
    assert "hook claude-code SessionStart: the agent's input is not JSON" in line
    assert not ledger_cache_sessions(ledger).exists()


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("{folder}/" + "a" * 300 + ".jsonl", "File name too long"),
        ("{folder}/x.jsonl/../../../../../.ssh/id_rsa", "not under the claude-code"),
        ("/etc/pass\nwd\x1b]0;x\x07", "not under the claude-code"),
        ("{folder}/{sid}.jsonl/inside", "Not a directory"),
    ],
    ids=["long name", "dotdot out", "newline and escape", "under a file"],
)
def test_a_hook_path_that_cannot_be_a_session_file_is_one_clean_line(
    home: Path, tmp_path: Path, path: str, why: str
) -> None:
    ledger = git_ledger(tmp_path)
    (folder(home) / f"{SID}.jsonl").write_bytes(b"")
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_rsa").write_text(SECRET)
    named = path.format(folder=folder(home), sid=SID)
    result = hook(home, ledger, "SessionStart", payload(named))
    assert (result.returncode, result.stderr) == (0, b"")
    (line,) = hooks_log(home)  # one line, whatever the path holds
    assert why in line
    assert "\x1b" not in line
    assert not ledger_cache_sessions(ledger).exists() or not any(
        ledger_cache_sessions(ledger).iterdir()
    )
