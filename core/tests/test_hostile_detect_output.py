"""`ox-core detect` prints the keys of what is waiting and running: a key holds a session
folder name, which any teammate may commit to the ledger, and the name check refuses only
C0 controls: U+202E (bidi override), C1 controls (U+009B is CSI) and DEL reach the terminal
raw, where `status` and `doctor` show them escaped."""

from __future__ import annotations

from typing import Any

import pytest

from ox_core import cli
from ox_core.commands import CommandContext
from ox_session_capture.confined import check_session_name

NAME = "fix\u202etxt.exe\x9b2J\x7f"


def test_detect_prints_keys_escaped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check_session_name(NAME) == NAME
    answer: dict[str, Any] = {
        "queued": 1,
        "waiting": [
            {"type": "session-finalize", "key": f"session-finalize:{NAME}", "priority": 10}
        ],
        "running": [{"type": "session-finalize", "key": f"session-finalize:{NAME}"}],
    }
    monkeypatch.setattr(CommandContext, "call", lambda *a, **k: answer)
    assert cli.main(["detect"]) == 0
    out = capsys.readouterr().out
    for char in ("\u202e", "\x9b", "\x7f"):
        assert char not in out
    assert "\\u202e" in out
