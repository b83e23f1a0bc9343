"""Settings: defaults, the TOML file, `OX_*` variables, precedence, sources, clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ox_core.errors import ConfigError
from ox_core.settings import load_settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.startswith("OX_") or key.startswith("XDG_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def write_config(home: Path, text: str) -> Path:
    path = home / ".config" / "ox" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_configuration(home: Path) -> None:
    settings = load_settings()
    assert settings.ledger is None
    assert settings.uses_default_ledger()
    assert settings.ledger_path() == home / ".local" / "share" / "ox" / "ledger"
    assert settings.log_format == "text"
    assert settings.agent_work.agent == ""
    assert settings.agent_work.max_concurrent == 4
    assert set(settings.sources().values()) == {"default"}


def test_socket_is_per_ledger_in_the_runtime_dir(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = home / "run"
    runtime.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    first = load_settings(ledger=home / "a").socket_path()
    second = load_settings(ledger=home / "b").socket_path()
    assert first.parent == second.parent == runtime / "ox"
    assert first != second
    assert load_settings(ledger=home / "a").socket_path() == first


def test_file_then_environment_with_sources(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(
        home,
        'log_format = "json"\nledger = "/srv/ledger"\n'
        "[agent_work]\nmax_concurrent = 2\ntimeout = 60\n"
        '[runners.claude]\nbinary = "/opt/claude"\n',
    )
    monkeypatch.setenv("OX_AGENT_WORK__MAX_CONCURRENT", "3")
    monkeypatch.setenv("OX_LEDGER", str(home / "mine"))
    settings = load_settings()
    assert settings.log_format == "json"
    assert settings.ledger_path() == home / "mine"  # env beats the file
    assert settings.agent_work.max_concurrent == 3
    assert settings.agent_work.timeout == 60  # the file's value kept beside the env's
    assert settings.runners == {"claude": {"binary": "/opt/claude"}}
    sources = settings.sources()
    assert sources["log_format"] == f"file {path}"
    assert sources["ledger"] == "env OX_LEDGER"
    assert sources["agent_work.max_concurrent"] == "env OX_AGENT_WORK__MAX_CONCURRENT"
    assert sources["agent_work.timeout"] == f"file {path}"
    assert sources["socket"] == "default"


def test_runner_options_from_the_environment(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OX_RUNNERS__SOMEAGENT__BINARY", "/bin/someagent")
    settings = load_settings()
    assert settings.runners == {"someagent": {"binary": "/bin/someagent"}}
    assert settings.sources()["runners.someagent.binary"] == "env OX_RUNNERS__SOMEAGENT__BINARY"


def test_unknown_key_in_file_is_refused_by_name(home: Path) -> None:
    path = write_config(home, "ledgr = '/x'\n")
    with pytest.raises(ConfigError, match="ledgr") as info:
        load_settings()
    assert str(path) in str(info.value)


def test_unknown_nested_key_is_refused(home: Path) -> None:
    path = write_config(home, "[agent_work]\nmax_concurent = 3\n")
    with pytest.raises(ConfigError, match=r"agent_work\.max_concurent: .*") as info:
        load_settings()
    assert str(info.value).endswith(f"(from file {path})")


def test_invalid_value_from_environment(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OX_LOG_FORMAT", "xml")
    with pytest.raises(ConfigError, match=r"log_format: .* \(from env OX_LOG_FORMAT\)"):
        load_settings()
    monkeypatch.setenv("OX_AGENT_WORK__MAX_CONCURRENT", "zero")
    with pytest.raises(ConfigError, match=r"\(from env OX_AGENT_WORK__MAX_CONCURRENT\)"):
        load_settings()


def test_broken_toml_names_the_file(home: Path) -> None:
    path = write_config(home, "this is = = not toml")
    with pytest.raises(ConfigError, match=r"config file .* is not valid TOML") as info:
        load_settings()
    assert str(path) in str(info.value)


def test_config_file_from_ox_config_file(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = home / "elsewhere.toml"
    other.write_text('log_level = "DEBUG"\n', encoding="utf-8")
    monkeypatch.setenv("OX_CONFIG_FILE", str(other))
    settings = load_settings()
    assert settings.log_level == "DEBUG"
    assert settings.sources()["log_level"] == f"file {other}"


def test_a_table_given_whole_in_the_environment_is_the_source_of_its_own_keys_only(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`OX_AGENT_WORK` (JSON) and the file's `[agent_work]` are merged: each key is told
    as coming from the one that set it, in `doctor` and in an error."""
    from ox_core.doctor import settings_rows

    path = write_config(home, "[agent_work]\nmax_concurrent = 3\ntimeout = 60\n")
    monkeypatch.setenv("OX_AGENT_WORK", '{"max_concurrent": 2}')
    settings = load_settings()
    assert (settings.agent_work.max_concurrent, settings.agent_work.timeout) == (2, 60)
    rows = {row["key"]: row["source"] for row in settings_rows(settings)}
    assert rows["agent_work.max_concurrent"] == "env OX_AGENT_WORK"
    assert rows["agent_work.timeout"] == f"file {path}"
    assert rows["agent_work.enabled"] == "default"

    write_config(home, "[agent_work]\nmax_concurrent = 0\n")
    monkeypatch.setenv("OX_AGENT_WORK", '{"agent": "codex"}')
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value) == (
        "invalid settings: agent_work.max_concurrent: Input should be greater than or equal "
        f"to 1 (from file {path})"
    )
