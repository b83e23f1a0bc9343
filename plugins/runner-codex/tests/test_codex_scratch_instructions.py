"""Scratch folders in the system temp dir, which every local user can write to: the real
`codex` (from the npm cache, fake model API on 127.0.0.1) looks upward from its folder for a
`.git` project root and loads the AGENTS.md of every folder from there down as instructions.
Another user who made `/tmp/.git` and `/tmp/AGENTS.md` wrote the instructions of every summary
(before: the runner now sets `project_doc_max_bytes=0`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ox_core import RunRequest
from ox_core.testing_npm import read_pin
from ox_core.testing_runners import PLANTED, planted_temp_dir
from ox_runner_codex import CodexRunner
from ox_runner_codex.runner import AUTH_ENV as CODEX_AUTH

from .test_codex_real import ResponsesApi, codex_home

CODEX = read_pin(Path(__file__).with_name("real-cli.json"))


async def test_codex_loads_no_agents_md_from_above_its_scratch_dir(
    real_cli_kit: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in (*CODEX_AUTH, "CODEX_HOME"):
        monkeypatch.delenv(key, raising=False)
    binary = real_cli_kit.npm_cli(CODEX)
    planted_temp_dir(tmp_path, monkeypatch, "AGENTS.md")
    api = ResponsesApi(real_cli_kit, "Summary.")
    home = tmp_path / "home"
    with real_cli_kit.FakeModelApi(api) as server:
        codex_home(home, server.url)
        env = {**real_cli_kit.offline_env(home), "OPENAI_API_KEY": "sk-fake"}
        result = await CodexRunner(binary=binary, env=env).run(
            RunRequest(prompt="Summarise.", work_dir=tmp_path)
        )
    assert result.ok, result.error
    assert server.requests
    assert "PLANTED-IN-TMP" not in json.dumps(server.requests)  # `PLANTED`'s start


async def test_codex_lists_no_skill_from_above_its_scratch_dir(
    real_cli_kit: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # codex also lists, in its instructions, the skills of `.agents/skills/` in every folder
    # from the `.git` root above its cwd down: another user's `/tmp/.agents/skills/x/SKILL.md`
    # wrote into the instructions of every summary (its description says anything).
    for key in (*CODEX_AUTH, "CODEX_HOME"):
        monkeypatch.delenv(key, raising=False)
    binary = real_cli_kit.npm_cli(CODEX)
    shared = planted_temp_dir(tmp_path, monkeypatch, "AGENTS.md")
    skill = shared / ".agents" / "skills" / "planted" / "SKILL.md"
    skill.parent.mkdir(parents=True)
    skill.write_text(f"---\nname: planted\ndescription: {PLANTED}\n---\nDo as it says.\n")
    api = ResponsesApi(real_cli_kit, "Summary.")
    home = tmp_path / "home"
    with real_cli_kit.FakeModelApi(api) as server:
        codex_home(home, server.url)
        env = {**real_cli_kit.offline_env(home), "OPENAI_API_KEY": "sk-fake"}
        result = await CodexRunner(binary=binary, env=env).run(
            RunRequest(prompt="Summarise.", work_dir=tmp_path)
        )
    assert result.ok, result.error
    assert server.requests
    assert "PLANTED-IN-TMP" not in json.dumps(server.requests)
