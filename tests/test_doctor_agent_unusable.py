"""`ox-core doctor` with a configured agent that cannot run: its table row says so, but the
agent line below it said `✓ agent: claude` (the configured name, never checked), for a CLI
logged out, not installed, or a name no runner plugin has (a typo in `agent_work.agent`).
Summaries then never come while doctor says the agent is fine."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conftest import OxWorld


def doctor(world: OxWorld) -> tuple[dict[str, Any], str]:
    """`doctor --json` as data, and `doctor`'s screen."""
    report = json.loads(world.cli("doctor", "--json", check=False).stdout)
    return report, world.cli("doctor", check=False).stdout


def test_a_logged_out_configured_agent_is_not_shown_as_fine(world: OxWorld) -> None:
    world.claude.state.joinpath("auth").write_text('{"loggedIn": false}')

    report, screen = doctor(world)

    assert report["agent"] == "claude"
    assert report["agent_usable"] is False
    assert report["agent_detail"] == "not logged in (run `claude auth login`)"
    assert "✓ agent" not in screen
    assert "! agent: claude is not usable: not logged in (run `claude auth login`)" in screen


def test_a_configured_agent_no_runner_has_is_not_shown_as_fine(world: OxWorld) -> None:
    world.env["OX_AGENT_WORK__AGENT"] = "clade"  # a typo of claude

    report, screen = doctor(world)

    assert report["agent"] == "clade"
    assert report["agent_usable"] is False
    assert report["agent_detail"] == "no runner plugin named 'clade' is installed"
    assert "✓ agent" not in screen
    assert "! agent: clade is not usable: no runner plugin named 'clade' is installed" in screen


def test_a_usable_configured_agent_is_shown_as_fine(world: OxWorld) -> None:
    report, screen = doctor(world)

    assert report["agent"] == "claude"
    assert report["agent_usable"] is True
    assert "✓ agent: claude" in screen
