"""The real-CLI kit's download rules: `OX_TESTS_OFFLINE=1` skips with a clear reason and
downloads nothing; otherwise what is missing is announced with its size before it is fetched."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ox_core import testing_runners
from ox_core.testing_runners import REAL_CLIS, npm_cli, prefetch


def test_offline_skips_the_real_cli_tests_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OX_TESTS_OFFLINE", "1")
    monkeypatch.setattr(testing_runners, "NPM_CACHE", tmp_path / "npm")
    package, version, size = REAL_CLIS["claude"]
    with pytest.raises(pytest.skip.Exception) as skipped:
        npm_cli(package, version, "claude")
    assert str(skipped.value) == (
        f"OX_TESTS_OFFLINE=1: the real claude CLI is not used "
        f"({package}@{version}, about {size} MB)"
    )
    out = io.StringIO()
    assert prefetch(out) == 0
    assert "OX_TESTS_OFFLINE=1: the real-CLI tests are skipped (nothing downloaded)" in (
        out.getvalue()
    )
    assert not (tmp_path / "npm").exists()


def test_prefetch_says_what_it_downloads_and_how_big(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OX_TESTS_OFFLINE", raising=False)
    monkeypatch.setattr(testing_runners, "NPM_CACHE", tmp_path / "npm")
    fetched: list[str] = []

    def install(package: str, version: str, bin_name: str) -> tuple[Path | None, str]:
        fetched.append(f"{package}@{version}")
        return None, "npm unreachable: no network here"

    monkeypatch.setattr(testing_runners, "install_npm_cli", install)
    out = io.StringIO()
    assert prefetch(out) == len(REAL_CLIS)
    text = out.getvalue()
    total = sum(mb for *_, mb in REAL_CLIS.values())
    assert f"need 3 npm package(s), about {total} MB, installed once into {tmp_path / 'npm'}" in (
        text
    )
    for package, version, size in REAL_CLIS.values():
        assert f"installing {package}@{version} (about {size} MB)…" in text
    assert text.count("npm unreachable: no network here; its tests will be skipped") == 3
    assert fetched == [f"{p}@{v}" for p, v, _ in REAL_CLIS.values()]

    # Once cached, nothing is said and nothing fetched.
    for bin_name, (package, version, _) in REAL_CLIS.items():
        cli = tmp_path / "npm" / f"{package.rsplit('/', 1)[-1]}-{version}" / "node_modules"
        (cli / ".bin").mkdir(parents=True)
        (cli / ".bin" / bin_name).touch()
    out = io.StringIO()
    assert prefetch(out) == 0
    assert out.getvalue() == ""
