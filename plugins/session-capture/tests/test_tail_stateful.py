"""Hypothesis state machine for `SourceTail`: random appends (partial lines completed later,
blank, garbage, big and over-long lines, repeated message ids), truncations, in-place
rewrites, atomic replacements and tail restarts, against a model of what must be captured:
every valid complete line the tail could see, once per message id, in order of first sight."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)

from ox_session_capture import tail as tail_mod
from ox_session_capture.adapters import load_adapter
from ox_session_capture.recording import create_recording
from ox_session_capture.records import RAW, read_marker
from ox_session_capture.recover import drain
from ox_session_capture.tail import SourceTail
from ox_session_capture.testing import claude_session_file, claude_user
from ox_session_capture.transcript import read_raw

MAX_LINE = 700  # scaled-down line limit so over-long lines are cheap to write
BATCH = 512  # smaller than some legal lines: exercises the long-line scan


def model_lines(data: bytes) -> list[tuple[str, str]]:
    """(id, text) of every line the tail must convert, as the model reads the file."""
    complete = data[: data.rfind(b"\n") + 1]
    out = []
    for line in complete.split(b"\n")[:-1]:
        if len(line) > MAX_LINE:
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and obj.get("type") == "user":
            out.append((obj["uuid"], obj["message"]["content"]))
    return out


class TailMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="ox-tail-"))
        self._saved_max = tail_mod.MAX_LINE
        tail_mod.MAX_LINE = MAX_LINE
        home = self.root / "home"
        self.src = claude_session_file(home)
        (self.root / "ledger").mkdir()
        rec = create_recording(
            self.root / "ledger", "claude-code", self.src, pid=os.getpid(), home=home
        )
        self.session_dir = rec.session_dir
        self.tail = self._new_tail()
        self.counter = 0
        self.pending: bytes | None = None
        self.captured: list[tuple[str, str]] = []
        self.ids: list[str] = []

    def teardown(self) -> None:
        tail_mod.MAX_LINE = self._saved_max
        shutil.rmtree(self.root, ignore_errors=True)

    def _new_tail(self, commit_bytes: int = 0) -> SourceTail:
        # commit_bytes > 0 gathers several blocks per durable commit, as a catch-up does.
        t = SourceTail(
            self.session_dir,
            load_adapter("claude-code"),
            self.src,
            batch_bytes=BATCH,
            commit_bytes=commit_bytes,
        )
        t.resume()
        return t

    def _line(self, size: int, reuse: int | None = None) -> bytes:
        if reuse is not None and self.ids:
            uid = self.ids[reuse % len(self.ids)]
        else:
            self.counter += 1
            uid = f"id-{self.counter}"
            self.ids.append(uid)
        return claude_user(uid, f"text {uid} " + "p" * size if size else f"text {uid}")

    def _append(self, data: bytes) -> None:
        with open(self.src, "ab") as f:
            f.write(data)

    # ------------------------------------------------------------ source changes

    @rule(size=st.sampled_from([0, 10, 100, 450]))
    def append_line(self, size: int) -> None:
        self._append(self._line(size))

    @rule(n=st.integers(0, 50))
    def append_repeated_id(self, n: int) -> None:
        self._append(self._line(5, reuse=n))

    @rule()
    def append_over_long_line(self) -> None:
        self._append(self._line(MAX_LINE + 50))

    @rule(junk=st.sampled_from([b"\n", b"   \n", b"{garbage\n", b"\xff\x00\n", b"[1,2]\n"]))
    def append_junk(self, junk: bytes) -> None:
        self._append(junk)

    @precondition(lambda self: self.pending is None)
    @rule(size=st.sampled_from([10, 450, MAX_LINE + 50]), cut=st.floats(0.05, 0.95))
    def append_partial(self, size: int, cut: float) -> None:
        line = self._line(size)
        k = max(1, int(len(line) * cut))
        self._append(line[:k])
        self.pending = line[k:]

    @precondition(lambda self: self.pending is not None)
    @rule()
    def complete_partial(self) -> None:
        assert self.pending is not None
        self._append(self.pending)
        self.pending = None

    @rule(keep=st.floats(0, 1))
    def truncate(self, keep: float) -> None:
        data = self.src.read_bytes()
        lines = data.split(b"\n")[:-1]
        k = int(len(lines) * keep)
        self.src.write_bytes(b"".join(line + b"\n" for line in lines[:k]))
        self.pending = None

    @rule(keep=st.lists(st.booleans(), max_size=40), new=st.integers(0, 3), atomic=st.booleans())
    def rewrite(self, keep: list[bool], new: int, atomic: bool) -> None:
        """The agent rewrites its file: some old lines kept, some new ones; either atomically
        (temp file + rename: a new inode) or in place (same inode)."""
        data = self.src.read_bytes()
        lines = [line + b"\n" for line in data.split(b"\n")[:-1]]
        kept = [line for i, line in enumerate(lines) if i < len(keep) and keep[i]]
        body = b"".join(kept) + b"".join(self._line(20) for _ in range(new))
        if atomic:
            tmp = self.src.with_suffix(".tmp")
            tmp.write_bytes(body)
            os.replace(tmp, self.src)
        else:
            with open(self.src, "r+b") as f:
                f.truncate(0)
                f.write(body)
        self.pending = None

    # ------------------------------------------------------------ the watcher

    @rule(commit_bytes=st.sampled_from([0, 0, 300, 4096]))
    def restart(self, commit_bytes: int) -> None:
        self.tail = self._new_tail(commit_bytes)

    @rule()
    def sync(self) -> None:
        drain(self.tail)
        seen = {uid for uid, _ in self.captured}
        for uid, text in model_lines(self.src.read_bytes()):
            if uid not in seen:
                seen.add(uid)
                self.captured.append((uid, text))
        entries = read_raw(self.session_dir / RAW).entries
        got = [((e.model_extra or {}).get("source_id"), e.content) for e in entries]
        assert got == self.captured

    @invariant()
    def marker_matches_raw(self) -> None:
        marker = read_marker(self.session_dir)
        entries = read_raw(self.session_dir / RAW).entries
        assert marker.entry_count == len(entries)
        ids = [(e.model_extra or {}).get("source_id") for e in entries]
        assert len(ids) == len(set(ids))


TailMachine.TestCase.settings = settings(max_examples=30, stateful_step_count=40, deadline=None)
TestTailStateful = TailMachine.TestCase
