"""Rich markup in what teammates, agent CLIs and plugins wrote reaches the screens as markup:
a session folder name committed by a teammate (a valid name: no `/`, `:` or control
character needed) becomes an OSC 8 hyperlink or hidden text in `ox-core status`, and an agent
CLI's error that quotes a path in brackets makes `ox-core doctor` crash with a MarkupError
traceback. `printable` escapes control characters only; markup must be escaped too."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console, RenderableType

from ox_core.render import doctor_screen, plugins_screen, status_screen
from ox_session_capture.confined import check_session_name


def raw_output(screen: RenderableType) -> str:
    out = io.StringIO()
    Console(file=out, width=200, force_terminal=True, color_system="standard").print(screen)
    return out.getvalue()


def plain(screen: RenderableType) -> str:
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(screen)
    return out.getvalue()


NAMES = ["[link=evil.example]open me", "x[conceal]secret", "[@click=(]y"]


@pytest.mark.parametrize("name", NAMES)
def test_a_teammates_session_name_is_shown_as_written(name: str) -> None:
    assert check_session_name(name) == name  # a folder any teammate may commit to the ledger
    rec = {
        "work_type": "session-finalize",
        "target": f"session-finalize:{name}",
        "outcome": "published",
        "duration": 1.0,
        "started_at": "2026-01-01T00:00:00+00:00",
    }
    status: dict[str, Any] = {
        "daemon": {"pid": 1, "ledger": "/l", "ready": True},
        "agent_work": {
            "agent_type": "claude",
            "agent_available": True,
            "recent": [rec],
            "active": [dict(rec)],
        },
    }
    shown = raw_output(status_screen(status))
    assert "\x1b]8;" not in shown  # no hyperlink
    assert "\x1b[8m" not in shown  # no concealed text
    assert plain(status_screen(status)).count(name) == 2


def test_doctor_shows_an_agent_cli_message_with_brackets() -> None:
    detail = "`claude auth status` said: Error: cannot read [/home/u/.claude.json]"
    report = {
        "runners": [{"name": "claude", "installed": True, "authenticated": False, "detail": detail}]
    }
    assert "[/home/u/.claude.json]" in plain(doctor_screen(report))


def test_doctor_and_plugins_show_load_errors_with_brackets() -> None:
    error = "ModuleNotFoundError: No module named 'x' [/opt/plugins/x]"
    report = {
        "handlers": [{"type": "h", "class": "-", "error": error}],
        "plugin_errors": [
            {
                "name": "[/p]",
                "distribution": "d",
                "version": "1",
                "group": "ox.handlers",
                "error": error,
            }
        ],
    }
    assert plain(doctor_screen(report)).count("[/opt/plugins/x]") == 2
    rows = [
        {"name": "[/p]", "group": "ox.runners", "distribution": "d", "version": "1", "error": error}
    ]
    assert "[/p]" in plain(plugins_screen(rows))
