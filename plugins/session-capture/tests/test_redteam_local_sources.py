"""A hostile local process or an odd agent against the session files ox reads: paths through
`/proc`, `..` that lands inside or outside the agent's folders, special files, a file of
another user put in (or swapped into) the agent's folder, hostile names (a `$USER` or a
file name with control characters, or far too long), and hostile lines. Real files, real
subprocesses for the hook.

What is right: ox reads a session file only when it is a regular file of this user under
the agent's folders, as the real path it resolves to; anything else is refused with one
line and nothing of it is copied. A name from outside never makes a recording that cannot
be stopped or finalized.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import trio

from ox_core.testing import make_ledger
from ox_session_capture.adapters import load_adapter
from ox_session_capture.confined import UnsafePathError, check_session_name
from ox_session_capture.recording import (
    Recording,
    RecordingRejected,
    check_source,
    create_recording,
    stop_recording,
)
from ox_session_capture.records import RAW, ledger_cache_sessions, read_marker
from ox_session_capture.service import SessionWatchService
from ox_session_capture.tail import SourceTail
from ox_session_capture.testing import CLAUDE_DIR, append, claude_text, followed, numbered_user
from ox_session_capture.transcript import read_raw

SECRET = "hunter2-private-of-another-user"
other_user = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to own a file as another")
OTHER_UID = 4242


def folder(home: Path) -> Path:
    path = home / CLAUDE_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def private_line() -> bytes:
    return (
        json.dumps(
            {"type": "user", "uuid": "p1", "message": {"role": "user", "content": SECRET}}
        ).encode()
        + b"\n"
    )


def raw_text(session_dir: Path) -> str:
    return (session_dir / RAW).read_text(errors="replace")


def contents(session_dir: Path) -> list[str]:
    return [e.content for e in read_raw(session_dir / RAW).entries]


# ------------------------------------------------------------------ paths


def test_paths_through_proc_and_dotdot_resolve_to_the_real_file_or_are_refused(
    home: Path,
) -> None:
    adapter = load_adapter("claude-code")
    src = folder(home) / "a.jsonl"
    src.write_bytes(b"")
    private = home / "private.jsonl"
    private.write_bytes(private_line())
    inside = os.open(src, os.O_RDONLY)
    outside = os.open(private, os.O_RDONLY)
    read_end, write_end = os.pipe()
    try:
        for path in (
            f"/proc/self/root{src}",
            f"/proc/{os.getpid()}/fd/{inside}",
            f"{src.parent}/../{src.parent.name}/./a.jsonl",
            f"{src.parent}//a.jsonl",
        ):
            assert check_source(adapter, path, home) == src, path
        for path in (
            f"/proc/self/fd/{outside}",
            f"/proc/self/fd/{read_end}",
            f"{src.parent}/../../../private.jsonl",
            f"/proc/self/root{private}",
            "/proc/self/environ",
            "/proc/self/cwd/private.jsonl",
        ):
            with pytest.raises(RecordingRejected, match="not under the claude-code"):
                check_source(adapter, path, home)
    finally:
        for fd in (inside, outside, read_end, write_end):
            os.close(fd)


def test_a_path_that_is_not_utf8_text_is_refused_with_one_line(home: Path, ledger: Path) -> None:
    """A lone surrogate (from a JSON escape), a name of bytes that are not UTF-8, and a link
    to one: no record can name them, so they are refused before anything is made."""
    where = os.fsencode(folder(home))
    not_utf8 = os.fsdecode(where + b"/\xff.jsonl")
    Path(not_utf8).write_bytes(numbered_user(1))
    link = folder(home) / "link.jsonl"
    link.symlink_to(os.fsdecode(b"\xff.jsonl"))
    for path in (f"{folder(home)}/\ud800.jsonl", not_utf8, link):
        with pytest.raises(RecordingRejected, match="not valid UTF-8 text"):
            create_recording(ledger, "claude-code", path, pid=os.getpid(), home=home)
    assert not ledger_cache_sessions(ledger).exists() or not any(
        ledger_cache_sessions(ledger).iterdir()
    )


def special_files(where: Path) -> list[Path]:
    fifo = where / "fifo.jsonl"
    os.mkfifo(fifo)
    sock_path = where / "sock.jsonl"
    sock = socket.socket(socket.AF_UNIX)
    here = os.getcwd()
    os.chdir(where)  # a socket's path is limited to 108 bytes: bound by its name
    try:
        sock.bind(sock_path.name)
    finally:
        os.chdir(here)
        sock.close()
    made = [fifo, sock_path]
    if os.geteuid() == 0:
        device = where / "null.jsonl"
        os.mknod(device, stat.S_IFCHR | 0o600, os.makedev(1, 3))
        made.append(device)
    link = where / "zero.jsonl"
    link.symlink_to("/dev/zero")
    return [*made, link, where]


def test_special_files_in_the_agents_folder_are_refused(home: Path) -> None:
    adapter = load_adapter("claude-code")
    for path in special_files(folder(home)):
        with pytest.raises(RecordingRejected, match=r"not a regular file|FIFO|not under"):
            check_source(adapter, path, home)


@other_user
def test_a_file_of_another_user_in_the_agents_folder_is_refused(home: Path, ledger: Path) -> None:
    """Hard-linked or made there by another user: its owner is not this user, so it is no
    session of this user's agent (a hard link of this user's own file is its content, which
    the agent could as well have written)."""
    theirs = home / "theirs.jsonl"
    theirs.write_bytes(private_line())
    os.chown(theirs, OTHER_UID, OTHER_UID)
    linked = folder(home) / "linked.jsonl"
    os.link(theirs, linked)
    with pytest.raises(RecordingRejected, match="belongs to another user"):
        create_recording(ledger, "claude-code", linked, pid=os.getpid(), home=home)
    assert not ledger_cache_sessions(ledger).exists() or not any(
        ledger_cache_sessions(ledger).iterdir()
    )


@other_user
def test_another_users_file_swapped_in_mid_tail_is_not_read(home: Path, ledger: Path) -> None:
    src, rec, tail = followed(home, ledger)
    theirs = home / "theirs.jsonl"
    theirs.write_bytes(numbered_user(1) + private_line())
    os.chown(theirs, OTHER_UID, OTHER_UID)
    swap = src.parent / "swap.jsonl"
    os.link(theirs, swap)
    os.replace(swap, src)
    with pytest.raises(UnsafePathError, match="belongs to another user"):
        tail.step()
    stop_recording(rec.session_dir)  # its drain meets the same file: nothing of it copied
    assert SECRET not in raw_text(rec.session_dir)
    assert contents(rec.session_dir) == ["message 1"]


def test_a_source_swapped_for_a_fifo_mid_tail_never_blocks_and_copies_nothing(
    home: Path, ledger: Path
) -> None:
    src, rec, tail = followed(home, ledger)
    src.unlink()
    os.mkfifo(src)
    with pytest.raises(UnsafePathError, match="FIFO"):
        tail.step()  # a FIFO with no writer: a blocking open would hang here
    stop_recording(rec.session_dir)
    assert contents(rec.session_dir) == ["message 1"]


# ------------------------------------------------------------------ the hook, for real


def hook(home: Path, ledger: Path, event: str, stdin: bytes, **env: str) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
    environ.update(HOME=str(home), OX_LEDGER=str(ledger), XDG_RUNTIME_DIR=str(home / "run"), **env)
    (home / "run").mkdir(mode=0o700, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "ox_core.cli", "hook", "claude-code", event],
        input=stdin, env=environ, capture_output=True, timeout=60,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, b"")


def empty_session(home: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A new ledger, and an empty claude session file in the agent's folder."""
    src = folder(home) / "f04c7045-b614-40b5-816d-7256c84b37f6.jsonl"
    src.write_bytes(b"")
    return make_ledger(tmp_path / "ledger").path, src


