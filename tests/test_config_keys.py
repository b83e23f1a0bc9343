"""`ox-core config --show` lists every key of core and of each installed plugin (read from
their pydantic models), and docs/configuration.md documents every one of them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ox_core.config_keys import core_rows, plugin_rows
from ox_core.plugins import load_plugins

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def documented_key(key: str) -> str:
    # Every CLI runner shares its keys: the doc lists them once, as runners.<name>.<key>.
    if key.startswith("runners."):
        return "runners.<name>." + key.split(".", 2)[2]
    return key


def test_every_key_is_documented_with_a_description() -> None:
    text = DOC.read_text()
    rows = [*core_rows(), *plugin_rows(load_plugins())]
    assert {r["key"] for r in rows} >= {
        "ledger",
        "agent_work.rate_limit.window",
        "handlers.session-finalize.quality_upload",
        "runners.claude.timeout",
    }
    for row in rows:
        assert row["description"], row
        assert f"| `{documented_key(row['key'])}` |" in text, row["key"]


def test_config_show_lists_core_and_plugin_keys(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OX_")}
    env["OX_CONFIG_FILE"] = str(tmp_path / "none.toml")
    proc = subprocess.run(
        [sys.executable, "-m", "ox_core.cli", "config", "--show", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    rows = {r["key"]: r for r in json.loads(proc.stdout)}
    assert rows["agent_work.max_concurrent"] == {
        "key": "agent_work.max_concurrent",
        "type": "int",
        "default": "4",
        "description": "Work items processed at once.",
        "owner": "ox-core",
    }
    upload = rows["handlers.session-finalize.quality_upload"]
    assert (upload["default"], upload["owner"]) == ("0.3", "ox-handler-session-finalize")
    assert "agent_work.quality_upload" not in rows
    assert "agent_work.session_finalize" not in rows
