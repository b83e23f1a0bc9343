"""The public API of `ox_core` (`__all__`) is the plugin author's, and docs/api.md states it:
every name resolves, every name is documented, and every `WorkHandler` method's cancellation
behaviour is in the doc's table and in its docstring."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import ox_core
from ox_core.contracts import Runner, WorkHandler

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_every_exported_name_resolves_and_is_documented() -> None:
    text = API_DOC.read_text()
    for name in ox_core.__all__:
        assert getattr(ox_core, name) is not None
        assert re.search(rf"`{name}[`(]|, `?{name}`", text), name
    assert sorted(ox_core.__all__) == ox_core.__all__


def test_the_daemon_s_parts_are_not_plugin_api() -> None:
    for name in ("Manager", "WorkQueue", "AgentWorkerConfig", "SyncSignal"):
        assert name not in ox_core.__all__
        assert getattr(ox_core, name) is not None  # still importable, for ox's own tests


def test_every_handler_method_states_its_cancellation() -> None:
    text = API_DOC.read_text().split("## Cancellation", 1)[1]
    methods = [
        name
        for name, member in vars(WorkHandler).items()
        if inspect.isfunction(member) and not name.startswith("_")
    ]
    assert {"detect", "build_prompt", "process_result", "cleanup", "serve", "configure"} <= set(
        methods
    )
    for name in methods:
        assert f"`WorkHandler.{name}`" in text or f"`{name}`" in text, name
        doc = (inspect.getdoc(getattr(WorkHandler, name)) or "").lower()
        if inspect.iscoroutinefunction(getattr(WorkHandler, name)):
            assert "cancel" in doc, name
        else:
            assert "never cancelled" in doc or "cancelled when" in doc, name
    assert "`Runner.run`" in text
    assert "cancellation" in (inspect.getdoc(Runner.run) or "").lower()