def hook_payload(path: str, sid: str = "f04c7045-b614-40b5-816d-7256c84b37f6") -> bytes:
    return json.dumps({"session_id": sid, "transcript_path": path, "source": "startup"}).encode()


def test_a_hook_path_through_proc_self_root_records_the_real_file(
    home: Path, tmp_path: Path
) -> None:
    ledger, src = empty_session(home, tmp_path)
    hook(home, ledger, "SessionStart", hook_payload(f"/proc/self/root{src}"))
    (session_dir,) = ledger_cache_sessions(ledger).iterdir()
    assert read_marker(session_dir).session_file == str(src)
    append(src, numbered_user(1))
    hook(home, ledger, "SessionEnd", hook_payload(f"/proc/self/root{src}"))
    assert contents(session_dir) == ["message 1"]


def record_one_line(
    home: Path, ledger: Path, src: Path, **kwargs: str
) -> tuple[Recording, dict[str, object]]:
    """A recording of `src` (made with `kwargs`) whose name any command accepts, one line
    captured, stopped through the service: the recording and the stop's answer."""
    src.write_bytes(b"")
    rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home, **kwargs)
    assert check_session_name(rec.name) == rec.name
    append(src, numbered_user(1))
    stopped = trio.run(
        SessionWatchService(ledger, home=home).session_watch_stop, {"name": rec.name}
    )
    return rec, stopped


