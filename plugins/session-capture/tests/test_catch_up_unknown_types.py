"""The marker's count of unknown line types must be the same with and without helpers. The
adapter counts at most 50 types per commit (`take_unknown` empties its dict at each), and a
helped catch-up commits at other places: past the commit budget it folds in the blocks its
helpers still had in flight, so types the tail alone counted in two commits fall in one, over
the cap, and some are never counted."""

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
from ox_session_capture.records import RAW, read_marker, update_marker
from ox_session_capture.recover import drain
from ox_session_capture.tail import SourceTail
from ox_session_capture.testing import claude_user
from ox_session_capture.testing.fixtures import home as home
from ox_session_capture.testing.fixtures import src as src

pytestmark = pytest.mark.skipif(not blocks.helpers_possible(), reason="needs fork and 2 cores")


def _reset(marker: Any) -> None:
    marker.source_offset = marker.start_offset = 0


def _unknown(kind: str) -> bytes:
    return json.dumps({"type": kind, "uuid": "x"}).encode() + b"\n"


def capture(root: Path, src: Path, home: Path, *, helped: bool, batch: int, commit: int) -> Any:
    ledger = Path(tempfile.mkdtemp(prefix="ledger-", dir=root))
    rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home)
    update_marker(rec.session_dir, _reset)
    tail = SourceTail(
        rec.session_dir, load_adapter("claude-code"), src, batch_bytes=batch, commit_bytes=commit
    )
    tail._helped = helped
    tail.resume()
    drain(tail)
    marker = read_marker(rec.session_dir)
    raw = (rec.session_dir / RAW).read_bytes().split(b"\n", 1)[1]
    return raw, marker.entry_count, (marker.model_extra or {}).get("unknown_lines")


def test_unknown_types_count_the_same_whatever_the_commits(
    home: Path, src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tail_mod, "HELPED_MIN_BYTES", 1)
    monkeypatch.setattr(tail_mod, "HELPED_BLOCK_MIN", 64)
    # Blocks of ~40 lines: each holds a user line (raw output over the commit budget) and
    # 30 new unknown types; 60 types in the first two blocks.
    parts = []
    for b in range(8):
        lines = [claude_user(f"u{b}", "text " * 30)]
        lines += [_unknown(f"kind-{b}-{n}") for n in range(30)]
        parts.append(b"".join(lines))
    size = max(len(p) for p in parts)
    parts = [
        p + claude_user("pad", "p" * (size - len(p) + 10)) if len(p) < size else p for p in parts
    ]
    src.write_bytes(b"".join(parts))
    batch = max(len(p) for p in parts) + 1
    alone = capture(tmp_path, src, home, helped=False, batch=batch, commit=100)
    helped = capture(tmp_path, src, home, helped=True, batch=batch, commit=100)
    assert helped[:2] == alone[:2]  # raw.jsonl and the entries: the same
    assert helped[2] == alone[2], (len(alone[2]), len(helped[2]))
