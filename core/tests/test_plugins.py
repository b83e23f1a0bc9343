"""Plugin loading: isolation of broken plugins, registration checks, entry-point discovery."""

from __future__ import annotations

import textwrap
import types
from collections.abc import Callable
from pathlib import Path

import pytest

from ox_core import (
    AgentUsability,
    Runner,
    RunRequest,
    RunResult,
    hookimpl,
    load_plugins,
)
from ox_core.plugins import LoadedPlugins, list_entry_points
from ox_core.testing import IdleHandler


class FakeRunner(Runner):
    name = "fake"
    priority = 5

    def available(self) -> bool:
        return True

    def usability(self) -> AgentUsability:
        return AgentUsability(True, True)

    async def run(self, request: RunRequest) -> RunResult:
        return RunResult(output=request.prompt)


class OtherRunner(FakeRunner):
    name = "other"
    priority = 1


class FakeHandler(IdleHandler):
    type = "fake-work"


def plugin(**hooks: Callable[..., None]) -> types.SimpleNamespace:
    return types.SimpleNamespace(**{name: hookimpl(fn) for name, fn in hooks.items()})


def make_plugins(*plugins: object) -> LoadedPlugins:
    return load_plugins(entry_points=False, extra=[(f"p{i}", p) for i, p in enumerate(plugins)])


def test_inline_plugins_register_classes_and_order_by_priority() -> None:
    loaded = make_plugins(
        plugin(ox_register_runners=lambda register: (register(FakeRunner), register(OtherRunner))),
        plugin(ox_register_handlers=lambda register: register(FakeHandler)),
    )
    assert loaded.errors == ()
    assert dict(loaded.runners) == {"fake": FakeRunner, "other": OtherRunner}
    assert dict(loaded.handlers) == {"fake-work": FakeHandler}
    assert loaded.runners_by_priority() == [OtherRunner, FakeRunner]


def test_bad_registrations_are_reported_and_the_rest_load() -> None:
    def raises(register: Callable[[type[Runner]], None]) -> None:
        raise RuntimeError("boom in hook")

    loaded = make_plugins(
        plugin(ox_register_runners=lambda register: register(FakeRunner)),
        plugin(ox_register_runners=lambda register: register(FakeRunner)),  # duplicate name
        plugin(ox_register_runners=lambda register: register(dict)),  # not a Runner
        plugin(ox_register_runners=raises),
        plugin(ox_register_handlers=lambda register: register(FakeRunner)),  # wrong kind
        plugin(ox_register_handlers=lambda register: register(FakeHandler)),
    )
    assert dict(loaded.runners) == {"fake": FakeRunner}
    assert dict(loaded.handlers) == {"fake-work": FakeHandler}
    errors = {e.name: e.error for e in loaded.errors}
    assert errors == {
        "p1": "runner name 'fake' is already taken",
        "p2": "registered <class 'dict'>, which is not a Runner subclass",
        "p3": "ox_register_runners raised RuntimeError: boom in hook",
        "p4": f"registered {FakeRunner!r}, which is not a WorkHandler subclass",
    }


def test_hookimpl_with_wrong_signature_is_rejected_by_pluggy() -> None:
    loaded = make_plugins(
        plugin(ox_register_runners=lambda register, extra: None),
        plugin(ox_register_handlers=lambda register: register(FakeHandler)),
    )
    assert [e.name for e in loaded.errors] == ["p0"]
    assert "PluginValidationError" in loaded.errors[0].error
    assert dict(loaded.handlers) == {"fake-work": FakeHandler}


def _fake_distribution(site: Path, dist: str, entry_points: str) -> None:
    info = site / f"{dist}-1.2.3.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))


def test_broken_entry_point_is_reported_with_distribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    broken = "raise ImportError('no module named vendor_sdk')\n"
    (site / "ox_test_broken_plugin.py").write_text(broken)
    (site / "ox_test_good_plugin.py").write_text(
        textwrap.dedent(
            """
            from ox_core import hookimpl
            from ox_core.mock import MockRunner

            class GoodRunner(MockRunner):
                name = "good-test-runner"

            @hookimpl
            def ox_register_runners(register):
                register(GoodRunner)
            """
        )
    )
    _fake_distribution(
        site, "ox_runner_broken", "[ox.runners]\nbroken-test = ox_test_broken_plugin\n"
    )
    _fake_distribution(site, "ox_runner_good", "[ox.runners]\ngood-test = ox_test_good_plugin\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # stevedore's entry-point cache

    listed = {p.name: p for p in list_entry_points()}
    assert listed["broken-test"].distribution == "ox_runner_broken"
    assert listed["broken-test"].version == "1.2.3"

    loaded = load_plugins()
    broken = [e for e in loaded.errors if e.name == "broken-test"]
    assert len(broken) == 1
    assert broken[0].distribution == "ox_runner_broken"
    assert broken[0].version == "1.2.3"
    assert broken[0].group == "ox.runners"
    assert broken[0].error == "ImportError: no module named vendor_sdk"
    assert "good-test-runner" in loaded.runners