HOSTILE_USERS = ["a\nb", "\x1b]0;pwned\x07", "x" * 300, "é" * 200, "\u202euser", "\udcff"]


@pytest.mark.parametrize("user", HOSTILE_USERS, ids=range(len(HOSTILE_USERS)))
def test_a_hostile_user_name_still_makes_a_recording_that_can_be_stopped(
    home: Path, ledger: Path, user: str
) -> None:
    rec, stopped = record_one_line(home, ledger, folder(home) / "a.jsonl", username=user)
    assert stopped == {"name": rec.name, "entry_count": 1}


@pytest.mark.parametrize("stem", ["\t", "\n\n", "\x1b[31m", "\u200b\u200b", "-" * 240])
def test_a_hostile_file_name_still_makes_a_recording_that_can_be_stopped(
    home: Path, ledger: Path, stem: str
) -> None:
    _, stopped = record_one_line(home, ledger, folder(home) / f"{stem}.jsonl")
    assert stopped["entry_count"] == 1


def test_a_hook_run_with_a_hostile_user_env_is_recorded_and_finished(
    home: Path, tmp_path: Path
) -> None:
    ledger, src = empty_session(home, tmp_path)
    bad = {"LOGNAME": "a\x1b[2Jb\n", "USER": "a\x1b[2Jb\n"}
    hook(home, ledger, "SessionStart", hook_payload(str(src)), **bad)
    (session_dir,) = ledger_cache_sessions(ledger).iterdir()
    assert check_session_name(session_dir.name) == session_dir.name
    append(src, numbered_user(1))
    hook(home, ledger, "SessionEnd", hook_payload(str(src)), **bad)
    assert not (session_dir / ".recording.json").exists()
    assert contents(session_dir) == ["message 1"]


# ------------------------------------------------------------------ lines


def test_hostile_lines_between_genuine_ones_lose_no_genuine_line(home: Path, ledger: Path) -> None:
    src = folder(home) / "a.jsonl"
    src.write_bytes(b"")
    rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home)
    tail = SourceTail(rec.session_dir, load_adapter("claude-code"), src)
    tail.resume()
    hostile = [
        b"\x00" * 3_000_000,
        b"\xff\xfe\xc0\x80" * 1000,
        b"[" * 2_000_000 + b"]" * 2_000_000,
        b'{"type":"user","message":' * 200_000 + b"1" + b"}" * 200_000,
        b'{"type":"user","uuid":"u","message":{"content":"' + b"\x00" * 1000 + b'"}}',
        b'{"type":"user","uuid":"\\ud800","message":{"content":"\\udfff lone"}}',
        b"x" * (11 * 1024 * 1024),  # over the line limit: skipped whole
    ]
    expected = []
    with open(src, "ab") as f:
        for n, line in enumerate(hostile):
            f.write(numbered_user(n) + line + b"\n")
            expected.append(f"message {n}")
        f.write(claude_text("last", "the end"))
    while tail.step().progressed:
        pass
    got = [c for c in contents(rec.session_dir) if c.startswith("message ") or c == "the end"]
    assert got == [*expected, "the end"]


