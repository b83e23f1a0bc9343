"""A catch-up with a helper process (`ox_session_capture.blocks`) writes the same `raw.jsonl`
and marker as one without, whatever the file holds; a helper that dies, hangs, or outlives
its tail's failure is killed and reaped, and its block converted by the tail; a tail killed
with -9 takes its helper with it. Real forks, real files, real signals."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ox_session_capture import blocks
from ox_session_capture import tail as tail_mod
from ox_session_capture.adapters import load_adapter
from ox_session_capture.recording import create_recording
from ox_session_capture.records import RAW, RecordingMarker, read_marker, update_marker
from ox_session_capture.recover import drain
from ox_session_capture.redact import LedgerRedactor
from ox_session_capture.tail import SourceTail
from ox_session_capture.testing import claude_assistant, claude_session_file, claude_user

pytestmark = pytest.mark.skipif(not blocks.helpers_possible(), reason="needs fork and 2 cores")

MAX_LINE = 600  # scaled down, so that over-long lines are cheap
REAL = {
    name: getattr(tail_mod, name) for name in ("HELPED_MIN_BYTES", "HELPED_BLOCK_MIN", "MAX_LINE")
}


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Helpers for files and blocks of any size, and a line limit a test can pass."""
    monkeypatch.setattr(tail_mod, "HELPED_MIN_BYTES", 1)
    monkeypatch.setattr(tail_mod, "HELPED_BLOCK_MIN", 64)
    monkeypatch.setattr(tail_mod, "MAX_LINE", MAX_LINE)


def _reset(marker: RecordingMarker) -> None:
    marker.source_offset = marker.start_offset = 0


def capture(root: Path, src: Path, home: Path, *, helped: bool, batch: int, commit: int) -> Any:
    """Catch a new recording of `src` up from its start: (entries of `raw.jsonl`, the marker
    fields a catch-up moves, helpers used)."""
    ledger = Path(tempfile.mkdtemp(prefix="ledger-", dir=root))
    rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home)
    update_marker(rec.session_dir, _reset)
    tail = SourceTail(
        rec.session_dir,
        load_adapter("claude-code"),
        src,
        redact=LedgerRedactor(),
        batch_bytes=batch,
        commit_bytes=commit,
    )
    tail._helped = helped
    tail.resume()
    result = drain(tail)
    raw = (rec.session_dir / RAW).read_bytes()
    marker = read_marker(rec.session_dir)
    extra = marker.model_extra or {}
    moved = (
        result.offset,
        marker.entry_count,
        {k: extra.get(k) for k in ("model", "agent_version", "unknown_lines")},
    )
    return raw.split(b"\n", 1)[1], moved  # the header names the recording: left out


# ---------------------------------------------------------------- lines of a hostile session

IDS = [f"u{n}" for n in range(6)]  # few: the same message id comes back (a resumed session)
CALLS = [f"toolu_{n}" for n in range(5)]  # calls answered in later blocks, or twice, or never


def _tool_use(uid: str, call: str, name: str) -> bytes:
    return claude_assistant(uid, [{"type": "tool_use", "id": call, "name": name, "input": {}}])


def _tool_result(uid: str, call: str, text: str) -> bytes:
    block = {"type": "tool_result", "tool_use_id": call, "content": text}
    return claude_user(uid, [block])


def _unknown(kind: str) -> bytes:
    return json.dumps({"type": kind, "uuid": "x"}).encode() + b"\n"


def _versioned(uid: str, version: str, model: str) -> bytes:
    line = {
        "type": "assistant",
        "uuid": uid,
        "version": version,
        "timestamp": "2026-11-24T00:38:27Z",
        "message": {"role": "assistant", "model": model, "content": "ok " + version},
    }
    return json.dumps(line).encode() + b"\n"


