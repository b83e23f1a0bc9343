"""The standard-library IPC client: replies checked by hand as the pydantic model would, and
the daemon's socket found by the same rules as `Settings.socket_path`."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ox_core import cli
from ox_core.client import ErrorCode, IpcError, _result, configured_socket
from ox_core.errors import ConfigError, OxError
from ox_core.paths import pure
from ox_core.protocol import IpcResponse
from ox_core.settings import load_settings


@pytest.mark.parametrize(
    "line",
    [
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'"ok"',
        b"{}",
        b'{"ok": "yes"}',
        b'{"ok": 1}',
        b'{"ok": true, "extra": 1}',
        b'{"ok": false, "error": 5}',
        b'{"ok": false, "code": ["x"]}',
        b'{"ok": true, "id": true}',
        b'{"ok": true, "id": 1.5}',
        b"[" * 5000 + b"]" * 5000,  # nested beyond Python's recursion limit
    ],
)
def test_a_reply_that_is_not_a_valid_answer_is_one_clear_error(line: bytes) -> None:
    with pytest.raises(OxError, match="the daemon's reply is not a valid answer"):
        _result(line)


@pytest.mark.parametrize(
    "reply",
    [
        {"ok": True, "result": {"a": [1, 2]}, "id": 1},
        {"ok": True, "result": None, "id": "x"},
        {"ok": True},
        {"ok": False, "error": "no such thing", "code": "not_found", "id": 1},
        {"ok": False},
    ],
)
def test_valid_replies_read_as_the_servers_model_writes_them(reply: dict[str, object]) -> None:
    line = IpcResponse.model_validate(reply).model_dump_json().encode()
    if reply["ok"]:
        assert _result(line) == reply.get("result")
        return
    with pytest.raises(IpcError) as caught:
        _result(line)
    assert caught.value.code == reply.get("code", ErrorCode.INTERNAL)
    assert str(caught.value) == reply.get("error", "error")


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.upper().startswith(("OX_", "XDG_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("OX_CONFIG_FILE", str(tmp_path / "config.toml"))
    return tmp_path


def configure(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], toml: str
) -> None:
    (config_dir / "config.toml").write_text(toml)
    for key, value in env.items():
        monkeypatch.setenv(key, value)


@pytest.mark.parametrize(
    ("env", "toml"),
    [
        ({}, ""),
        ({"OX_LEDGER": "~/team"}, ""),
        ({"ox_ledger": "/srv/ledger"}, ""),  # pydantic-settings reads any case
        ({}, 'ledger = "/from/file"\n'),
        ({"OX_LEDGER": "/env/wins"}, 'ledger = "/from/file"\n'),
        ({"OX_SOCKET": "/run/x.sock"}, 'ledger = "/from/file"\n'),
        ({}, 'socket = "~/s.sock"\n'),
        ({"XDG_DATA_HOME": "/data"}, ""),
        ({"XDG_STATE_HOME": "/state", "XDG_RUNTIME_DIR": "/nonexistent"}, ""),
        ({"OX_LEDGER": "/srv//team/./ledger/"}, ""),
        ({"XDG_DATA_HOME": "/data//x/"}, ""),
    ],
)
def test_the_socket_is_where_the_settings_put_it(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], toml: str
) -> None:
    configure(clean_env, monkeypatch, env, toml)
    assert Path(configured_socket()[0]) == load_settings().socket_path()


@pytest.mark.parametrize(
    ("env", "toml"),
    [({"OX_LEDGER": ""}, ""), ({"OX_SOCKET": "rel.sock"}, ""), ({}, "ledger = 5\n"), ({}, "[[x")],
)
def test_a_setting_the_settings_refuse_is_refused(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], toml: str
) -> None:
    configure(clean_env, monkeypatch, env, toml)
    with pytest.raises(ConfigError):
        configured_socket()


def test_the_fast_paths_know_every_builtin_command() -> None:
    assert cli._builtin_commands() == cli._BUILTIN


def test_status_json_without_a_daemon_goes_the_usual_way(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli._fast(["status", "--json"]) is None  # the usual path reports it
    assert cli.main(["status", "--json"]) == 1
    assert "daemon is not running" in capsys.readouterr().err


@given(
    st.lists(st.sampled_from(["", ".", "..", "a", "b c", "ü", "x.y"]), max_size=6),
    st.integers(0, 3),
)
def test_pure_spells_a_path_as_pathlib_does(parts: list[str], slashes: int) -> None:
    """The socket's name hashes the ledger's path: the fast client's spelling must be
    `Settings`' (pathlib's) exactly."""
    text = "/" * slashes + "/".join(parts)
    assert pure(text) == str(PurePosixPath(text))