def test_a_source_truncated_and_regrown_between_steps_loses_nothing(
    home: Path, ledger: Path
) -> None:
    src = folder(home) / "a.jsonl"
    src.write_bytes(b"")
    rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home)
    tail = SourceTail(rec.session_dir, load_adapter("claude-code"), src)
    tail.resume()
    append(src, numbered_user(1) + numbered_user(2))
    tail.step()
    # Cut and regrown past the old size with other lines before the next step sees it.
    src.write_bytes(numbered_user(1) + numbered_user(3) + numbered_user(4) + numbered_user(5))
    while tail.step().progressed:
        pass
    assert contents(rec.session_dir) == ["message 1", "message 2", "message 3", "message 4",
                                         "message 5"]  # fmt: skip


# ------------------------------------------------------------------ a sparse giant


SPARSE_GIANT = 16 * 2**30
"""A hole this large costs its maker no disk, and reads as zeros: one line without a newline."""


def sparse_giant(src: Path) -> None:
    """`src` gets a line, a hole of `SPARSE_GIANT` zero bytes (no newline in it), then a
    newline and a genuine line."""
    with open(src, "ab") as f:
        f.write(numbered_user(1))
        f.truncate(f.tell() + SPARSE_GIANT)
    with open(src, "ab") as f:
        f.write(b"\n" + numbered_user(2))


async def test_a_sparse_giant_line_never_stalls_the_capture_of_other_sessions(
    home: Path, ledger: Path, nursery: trio.Nursery
) -> None:
    from ox_session_capture.watcher import SessionWatcherManager

    hostile = folder(home) / "hostile.jsonl"
    genuine = folder(home) / "genuine.jsonl"
    hostile.write_bytes(b"")
    genuine.write_bytes(b"")
    bad = create_recording(ledger, "claude-code", hostile, pid=os.getpid(), home=home)
    good = create_recording(ledger, "claude-code", genuine, pid=os.getpid(), home=home)
    manager = SessionWatcherManager(ledger, poll_interval=0.02, home=home)
    await nursery.start(manager.run)
    try:
        await manager.start_watch(bad.name, str(hostile), "claude-code")
        await manager.start_watch(good.name, str(genuine), "claude-code")
        sparse_giant(hostile)
        append(genuine, numbered_user(7))
        with trio.fail_after(10):  # reading the hole whole took minutes on the shared thread
            await manager.wait_synced(good.name)
            await manager.wait_synced(bad.name)
        assert contents(good.session_dir) == ["message 7"]
        assert contents(bad.session_dir) == ["message 1", "message 2"]
    finally:
        await manager.stop_all()


# ------------------------------------------------------------------ odd ids and loops


@pytest.mark.parametrize("sid", ["../../../etc/passwd", "..", "a/b\\c", "%2e%2e%2f", "-" * 200])
def test_a_session_id_with_path_separators_stays_a_plain_name(
    home: Path, tmp_path: Path, sid: str
) -> None:
    ledger, src = empty_session(home, tmp_path)
    hook(home, ledger, "SessionStart", hook_payload(str(src), sid))
    (session_dir,) = ledger_cache_sessions(ledger).iterdir()
    assert check_session_name(session_dir.name) == session_dir.name
    assert read_marker(session_dir).agent_session_id == sid
    append(src, numbered_user(1))
    hook(home, ledger, "SessionEnd", hook_payload(str(src), sid))
    assert contents(session_dir) == ["message 1"]
    # Nothing was written outside the ledger's cache and the user's state folder.
    made = {p.relative_to(tmp_path) for p in tmp_path.rglob("*")}
    assert all(p.parts[0] in ("ledger", "home") for p in made)
    assert not (tmp_path / "etc").exists()


