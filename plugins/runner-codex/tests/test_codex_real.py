"""The real `codex` CLI (npm `@openai/codex`, pinned) driven by CodexRunner against a fake
OpenAI Responses API on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ox_core import RunRequest
from ox_core.testing_npm import read_pin
from ox_runner_codex import CodexRunner
from ox_runner_codex.runner import AUTH_ENV

PIN = read_pin(Path(__file__).parent / "real-cli.json")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def codex_binary(real_cli_kit: Any) -> Path:
    return real_cli_kit.npm_cli(PIN)


class ResponsesApi:
    """Answers `POST /v1/responses` with a streamed message `text` and fixed usage."""

    def __init__(self, kit: Any, text: str) -> None:
        self.kit = kit
        self.text = text
        self.usage = {
            "input_tokens": 211,
            "input_tokens_details": {"cached_tokens": 17},
            "output_tokens": 37,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 248,
        }
        self.answers = 0

    def __call__(self, path: str, body: dict[str, Any]) -> tuple[int, str, bytes]:
        if not path.split("?")[0].endswith("/v1/responses"):
            return 404, "application/json", b'{"error":{"message":"not found"}}'
        self.answers += 1
        item = {
            "type": "message",
            "id": f"msg_{self.answers}",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": self.text, "annotations": []}],
        }
        response = {
            "id": f"resp_{self.answers}",
            "object": "response",
            "status": "in_progress",
            "model": body.get("model"),
            "output": [],
        }
        done = {**response, "status": "completed", "output": [item], "usage": self.usage}
        events = [
            {"type": "response.created", "response": response},
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {**item, "status": "in_progress", "content": []},
            },
            {
                "type": "response.output_text.delta",
                "output_index": 0,
                "content_index": 0,
                "item_id": item["id"],
                "delta": self.text,
            },
            {"type": "response.output_item.done", "output_index": 0, "item": item},
            {"type": "response.completed", "response": done},
        ]
        return 200, "text/event-stream", self.kit.sse([(e["type"], e) for e in events])


def codex_home(home: Path, url: str) -> None:
    config = home / ".codex" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        'model_provider = "fake"\n'
        'model = "fake-model"\n'
        "[model_providers.fake]\n"
        'name = "fake"\n'
        f'base_url = "{url}/v1"\n'
        'env_key = "OPENAI_API_KEY"\n'
        'wire_api = "responses"\n'
    )


async def test_real_codex_answers_through_the_runner(
    codex_binary: Path, real_cli_kit: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in (*AUTH_ENV, "CODEX_HOME"):
        monkeypatch.delenv(key, raising=False)
    api = ResponsesApi(real_cli_kit, "Summary from the fake Responses API: done ✓.")
    home = tmp_path / "home"
    work = tmp_path / "work"
    work.mkdir()
    with real_cli_kit.FakeModelApi(api) as server:
        codex_home(home, server.url)
        env = {**real_cli_kit.offline_env(home), "OPENAI_API_KEY": "sk-fake"}
        runner = CodexRunner(binary=codex_binary, env=env)
        usability = runner.usability()
        result = await runner.run(
            RunRequest(prompt="Summarise this session.\n" + "line\n" * 30_000, work_dir=work)
        )
    assert usability.usable, usability
    assert result.ok, result.error
    assert api.answers == 1
    assert result.output == api.text
    assert (result.tokens_in, result.tokens_out) == (211, 37)
    sent = str(server.requests[-1][2]["input"])
    assert "Summarise this session." in sent
    assert sent.count("line") >= 30_000
    # --ephemeral: no rollout file was written for the background run.
    assert not list((home / ".codex").glob("sessions/**/*.jsonl"))


def test_real_codex_usability_without_credentials(
    codex_binary: Path, real_cli_kit: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in (*AUTH_ENV, "CODEX_HOME"):
        monkeypatch.delenv(key, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    usability = CodexRunner(binary=codex_binary, env=real_cli_kit.offline_env(home)).usability()
    assert usability.installed
    assert not usability.authenticated
    assert usability.auth_detail == "Not logged in" or "did not answer" in usability.auth_detail


async def test_real_codex_on_429_reports_a_quota(
    codex_binary: Path, real_cli_kit: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in (*AUTH_ENV, "CODEX_HOME"):
        monkeypatch.delenv(key, raising=False)
    calls: list[str] = []

    def rate_limited(path: str, body: dict[str, Any]) -> tuple[int, str, bytes]:
        calls.append(path)
        error = b'{"error":{"message":"Rate limit reached","type":"requests","code":null}}'
        return 429, "application/json", error

    home = tmp_path / "home"
    with real_cli_kit.FakeModelApi(rate_limited) as server:
        codex_home(home, server.url)
        env = {**real_cli_kit.offline_env(home), "OPENAI_API_KEY": "sk-fake"}
        result = await CodexRunner(binary=codex_binary, env=env).run(
            RunRequest(prompt="hi", work_dir=tmp_path, timeout_override=60)
        )
    assert calls  # it reached the fake API
    assert not result.ok
    assert result.error.startswith("codex reported an error: ")
    assert "429" in result.error
    assert result.quota is not None
