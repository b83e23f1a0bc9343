"""Plugins that register badly: each is reported by name with what is wrong, and never stops
the others from loading nor the daemon's ordering of runners (`runners_by_priority`)."""

from __future__ import annotations

import types
from collections.abc import Callable
from pathlib import Path

import pytest

from ox_core import hookimpl, load_plugins
from ox_core.mock import MockRunner
from ox_core.plugins import LoadedPlugins
from ox_core.testing import install_runner_plugin


class GoodRunner(MockRunner):
    name = "good"
    priority = 5


class WordyRunner(MockRunner):
    name = "wordy"
    priority = "high"  # type: ignore[assignment]  # what a careless plugin writes


def plugin(**hooks: Callable[..., None]) -> types.SimpleNamespace:
    return types.SimpleNamespace(**{name: hookimpl(fn) for name, fn in hooks.items()})


def make_plugins(*plugins: object) -> LoadedPlugins:
    return load_plugins(entry_points=False, extra=[(f"p{i}", p) for i, p in enumerate(plugins)])


def test_a_runner_whose_priority_is_not_a_number_is_reported() -> None:
    loaded = make_plugins(
        plugin(ox_register_runners=lambda register: register(GoodRunner)),
        plugin(ox_register_runners=lambda register: register(WordyRunner)),
    )
    # The daemon, doctor and agent resolution all sort runners by priority: one runner's
    # string priority must not make that sort raise for everyone.
    assert loaded.runners_by_priority() == [GoodRunner]
    assert [(e.name, e.error) for e in loaded.errors] == [
        ("p1", "runner class WordyRunner has a priority that is not a number: 'high'")
    ]


def test_a_hookimpl_with_a_misspelled_hook_name_is_reported() -> None:
    loaded = make_plugins(
        plugin(ox_register_runner=lambda register: register(GoodRunner)),  # no `s`
    )
    assert dict(loaded.runners) == {}
    assert [(e.name, e.error) for e in loaded.errors] == [
        ("p0", "implements ox_register_runner, which is not an ox hook")
    ]


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("import sys\nassert sys.version_info < (3,), 'needs python 2'\n", "needs python 2"),
        ("import sys\nsys.exit('this plugin cannot run here')\n", "this plugin cannot run here"),
    ],
    ids=["assert", "sys.exit"],
)
def test_a_plugin_module_failing_an_assert_or_exiting_at_import_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str, error: str
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install_runner_plugin(site, "ox-runner-picky", "ox_test_picky_plugin", code)
    install_runner_plugin(
        site,
        "ox-runner-fine",
        "ox_test_fine_plugin",
        """
        from ox_core import hookimpl
        from ox_core.mock import MockRunner

        class FineRunner(MockRunner):
            name = "fine-test-runner"

        @hookimpl
        def ox_register_runners(register):
            register(FineRunner)
        """,
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    loaded = load_plugins()

    picky = [e for e in loaded.errors if e.name == "ox-runner-picky"]
    assert [(e.distribution, e.version, e.error.split(": ", 1)[1]) for e in picky] == [
        ("ox-runner-picky", "1.0.0", error)
    ]
    assert "fine-test-runner" in loaded.runners