text = st.text(alphabet='ab \n"\\é🙂', max_size=40)
lines = st.one_of(
    st.builds(lambda u, t: claude_user(u, t or "x"), st.sampled_from(IDS), text),
    st.builds(lambda n, t: claude_user(f"fresh-{n}", t or "y"), st.integers(0, 10**6), text),
    st.builds(
        _tool_use,
        st.sampled_from([*IDS, "fresh"]),
        st.sampled_from(CALLS),
        st.sampled_from(["Bash", "Read", "Edit"]),
    ),
    st.builds(_tool_result, st.sampled_from([*IDS, "r1", "r2"]), st.sampled_from(CALLS), text),
    st.builds(_unknown, st.sampled_from([f"kind-{n}" for n in range(70)])),
    st.builds(
        _versioned,
        st.sampled_from(IDS),
        st.sampled_from(["1.0", "2.0"]),
        st.sampled_from(["m-a", "m-b"]),
    ),
    st.builds(
        lambda t: claude_user("sec", f"export AWS_SECRET_ACCESS_KEY={t}AKIAZ7XK3QWERTY12"), text
    ),
    st.just(b"not json at all\n"),
    st.just(b"\n"),
    st.builds(lambda n: claude_user(f"long-{n}", "L" * MAX_LINE), st.integers(0, 3)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.lists(lines, min_size=1, max_size=60),
    unterminated=st.booleans(),
    batch=st.integers(200, 3000),
    commit=st.sampled_from([0, 700, 5000, 1 << 20]),
)
def test_a_helper_changes_nothing_in_what_is_captured(
    body: list[bytes], unterminated: bool, batch: int, commit: int
) -> None:
    # Not `tmp_path`: hypothesis runs the body many times in one test.
    with tempfile.TemporaryDirectory(prefix="ox-blocks-") as where:
        root = Path(where)
        home = root / "home"
        src = claude_session_file(home)
        data = b"".join(body)
        if unterminated:
            data += b'{"type": "user", "uuid": "half'  # a line still being written: never read
        src.write_bytes(data)
        commit = commit or 1 << 30
        alone = capture(root, src, home, helped=False, batch=batch, commit=commit)
        helped = capture(root, src, home, helped=True, batch=batch, commit=commit)
    assert helped == alone


def two_blocks(src: Path, first: bytes, second: bytes) -> int:
    """Write `first` then `second` to `src` so that a catch-up's first helper converts
    `first` and its second helper `second` (then more, after them); the batch size that does
    it."""
    n = 0
    while len(first) < len(second) + 200:
        first += claude_user(f"pad-{n}", "padding " * 10)
        n += 1
    batch = len(first) + 1  # a block ends with `first`
    after = b"".join(claude_user(f"after-{n}", "after " * 10) for n in range(5 * batch // 60))
    src.write_bytes(first + second + after)  # blocks are batches while 4 are left
    return batch


def test_tool_names_cross_blocks_and_duplicates_drop_across_them(
    home: Path, src: Path, tmp_path: Path
) -> None:
    """The cases the fold exists for, written out: a call in one block answered in the next
    (the second helper cannot know its name), a message id in both blocks."""
    batch = two_blocks(
        src,
        _tool_use("a1", "toolu_x", "Bash") + claude_user("dup", "hello"),
        _tool_result("r1", "toolu_x", "done") + claude_user("dup", "hello"),
    )
    helped = capture(tmp_path, src, home, helped=True, batch=batch, commit=1 << 30)
    assert helped == capture(tmp_path, src, home, helped=False, batch=batch, commit=1 << 30)
    entries = [json.loads(line) for line in helped[0].splitlines()]
    results = [e for e in entries if "tool_output" in e]
    assert [(e["call_id"], e.get("tool_name")) for e in results] == [("toolu_x", "Bash")]
    assert [e["source_id"] for e in entries].count("dup") == 1


def test_unknown_line_types_count_as_they_would_without_a_helper(
    home: Path, src: Path, tmp_path: Path
) -> None:
    """An adapter counts 50 unknown line types; a helper's block of 50 new ones would not
    count a 51st that the blocks before it count: that block is converted by the tail."""
    many = b"".join(_unknown(f"new-{n}") for n in range(50))
    batch = two_blocks(src, _unknown("known"), many + _unknown("known"))
    helped = capture(tmp_path, src, home, helped=True, batch=batch, commit=1 << 30)
    assert helped == capture(tmp_path, src, home, helped=False, batch=batch, commit=1 << 30)
    assert helped[1][2]["unknown_lines"]["known"] == 2


# ---------------------------------------------------------------- helpers that go wrong


def _children() -> set[int]:
    """This process's child processes (of every thread)."""
    out: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        try:
            out.update(int(p) for p in (task / "children").read_text().split())
        except OSError:
            continue
    return out


def big_session(src: Path, rounds: int = 400, output: str = "ok " * 20) -> None:
    """`rounds` tool calls, each answered at once with `output`."""
    body = []
    for n in range(rounds):
        body.append(_tool_use(f"a{n}", f"toolu_{n}", "Bash"))
        body.append(_tool_result(f"r{n}", f"toolu_{n}", output))
    src.write_bytes(b"".join(body))


@pytest.fixture
def forked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pids of the catch-up helpers forked during the test."""
    pids: list[int] = []

    class Counted(blocks.Helper):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            assert self.pid is not None
            pids.append(self.pid)

    monkeypatch.setattr(tail_mod, "Helper", Counted)
    return pids


def _die(*args: object) -> blocks.Block:
    os._exit(3)


def _hang(*args: object) -> blocks.Block:
    time.sleep(3600)
    raise AssertionError("unreachable")


@pytest.mark.parametrize("failure", [_die, _hang])
def test_a_helper_that_dies_or_hangs_is_reaped_and_its_blocks_converted_here(
    home: Path,
    src: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    failure: Any,
) -> None:
    big_session(src)
    alone = capture(tmp_path, src, home, helped=False, batch=4000, commit=1 << 30)
    before = _children()
    monkeypatch.setattr(blocks, "convert_next", failure)  # what the forked helper runs
    monkeypatch.setattr(blocks, "HELPER_TIMEOUT", 1.0)
    helped = capture(tmp_path, src, home, helped=True, batch=4000, commit=1 << 30)
    assert helped == alone
    assert _children() <= before  # killed and reaped
    said = " ".join(r.getMessage() for r in caplog.records)
    assert ("was stuck" if failure is _hang else "ended") in said


def test_a_tail_that_fails_kills_its_helpers(
    home: Path, src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big_session(src)
    monkeypatch.setattr(blocks, "convert_next", _hang)
    before = _children()

    def failing(self: blocks.Helpers) -> Any:
        assert len(_children() - before) == tail_mod.HELPERS, "the helpers are not running"
        raise RuntimeError("the tail fails mid-catch-up")

    monkeypatch.setattr(blocks.Helpers, "next", failing)
    with pytest.raises(RuntimeError, match="mid-catch-up"):
        capture(tmp_path, src, home, helped=True, batch=4000, commit=1 << 30)
    assert _children() <= before


def test_a_helper_that_gave_its_block_back_gets_the_next_while_another_converts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A helper is never held by a slower one: while the first block is held up, the other
    helper converts the next blocks (up to `ahead` asked), and `next` still gives them in
    file order. Real forks: the gate is a file the first block's helper waits for."""
    src = tmp_path / "session.jsonl"
    body = [claude_user(f"u{n}", f"line {n}") for n in range(8)]
    src.write_bytes(b"".join(body))
    edges = [0]
    for line in body:
        edges.append(edges[-1] + len(line))
    gate, marks = tmp_path / "gate", tmp_path / "marks"
    marks.mkdir()
    convert = blocks.convert_next

    def gated(adapter_class: Any, fd: int, start: int, *rest: Any) -> blocks.Block:
        if start == 0:
            while not gate.exists():
                time.sleep(0.005)
        (marks / str(start)).touch()
        return convert(adapter_class, fd, start, *rest)

    monkeypatch.setattr(blocks, "convert_next", gated)  # what the forked helpers run
    planned = iter(itertools.pairwise(edges))
    fd = os.open(src, os.O_RDONLY)
    made = blocks.Helpers(
        2,
        lambda: blocks.Helper(type(load_adapter("claude-code")), fd, MAX_LINE, None),
        lambda: next(planned, None),
        ahead=4,
    )
    got: list[blocks.Block | None] = []
    try:
        made.fill()
        assert made.asked == 2
        first = threading.Thread(target=lambda: got.append(made.next()))
        first.start()
        deadline = time.monotonic() + 60
        while len(list(marks.iterdir())) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        # Block 0 is held: the other helper took blocks 1, 2 and 3 one after the other.
        assert sorted(int(m.name) for m in marks.iterdir()) == edges[1:4]
        assert first.is_alive()
        assert not got
        gate.touch()
        first.join(60)
        made.fill()
        while made.asked:  # as the tail takes them
            got.append(made.next())
            made.fill()
    finally:
        made.close()
        os.close(fd)
    starts = [b.start for b in got if b is not None]
    assert starts == edges[:-1]  # every block, in file order
    assert all(b is not None and b.data.count(b"\n") == 1 for b in got)


@pytest.mark.parametrize("failing", ["fork", "second pipe"])
def test_no_process_or_descriptor_to_spare_leaves_nothing_open(
    home: Path, src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """A fork refused (EAGAIN: the user's process limit) or a pipe refused (EMFILE: out of
    descriptors): the tail converts the file itself, tries no more helpers, leaks no fd."""
    big_session(src)
    alone = capture(tmp_path, src, home, helped=False, batch=4000, commit=1 << 30)
    tries = 0
    pipe, fork = os.pipe, os.fork

    def refused_pipe() -> tuple[int, int]:
        nonlocal tries
        tries += 1
        if tries % 2 == 0:
            raise OSError(24, "Too many open files")
        return pipe()

    def refused_fork() -> int:
        nonlocal tries
        tries += 1
        raise OSError(11, "Resource temporarily unavailable")

    if failing == "fork":
        monkeypatch.setattr(os, "fork", refused_fork)
    else:
        monkeypatch.setattr(os, "pipe", refused_pipe)
    open_before = len(os.listdir("/proc/self/fd"))
    helped = capture(tmp_path, src, home, helped=True, batch=4000, commit=1 << 30)
    monkeypatch.setattr(os, "pipe", pipe)
    monkeypatch.setattr(os, "fork", fork)
    assert helped == alone
    assert len(os.listdir("/proc/self/fd")) == open_before
    assert tries == (1 if failing == "fork" else 2)  # once, not at every block


OWNER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from ox_session_capture import blocks, tail as tail_mod
    from ox_session_capture.adapters import load_adapter
    from ox_session_capture.recording import create_recording
    from ox_session_capture.recover import drain
    from ox_session_capture.tail import SourceTail

    def hang(*args):
        time.sleep(3600)

    blocks.convert_next = hang
    tail_mod.HELPED_MIN_BYTES = 1
    home, src, ledger = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home)
    def reset(m):
        m.source_offset = m.start_offset = 0
    from ox_session_capture.records import update_marker
    update_marker(rec.session_dir, reset)
    tail = SourceTail(rec.session_dir, load_adapter("claude-code"), src, batch_bytes=4000,
                      commit_bytes=1 << 30)
    tail._helped = True
    tail.resume()
    drain(tail)
    """
)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead, only not reaped


def _wait(condition: Any, what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_tail_killed_with_9_takes_its_helpers_with_it(
    home: Path, src: Path, ledger: Path
) -> None:
    big_session(src)
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(home), str(src), str(ledger)],
        stderr=subprocess.DEVNULL,
    )
    try:

        def helpers() -> list[int]:
            found = []
            for task in Path(f"/proc/{owner.pid}/task").iterdir():
                found += [int(pid) for pid in (task / "children").read_text().split()]
            return found if len(found) == tail_mod.HELPERS else []

        pids = _wait(helpers, "the catch-up's helpers")
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=60)
        _wait(lambda: not any(map(_alive, pids)), "the helpers to die with their tail")
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()


def test_helpers_forked_from_a_busy_threaded_daemon(
    home: Path, src: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, forked: list[int]
) -> None:
    """As in the daemon: the catch-up runs in a trio worker thread while another thread logs
    without pause (a lock it holds at the fork stays held in the child: the helpers must
    never need one). Each fork must give the same capture, and none be given up on."""
    import logging
    import threading

    import trio

    big_session(src, 1000)
    alone = capture(tmp_path, src, home, helped=False, batch=20_000, commit=1 << 30)
    busy = logging.getLogger("ox.test.busy")
    busy.propagate = False
    handler = logging.FileHandler(tmp_path / "busy.log")
    busy.addHandler(handler)
    stop = threading.Event()

    def chatter() -> None:
        while not stop.is_set():
            busy.warning("chatter %s", "x" * 200)

    def helped() -> Any:
        return capture(tmp_path, src, home, helped=True, batch=20_000, commit=1 << 30)

    async def main() -> list[Any]:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(trio.to_thread.run_sync, chatter)
            try:
                return [await trio.to_thread.run_sync(helped) for _ in range(3)]
            finally:
                stop.set()

    try:
        with caplog.at_level(logging.INFO, logger="ox_session_capture"):
            results = trio.run(main)
    finally:
        busy.removeHandler(handler)
        handler.close()
    assert results == [alone] * 3
    assert len(forked) >= 3 * tail_mod.HELPERS
    assert not [r for r in caplog.records if "catch-up helper" in r.getMessage()]


def test_finalizations_catch_up_of_a_big_session_uses_helpers(
    home: Path, src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forked: list[int]
) -> None:
    """`recover.catch_up` (what finalization calls) with the real sizes: an 11 MB session is
    converted by helpers, into the same `raw.jsonl` as without."""
    from ox_session_capture.recover import catch_up

    for name, value in REAL.items():
        monkeypatch.setattr(tail_mod, name, value)
    big_session(src, 9000, "line 1234 " * 60)
    assert src.stat().st_size > 10 * 1024 * 1024 > tail_mod.HELPED_MIN_BYTES

    def caught_up(helped: bool) -> bytes:
        monkeypatch.setattr(tail_mod, "helpers_possible", lambda: helped)
        ledger = Path(tempfile.mkdtemp(prefix="ledger-", dir=tmp_path))
        rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home)
        update_marker(rec.session_dir, _reset)
        result = catch_up(rec.session_dir, home=home)
        assert result.entries == 18_000
        return (rec.session_dir / RAW).read_bytes().split(b"\n", 1)[1]

    assert caught_up(True) == caught_up(False)
    assert len(forked) == tail_mod.HELPERS
