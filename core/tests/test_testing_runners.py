"""The real-CLI kit's download rules: `OX_TESTS_OFFLINE=1` skips with a clear reason and
downloads nothing; otherwise what is missing is announced with its size before it is fetched."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ox_core import testing_npm
from ox_core.testing_npm import NpmCli, npm_cli, prefetch, read_pin

PINS = [
    NpmCli("alpha", "@vendor/alpha-cli", "1.2.3", 300),
    NpmCli("beta", "beta-cli", "0.9.0", 40),
    NpmCli("gamma", "@other/gamma", "2.0.0", 60),
]


def test_offline_skips_the_real_cli_tests_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OX_TESTS_OFFLINE", "1")
    monkeypatch.setattr(testing_npm, "NPM_CACHE", tmp_path / "npm")
    with pytest.raises(pytest.skip.Exception) as skipped:
        npm_cli(PINS[0])
    assert str(skipped.value) == (
        "OX_TESTS_OFFLINE=1: the real alpha CLI is not used (@vendor/alpha-cli@1.2.3, about 300 MB)"
    )
    out = io.StringIO()
    assert prefetch(PINS, out) == 0
    assert "OX_TESTS_OFFLINE=1: the real-CLI tests are skipped (nothing downloaded)" in (
        out.getvalue()
    )
    assert not (tmp_path / "npm").exists()


def test_prefetch_says_what_it_downloads_and_how_big(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OX_TESTS_OFFLINE", raising=False)
    monkeypatch.setattr(testing_npm, "NPM_CACHE", tmp_path / "npm")
    fetched: list[str] = []

    def install(pin: NpmCli) -> tuple[Path | None, str]:
        fetched.append(f"{pin.package}@{pin.version}")
        return None, "npm unreachable: no network here"

    monkeypatch.setattr(testing_npm, "install_npm_cli", install)
    out = io.StringIO()
    assert prefetch(PINS, out) == len(PINS)
    text = out.getvalue()
    total = sum(pin.size_mb for pin in PINS)
    assert f"need 3 npm package(s), about {total} MB, installed once into {tmp_path / 'npm'}" in (
        text
    )
    for pin in PINS:
        assert f"installing {pin.package}@{pin.version} (about {pin.size_mb} MB)…" in text
    assert text.count("npm unreachable: no network here; its tests will be skipped") == 3
    assert fetched == [f"{pin.package}@{pin.version}" for pin in PINS]

    # Once cached, nothing is said and nothing fetched.
    for pin in PINS:
        pin.binary.parent.mkdir(parents=True)
        pin.binary.touch()
    assert (tmp_path / "npm" / "alpha-cli-1.2.3" / "node_modules" / ".bin" / "alpha").exists()
    out = io.StringIO()
    assert prefetch(PINS, out) == 0
    assert out.getvalue() == ""


def test_every_runner_plugin_pins_its_cli_beside_its_tests() -> None:
    root = Path(__file__).resolve().parents[2]
    pins = [read_pin(path) for path in sorted(root.glob("plugins/runner-*/tests/real-cli.json"))]
    assert len(pins) >= 3
    for pin in pins:
        assert pin.bin
        assert pin.package
        assert pin.version[0].isdigit()
        assert pin.size_mb > 0
