"""Agent resolution: the order comes from the runners' priorities, nothing else."""

from __future__ import annotations

from typing import ClassVar

import pytest

from ox_core import (
    AgentUsability,
    Runner,
    RunRequest,
    RunResult,
    check_agent_usability,
    resolve_agent,
)


class StubRunner(Runner):
    """A runner that only answers `usability()` (resolution never runs an agent)."""

    name: ClassVar[str] = "stub"

    def __init__(self, name: str, priority: int, usability: AgentUsability | Exception) -> None:
        self.name = name  # type: ignore[misc]
        self.priority = priority  # type: ignore[misc]
        self._usability = usability
        self.checks = 0

    def available(self) -> bool:
        return not isinstance(self._usability, Exception) and self._usability.installed

    def usability(self) -> AgentUsability:
        self.checks += 1
        if isinstance(self._usability, Exception):
            raise self._usability
        return self._usability

    async def run(self, request: RunRequest) -> RunResult:
        raise AssertionError("resolution must not run an agent")


READY = AgentUsability(True, True, "logged in")
NO_AUTH = AgentUsability(True, False, "not logged in")
MISSING = AgentUsability(False, False, "not on PATH")


def test_auto_picks_the_first_usable_by_priority() -> None:
    runners = [
        StubRunner("gamma", 30, READY),
        StubRunner("alpha", 10, NO_AUTH),
        StubRunner("beta", 20, READY),
    ]
    assert resolve_agent("", runners) == "beta"


def test_priority_not_name_or_list_order_decides() -> None:
    runners = [StubRunner("zeta", 5, READY), StubRunner("alpha", 50, READY)]
    assert resolve_agent("", runners) == "zeta"
    assert resolve_agent("", list(reversed(runners))) == "zeta"


def test_equal_priorities_are_ordered_by_name() -> None:
    runners = [StubRunner("b", 10, READY), StubRunner("a", 10, READY)]
    assert resolve_agent("", runners) == "a"


def test_auto_stops_at_the_first_usable_runner() -> None:
    first, second = StubRunner("first", 10, READY), StubRunner("second", 20, READY)
    resolve_agent("", [second, first])
    assert (first.checks, second.checks) == (1, 0)


def test_nothing_usable_resolves_to_none() -> None:
    runners = [StubRunner("a", 10, MISSING), StubRunner("b", 20, NO_AUTH)]
    assert resolve_agent("", runners) == "none"
    assert resolve_agent("", []) == "none"


def test_a_runner_whose_check_raises_is_skipped() -> None:
    runners = [StubRunner("broken", 1, RuntimeError("boom")), StubRunner("ok", 99, READY)]
    assert resolve_agent("", runners) == "ok"


@pytest.mark.parametrize("configured", ["claude", "not-installed", "none"])
def test_a_configured_name_is_returned_as_is(configured: str) -> None:
    runner = StubRunner("other", 1, READY)
    assert resolve_agent(configured, [runner]) == configured
    assert runner.checks == 0


def test_check_usability_of_a_known_runner() -> None:
    runners = [StubRunner("a", 10, NO_AUTH), StubRunner("b", 20, READY)]
    assert check_agent_usability("a", runners) == NO_AUTH
    assert check_agent_usability("b", runners).usable


def test_check_usability_of_an_unknown_name_is_not_installed() -> None:
    result = check_agent_usability("nope", [StubRunner("a", 10, READY)])
    assert not result.installed
    assert not result.authenticated
    assert "nope" in result.auth_detail
    assert not check_agent_usability("none", []).installed


def test_check_usability_reports_a_raising_check() -> None:
    result = check_agent_usability("x", [StubRunner("x", 1, OSError("no home dir"))])
    assert not result.usable
    assert "no home dir" in result.auth_detail
