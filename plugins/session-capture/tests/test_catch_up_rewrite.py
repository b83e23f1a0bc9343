"""A session file rewritten in place (same inode, same size, other bytes) while a catch-up
reads it. Without helpers the prefix print is made of the bytes the tail read, so the next
step sees the rewrite and reads the file again; with helpers the print is read back from the
file at commit time, after the rewrite: it matches the new bytes, the rewrite goes unseen, and
what the file now holds before the offset is never captured."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from ox_session_capture import blocks
from ox_session_capture import tail as tail_mod
from ox_session_capture.adapters import load_adapter
from ox_session_capture.recording import create_recording
from ox_session_capture.records import RAW, update_marker
from ox_session_capture.recover import drain
from ox_session_capture.tail import SourceTail
from ox_session_capture.testing import claude_user
from ox_session_capture.testing.fixtures import home as home
from ox_session_capture.testing.fixtures import src as src

pytestmark = pytest.mark.skipif(not blocks.helpers_possible(), reason="needs fork and 2 cores")


def _reset(marker: Any) -> None:
    marker.source_offset = marker.start_offset = 0


def body(tag: str) -> bytes:
    return b"".join(claude_user(f"{tag}-{n:03d}", "text " * 20) for n in range(300))


def capture_with_rewrite(
    root: Path, src: Path, home: Path, monkeypatch: pytest.MonkeyPatch, *, helped: bool
) -> set[str]:
    src.write_bytes(body("old"))
    new = body("new")
    assert len(new) == src.stat().st_size
    done = []

    def rewrite() -> None:
        if not done:
            done.append(True)
            with open(src, "r+b") as f:  # in place: same inode, same size
                f.write(new)

    real_merge, real_convert = tail_mod.merge_block, SourceTail._convert

    def merge(*args: Any) -> Any:  # a helper has read (and converted) its block
        rewrite()
        return real_merge(*args)

    def convert(self: SourceTail, *args: Any) -> Any:  # the tail has read its block
        rewrite()
        return real_convert(self, *args)

    monkeypatch.setattr(tail_mod, "merge_block", merge)
    monkeypatch.setattr(SourceTail, "_convert", convert)
    ledger = Path(tempfile.mkdtemp(prefix="ledger-", dir=root))
    rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home)
    update_marker(rec.session_dir, _reset)
    tail = SourceTail(
        rec.session_dir, load_adapter("claude-code"), src, batch_bytes=8000, commit_bytes=1 << 30
    )
    tail._helped = helped
    tail.resume()
    drain(tail)
    assert done
    lines = (rec.session_dir / RAW).read_bytes().splitlines()[1:]
    return {json.loads(line).get("source_id") for line in lines}


def test_a_rewrite_during_a_helped_catch_up_is_seen_as_without_helpers(
    home: Path, src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tail_mod, "HELPED_MIN_BYTES", 1)
    monkeypatch.setattr(tail_mod, "HELPED_BLOCK_MIN", 64)
    alone = capture_with_rewrite(tmp_path, src, home, monkeypatch, helped=False)
    helped = capture_with_rewrite(tmp_path, src, home, monkeypatch, helped=True)
    wanted = {f"new-{n:03d}" for n in range(300)}
    assert wanted <= alone  # the tail saw the rewrite and read the file again
    assert wanted <= helped, f"{len(wanted - helped)} entries of the rewritten file never captured"
