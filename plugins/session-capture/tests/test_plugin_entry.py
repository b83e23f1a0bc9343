"""Session capture as a plugin of ox-core: its handler, adapters and command come from its
own distribution through the core loader, and its command fails clearly where the daemon
lacks it."""

from __future__ import annotations

from ox_core.doctor import plugins_report
from ox_core.plugins import load_plugins
from ox_session_capture.adapters import load_adapter
from ox_session_capture.handler import SessionCaptureHandler


def test_plugins_lists_the_handler_the_adapters_and_the_command() -> None:
    loaded = load_plugins()
    rows = {(r["group"], r["name"]): r for r in plugins_report(loaded)}
    for key in (
        ("ox.handlers", "session-capture"),
        ("ox.adapters", "claude-code"),
        ("ox.adapters", "codex"),
        ("ox.adapters", "gemini"),
        ("ox.commands", "session"),
    ):
        assert rows[key]["distribution"] == "ox-session-capture"
        assert rows[key]["error"] is None
    assert loaded.handlers["session-capture"] is SessionCaptureHandler
    assert sorted(loaded.adapters) == ["claude-code", "codex", "gemini"]
    assert type(load_adapter("claude")) is loaded.adapters["claude-code"]
