"""`[agent_work.rate_limit] window = inf` (valid TOML) or any window past the calendar (`1e12`
s) was accepted (only `> 0` was checked): once the window's runs were used, the manager's
`status()` raised OverflowError turning the refill time into a date, so `ox-core status` said
only "internal error" while agent work was held back, the one time a person needs to see why.
The settings now refuse a window over a year with one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ox_core.errors import ConfigError
from ox_core.settings import load_settings


@pytest.mark.parametrize("window", ["inf", "1e12", "31622401"])
def test_a_rate_window_past_a_year_is_refused(
    window: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[agent_work.rate_limit]\nruns = 1\nwindow = {window}\n")
    monkeypatch.setenv("OX_CONFIG_FILE", str(config))
    with pytest.raises(ConfigError, match="window"):
        load_settings()


def test_a_window_of_a_year_is_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[agent_work.rate_limit]\nruns = 1\nwindow = 31622400\n")
    monkeypatch.setenv("OX_CONFIG_FILE", str(config))
    assert load_settings().agent_work.rate_limit.window == 31622400
