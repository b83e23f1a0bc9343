"""`ox-core doctor` with handler and runner plugins that misbehave in its checks: the report
is made anyway, names each plugin and says what is wrong, and the others are checked."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ox_core import MockRunner
from ox_core.contracts import AgentUsability, Diagnosis
from ox_core.doctor import collect, has_problems
from ox_core.settings import load_settings
from ox_core.testing import IdleHandler, plugins_of


class QuietHandler(IdleHandler):
    type = "quiet"

    def diagnose(self, ledger: Path) -> list[Diagnosis]:
        return [Diagnosis("quiet check", True, "fine")]


class DictDiagnoses(QuietHandler):
    """Answers `diagnose` with `doctor_checks`-style rows (dicts), not `Diagnosis` objects."""

    type = "dicts"

    def diagnose(self, ledger: Path) -> list[Any]:
        return [{"check": "vendor token", "ok": True, "detail": "set"}]


@pytest.fixture
def ledger(env: Path) -> Path:
    path = env / "ledger"
    path.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    (path / ".gitignore").write_text(".ox/cache/\n")  # what marks it as an ox ledger
    return path


def test_a_diagnose_returning_rows_that_are_not_diagnoses_is_one_failed_check(
    ledger: Path,
) -> None:
    report = collect(load_settings(ledger=ledger), plugins_of([QuietHandler, DictDiagnoses]))
    assert report["ledger"]["state"] == "ok"
    assert report["ledger_checks"] == [
        {
            "handler": "dicts",
            "name": "checks",
            "ok": False,
            "warning": False,
            "detail": "diagnose returned {'check': 'vendor token', 'ok': True, 'detail': 'set'}, "
            "not a Diagnosis",
        },
        {"handler": "quiet", "name": "quiet check", "ok": True, "warning": False, "detail": "fine"},
    ]
    assert has_problems(report)


release = threading.Event()  # set at teardown: lets the hung checks' threads end


class GoodRunner(MockRunner):
    name = "good"
    priority = 50


class HangingRunner(MockRunner):
    """Its usability check never answers (a CLI waiting on a login prompt)."""

    name = "hangs"
    priority = 1

    def usability(self) -> AgentUsability:
        release.wait(90)  # bounded: unfixed code answers late rather than hanging the test
        return AgentUsability(True, True, "too late")


class WrongTypeRunner(MockRunner):
    """Its usability check answers a bool, not an `AgentUsability`."""

    name = "says-true"
    priority = 2

    def usability(self) -> AgentUsability:
        return True  # type: ignore[return-value]


@pytest.fixture
def short_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from ox_core import agents

    monkeypatch.setattr(agents, "USABILITY_TIMEOUT", 0.5, raising=False)
    yield
    release.set()


def test_runners_whose_usability_hangs_or_is_no_usability_are_named_and_skipped(
    ledger: Path, short_checks: None
) -> None:
    plugins = plugins_of([QuietHandler], [GoodRunner, HangingRunner, WrongTypeRunner])
    report = collect(load_settings(ledger=ledger), plugins)
    rows = {r["name"]: (r["installed"], r["authenticated"], r["detail"]) for r in report["runners"]}
    assert rows == {
        "hangs": (False, False, "its usability check did not answer within 0.5 s"),
        "says-true": (False, False, "its usability check returned bool, not an AgentUsability"),
        "good": (True, True, "mock"),
    }
    assert report["agent"] == "good"
