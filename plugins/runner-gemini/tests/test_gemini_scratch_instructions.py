"""Scratch folders in the system temp dir, which every local user can write to: the real
`gemini` (from the npm cache, fake model API on 127.0.0.1) looks upward from its folder for a
`.git` project root and loads the GEMINI.md of every folder from there down as instructions.
Another user who made `/tmp/.git` and `/tmp/GEMINI.md` wrote the instructions of every summary
(before: its fallback folder is now in ox's state dir)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ox_core import RunRequest
from ox_core.testing_npm import read_pin
from ox_core.testing_runners import planted_temp_dir
from ox_runner_gemini import GeminiRunner

from .test_gemini_real import GeminiApi, fake_api_env, gemini_home

GEMINI = read_pin(Path(__file__).with_name("real-cli.json"))


async def test_gemini_loads_no_gemini_md_from_above_its_fallback_dir(
    real_cli_kit: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_user_auth: Path
) -> None:
    binary = real_cli_kit.npm_cli(GEMINI)
    stable = no_user_auth / "ox" / "gemini-work"
    stable.mkdir(parents=True)
    (stable / "left-over").write_text("x")  # not empty: the runner falls back to a temp dir
    planted_temp_dir(tmp_path, monkeypatch, "GEMINI.md")
    home = tmp_path / "home"
    gemini_home(home)
    api = GeminiApi(real_cli_kit, "Summary text.")
    with real_cli_kit.FakeModelApi(api) as server:
        env = fake_api_env(real_cli_kit, home, server.url)
        result = await GeminiRunner(binary=binary, env=env).run(
            RunRequest(prompt="Summarise.", work_dir=tmp_path)
        )
    assert result.ok, result.error
    assert server.requests
    assert "PLANTED-IN-TMP" not in json.dumps(server.requests)  # `PLANTED`'s start
