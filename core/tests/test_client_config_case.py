"""The fast client must find the socket `Settings.socket_path` names for every config/env
combination: pydantic-settings matches config-file keys in any case, and of two `OX_*`
variables differing only in case it takes the last one (it lower-cases them into a dict)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ox_core.client import configured_socket
from ox_core.settings import load_settings


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.upper().startswith(("OX_", "XDG_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("OX_CONFIG_FILE", str(tmp_path / "config.toml"))
    return tmp_path


@pytest.mark.parametrize(
    "toml",
    [
        'Socket = "/from/file.sock"\n',
        'SOCKET = "/from/file.sock"\n',
        'Ledger = "/srv/ledger"\n',
        'LEDGER = "/srv/ledger"\n',
    ],
)
def test_a_config_key_in_another_case_names_the_same_socket(clean_env: Path, toml: str) -> None:
    (clean_env / "config.toml").write_text(toml)
    assert Path(configured_socket()[0]) == load_settings().socket_path()


@pytest.mark.parametrize("name", ["OX_SOCKET", "OX_LEDGER"])
def test_two_variables_differing_in_case_name_the_same_socket(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    (clean_env / "config.toml").write_text("")
    monkeypatch.setenv(name, "/first/x.sock")
    monkeypatch.setenv(name.lower(), "/second/y.sock")
    assert Path(configured_socket()[0]) == load_settings().socket_path()
