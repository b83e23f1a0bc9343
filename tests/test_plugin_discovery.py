"""The five distributions of this repository are discoverable through their entry points."""

from __future__ import annotations

from ox_core import Runner, WorkHandler, load_plugins
from ox_core.plugins import list_entry_points

OURS = {
    ("ox.runners", "claude"): "ox-runner-claude",
    ("ox.runners", "codex"): "ox-runner-codex",
    ("ox.runners", "gemini"): "ox-runner-gemini",
    ("ox.handlers", "session-finalize"): "ox-handler-session-finalize",
}


def test_entry_points_of_our_distributions_are_listed() -> None:
    listed = {(p.group, p.name): p.distribution for p in list_entry_points()}
    for key, dist in OURS.items():
        assert listed.get(key) == dist


def test_load_plugins_registers_our_runners_and_handler() -> None:
    loaded = load_plugins()
    ours = {e.name for e in loaded.errors if (e.group, e.name) in OURS}
    assert ours == set()
    assert {"claude", "codex", "gemini"} <= set(loaded.runners)
    assert "session-finalize" in loaded.handlers
    assert all(issubclass(cls, Runner) for cls in loaded.runners.values())
    assert all(issubclass(cls, WorkHandler) for cls in loaded.handlers.values())
    ours = {"claude", "codex", "gemini"}
    order = [c.name for c in loaded.runners_by_priority() if c.name in ours]
    assert order == ["claude", "codex", "gemini"]