def test_a_recording_that_tails_its_own_raw_file_does_not_feed_itself(
    home: Path, ledger: Path
) -> None:
    """The agent's (missing) session file becomes a hard link of the recording's own
    `raw.jsonl` (this user's file, so allowed), another one of a second recording's: ox's
    lines are no agent's lines, so nothing loops back or grows."""
    src = folder(home) / "a.jsonl"
    src.write_bytes(b"")
    rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home)
    loop = folder(home) / "loop.jsonl"
    own = create_recording(ledger, "claude-code", loop, pid=os.getpid(), home=home, username="u")
    os.link(own.session_dir / RAW, loop)
    cross = folder(home) / "cross.jsonl"
    other = create_recording(ledger, "claude-code", cross, pid=os.getpid(), home=home,
                             username="v")  # fmt: skip
    os.link(rec.session_dir / RAW, cross)
    pairs = ((rec, src), (own, loop), (other, cross))
    tails = [SourceTail(r.session_dir, load_adapter("claude-code"), s) for r, s in pairs]
    for t in tails:
        t.resume()
    append(src, numbered_user(1))
    for _ in range(5):
        for t in tails:
            t.step()
    sizes = [(r.session_dir / RAW).stat().st_size for r, _ in pairs]
    for t in tails:
        t.step()
    assert [(r.session_dir / RAW).stat().st_size for r, _ in pairs] == sizes
    assert contents(rec.session_dir) == ["message 1"]
    assert contents(own.session_dir) == []
    assert contents(other.session_dir) == []


def test_a_folder_on_the_way_swapped_for_a_link_mid_tail_is_not_followed(
    home: Path, ledger: Path
) -> None:
    src, rec, tail = followed(home, ledger)
    elsewhere = home / "private"
    elsewhere.mkdir()
    (elsewhere / src.name).write_bytes(numbered_user(1) + private_line())
    src.parent.rename(home / "moved")
    src.parent.symlink_to(elsewhere)
    with pytest.raises(UnsafePathError, match="now leads to"):
        tail.step()
    stop_recording(rec.session_dir)
    assert SECRET not in raw_text(rec.session_dir)
    assert contents(rec.session_dir) == ["message 1"]


# ------------------------------------------------------------------ the file a hook names


async def test_a_hook_naming_another_file_never_makes_the_daemon_follow_it(
    home: Path, ledger: Path, nursery: trio.Nursery
) -> None:
    """A resumed session's next part follows the file the session was recorded from (see
    `identity.next_part`), whatever file the hook names (gemini names a fresh, abandoned one;
    a hostile hook any other file of the agent's folders). The daemon follows that same file:
    the named one's lines never enter the part, and the session's own lines come in live."""
    service = SessionWatchService(ledger, home=home, poll_interval=0.02)
    await nursery.start(service.manager.run)
    own = folder(home) / "own.jsonl"
    named = folder(home) / "named.jsonl"
    own.write_bytes(b"")
    named.write_bytes(b"")
    hook_params = {"adapter": "claude-code", "agent_session_id": "S1", "pid": 0}
    first = await service.session_hook({**hook_params, "event": "start", "file": str(own)})
    append(own, numbered_user(1))
    await service.session_hook({**hook_params, "event": "end", "file": str(own)})
    second = await service.session_hook(
        {**hook_params, "event": "start", "file": str(named), "resumed": True}
    )
    part = ledger_cache_sessions(ledger) / second["name"]
    assert read_marker(part).session_file == str(own)
    append(own, numbered_user(2))
    append(named, numbered_user(99))
    with trio.fail_after(10):
        await service.manager.wait_synced(second["name"])
    assert contents(part) == ["message 2"]
    await service.session_hook({**hook_params, "event": "end", "file": str(named)})
    assert contents(part) == ["message 2"]
    assert contents(ledger_cache_sessions(ledger) / first["name"]) == ["message 1"]
    await service.manager.stop_all()
