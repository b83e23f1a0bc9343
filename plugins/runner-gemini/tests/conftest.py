"""The runner test kit of ox-core (`ox_core.testing_runners`): fake CLIs replaying the
recordings in `data/`, and the real vendor CLI from npm against a fake model API."""

from pathlib import Path

import pytest

from ox_core.testing_runners import fake_cli, group_gone, real_cli_kit, wait_dead
from ox_runner_gemini.runner import AUTH_ENV, AUTH_FLAGS

__all__ = ["fake_cli", "group_gone", "real_cli_kit", "wait_dead"]


@pytest.fixture
def no_user_auth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No credential or system settings of this machine's reach gemini; ox's state dir (where
    the run's folder is) is `tmp_path / "state"`, returned."""
    for key in (*AUTH_ENV, *AUTH_FLAGS, "GEMINI_CLI_SYSTEM_SETTINGS_PATH"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state"
