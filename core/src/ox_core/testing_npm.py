"""Real vendor CLIs for runner tests: installed once from npm into a cache, at a pinned version.

A runner plugin pins the CLI its real-CLI tests use in `tests/real-cli.json` beside them:

    {"bin": "mycli", "package": "@vendor/mycli", "version": "1.2.3", "size_mb": 120}

(`size_mb`: about how big the install is, said before downloading). Its tests read the pin
with `read_pin(path)` and get the CLI with `npm_cli(pin)` (or `real_cli_kit.npm_cli`), which
skips the test with the reason when npm is unreachable or `OX_TESTS_OFFLINE=1` is set.
`python -m ox_core.testing_npm <pin files>` installs the missing ones beforehand, saying what
and how big (ox's `scripts/test` does, with every runner plugin's pin). The cache is
`$OX_TEST_NPM_CACHE`, default `~/.cache/ox-tests/npm`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs
import pytest

NPM_CACHE = Path(os.environ.get("OX_TEST_NPM_CACHE") or "~/.cache/ox-tests/npm").expanduser()
OFFLINE_ENV = "OX_TESTS_OFFLINE"


@attrs.frozen
class NpmCli:
    """A pinned CLI: its command `bin`, the npm `package` and `version` it comes from, and
    about how many MB the install takes (`size_mb`, 0 when unknown)."""

    bin: str
    package: str
    version: str
    size_mb: int = 0

    @property
    def cache_dir(self) -> Path:
        return NPM_CACHE / f"{self.package.rsplit('/', 1)[-1]}-{self.version}"

    @property
    def binary(self) -> Path:
        return self.cache_dir / "node_modules" / ".bin" / self.bin


def read_pin(path: Path | str) -> NpmCli:
    """The pin in JSON file `path` (`bin`, `package`, `version`, optional `size_mb`)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return NpmCli(data["bin"], data["package"], data["version"], int(data.get("size_mb", 0)))


def offline() -> bool:
    """Whether `OX_TESTS_OFFLINE=1` asks to skip the real-CLI tests (nothing is downloaded)."""
    return os.environ.get(OFFLINE_ENV, "") not in ("", "0")


def install_npm_cli(pin: NpmCli) -> tuple[Path | None, str]:
    """Install `pin` into the cache unless it is there. Returns the CLI's path, or None and
    the reason it could not be installed."""
    dest, binary = pin.cache_dir, pin.binary
    if binary.exists():
        return binary, ""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        return None, "npm unreachable: node/npm is not installed"
    spec = f"{pin.package}@{pin.version}"
    tmp = dest.with_name(f"{dest.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        done = subprocess.run(
            [npm, "install", "--prefix", str(tmp), "--no-audit", "--no-fund", "--loglevel=error",
             spec],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        shutil.rmtree(tmp, ignore_errors=True)
        return None, f"npm unreachable: installing {spec} took over 10 minutes"
    if done.returncode != 0 or not (tmp / "node_modules" / ".bin" / pin.bin).exists():
        shutil.rmtree(tmp, ignore_errors=True)
        said = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        detail = " / ".join(said[:2])[:300]  # npm's first lines carry the error code
        return None, f"npm unreachable: npm install {spec} failed: {detail}"
    try:
        tmp.rename(dest)
    except OSError:  # another run installed it meanwhile
        shutil.rmtree(tmp, ignore_errors=True)
    return binary, ""


def _about(pin: NpmCli) -> str:
    return f", about {pin.size_mb} MB" if pin.size_mb else ""


def npm_cli(pin: NpmCli) -> Path:
    """The CLI of `pin`, installed once into the cache (reused while present). Skips the test,
    with the reason, under `OX_TESTS_OFFLINE=1` or when node/npm is missing or npm fails."""
    if offline():
        pytest.skip(
            f"{OFFLINE_ENV}=1: the real {pin.bin} CLI is not used "
            f"({pin.package}@{pin.version}{_about(pin)})"
        )
    binary, reason = install_npm_cli(pin)
    if binary is None:
        pytest.skip(reason)
    return binary


def _du_mb(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return round(total / 1e6)


def prefetch(pins: Iterable[NpmCli], out: Any = None) -> int:
    """Install the `pins` missing from the cache, saying what, where and how big. Returns how
    many could not be installed."""
    out = out or sys.stderr
    missing = [pin for pin in pins if not pin.binary.exists()]
    if not missing:
        return 0
    if offline():
        print(f"ox: {OFFLINE_ENV}=1: the real-CLI tests are skipped (nothing downloaded)", file=out)
        return 0
    total = sum(pin.size_mb for pin in missing)
    print(
        f"ox: the real-CLI tests need {len(missing)} npm package(s), about {total} MB, installed "
        f"once into {NPM_CACHE} (set {OFFLINE_ENV}=1 to skip those tests instead):",
        file=out,
    )
    failed = 0
    for pin in missing:
        size = f" (about {pin.size_mb} MB)" if pin.size_mb else ""
        print(f"ox:   installing {pin.package}@{pin.version}{size}…", file=out, flush=True)
        binary, reason = install_npm_cli(pin)
        if binary is None:
            failed += 1
            print(f"ox:   {reason}; its tests will be skipped", file=out)
        else:
            print(f"ox:   done: {_du_mb(pin.cache_dir)} MB", file=out)
    return failed


if __name__ == "__main__":
    raise SystemExit(1 if prefetch(read_pin(arg) for arg in sys.argv[1:]) else 0)
