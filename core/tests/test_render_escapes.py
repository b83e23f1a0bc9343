"""What the daemon's answers carry was written by remotes, agents and teammates (a server
hook's message, a file name, an error): the screens show its control characters as escapes,
and a terminal never runs them."""

from __future__ import annotations

import io
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console, RenderableType

from ox_core.render import doctor_screen, plugins_screen, status_screen
from ox_core.render.formatting import printable

HOSTILE = "remote: \x1b]0;pwned\x07\x1b[2J\x1b[31mrejected\u202e\x9b"


def raw_output(screen: RenderableType) -> str:
    """What a terminal would receive (colour on, so rich's own sequences are there too)."""
    out = io.StringIO()
    Console(file=out, width=200, force_terminal=True, color_system="standard").print(screen)
    return out.getvalue()


def test_a_service_error_from_a_remote_is_shown_escaped() -> None:
    service = {"name": "sync", "state": "restarting", "restarts": 2, "last_error": HOSTILE}
    status: dict[str, Any] = {
        "daemon": {"pid": 1, "ledger": "/l", "ready": True, "services": [service]},
        "agent_work": {"agent_type": "none", "enabled": True},
    }
    shown = raw_output(status_screen(status))
    assert "\\x1b]0;pwned\\x07" in shown
    assert "]0;pwned" not in shown.replace("\\x1b]0;pwned", "")
    for char in ("\x07", "\u202e", "\x9b"):
        assert char not in shown


def test_doctor_and_plugins_escape_what_they_show() -> None:
    report = {"runners": [{"name": "x", "installed": True, "detail": HOSTILE}]}
    assert "\x07" not in raw_output(doctor_screen(report))
    plugins = [{"name": HOSTILE, "kind": "runner", "dist": "d", "version": "1", "state": "ok"}]
    assert "\x07" not in raw_output(plugins_screen(plugins))


@given(st.recursive(st.text(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)))
def test_printable_leaves_nothing_a_terminal_would_act_on(data: Any) -> None:
    def texts(value: Any) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, dict):
            return [t for k, v in value.items() for t in (*texts(k), *texts(v))]
        return [t for v in value for t in texts(v)]

    for text in texts(printable(data)):
        assert all(c.isprintable() or c in "\n\t" for c in text)
