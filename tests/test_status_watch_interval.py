"""`ox-core status --watch --interval N` with an interval `time.sleep` refuses (negative, NaN)
drew the first screen, then died with a `ValueError` traceback; zero would ask the daemon for
its status in a busy loop; one over about 300 years (`1e10`) died with an `OverflowError`
after the first screen. The interval is checked as an argument: one usage line, exit 2, and
at most a day."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import OxWorld


@pytest.mark.parametrize("interval", ["-1", "nan", "0", "inf"])
def test_a_bad_watch_interval_is_one_usage_error(world: OxWorld, interval: str) -> None:
    world.serve()

    result = world.cli("status", "--watch", f"--interval={interval}", check=False)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"ox-core status: error: argument --interval: {interval!r} is not a number of "
        "seconds above 0"
    )
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("interval", ["1e10", "1e308", "86401"])
def test_a_watch_interval_over_a_day_is_one_usage_error(world: OxWorld, interval: str) -> None:
    world.serve()

    result = world.cli("status", "--watch", f"--interval={interval}", check=False)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"ox-core status: error: argument --interval: {interval!r} is more than a day (86400 s)"
    )
    assert "Traceback" not in result.stderr
