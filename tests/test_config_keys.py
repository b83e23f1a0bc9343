"""`ox-core config --show` lists every key of core and of each installed plugin (read from
their pydantic models), and docs/configuration.md documents every one of them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def documented_rows() -> dict[str, str]:
    """Key -> default of the table "Every key" in docs/configuration.md."""
    rows: dict[str, str] = {}
    for line in DOC.read_text().split("### Every key", 1)[1].splitlines()[4:]:
        if not line.startswith("| `"):
            break
        key, _type, default = (cell.strip() for cell in line.strip("|").split("|")[:3])
        rows[key.strip("`")] = default
    return rows


def test_the_documented_keys_and_defaults_are_the_models() -> None:
    rows = {documented_key(r["key"]): r for r in [*core_rows(), *plugin_rows(load_plugins())]}
    documented = documented_rows()
    assert set(documented) == set(rows)
    for key, default in documented.items():
        if default == "none":
            assert rows[key]["default"] == "null", key
        elif default.startswith("`"):
            assert json.loads(default.strip("`")) == json.loads(rows[key]["default"]), key


def test_a_runner_binary_of_the_wrong_type_is_one_line_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[runners.claude]\nbinary = 5\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
    env.update(HOME=str(tmp_path), OX_CONFIG_FILE=str(config))
    proc = subprocess.run(
        [sys.executable, "-m", "ox_core.cli", "doctor", "--json"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "runner claude: invalid options: binary: Input should be a valid string" in proc.stdout


@pytest.mark.parametrize(
    ("toml", "variables", "problem", "source"),
    [
        (
            'env = {"A=B" = "x"}',
            {},
            "env: 'A=B' is no variable name (empty, or holds '=' or NUL)",
            "file",
        ),
        (
            "",
            {"OX_RUNNERS": '{"claude": {"env": {"PATH": "/bin\\u0000"}}}'},
            "env: the value of PATH holds a NUL byte",
            "env OX_RUNNERS",
        ),
        ('extra_args = ["--x\\u0000"]', {}, "extra_args: an argument holds a NUL byte", "file"),
        ('model = "opus\\u0000"', {}, "model: holds a NUL byte", "file"),
    ],
)
def test_a_runner_option_no_process_can_take_is_one_line_naming_it(
    tmp_path: Path, toml: str, variables: dict[str, str], problem: str, source: str
) -> None:
    # Accepted, such a value made every run (and the authentication probe) fail with a bare
    # `ValueError: embedded null byte` naming no key, while doctor called claude usable.
    claude = tmp_path / "claude"
    claude.write_text("#!/bin/sh\necho '{\"loggedIn\": true}'\n")
    claude.chmod(0o755)
    config = tmp_path / "config.toml"
    config.write_text(f'[runners.claude]\nbinary = "{claude}"\n{toml}\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
    env.update(HOME=str(tmp_path), OX_CONFIG_FILE=str(config), ANTHROPIC_API_KEY="k", **variables)
    proc = subprocess.run(
        [sys.executable, "-m", "ox_core.cli", "doctor", "--json"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    where = f"file {config}" if source == "file" else source
    expected = f"runner claude: invalid options: {problem} (from {where})"
    errors = [p["error"] for p in json.loads(proc.stdout)["plugin_errors"]]
    assert errors == [expected]
