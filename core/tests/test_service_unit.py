"""`ox-core service install`: the systemd user unit, written atomically where systemd looks."""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ox_core import service
from ox_core.errors import OxError


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config"


def fake_systemctl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exit_code: int = 0) -> Path:
    """A `systemctl` on PATH that logs its arguments (a real executable, not a mock object)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "systemctl.log"
    script = bin_dir / "systemctl"
    script.write_text(
        f'#!/bin/sh\necho "$@" >> {shlex.quote(str(log))}\n'
        f'[ {exit_code} -eq 0 ] || echo "Failed to connect to bus" >&2\nexit {exit_code}\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def test_install_writes_a_user_unit_running_this_ox_core(config_home: Path) -> None:
    path = service.install(extra_args=["--log-format", "json"])
    assert path == config_home / "systemd" / "user" / "ox-core.service"
    text = path.read_text()
    exec_start = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    argv = shlex.split(exec_start.removeprefix("ExecStart="))
    assert Path(argv[0]).is_absolute()
    assert Path(argv[0]).exists()
    assert argv[-3:] == ["serve", "--log-format", "json"]
    for needed in (
        "[Unit]",
        "[Service]",
        "[Install]",
        "Restart=on-failure",
        "KillSignal=SIGTERM",
        "WantedBy=default.target",
    ):
        assert needed in text
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in path.parent.iterdir()] == ["ox-core.service"]  # no temp file left


def test_install_twice_replaces_and_uninstall_removes(config_home: Path) -> None:
    first = service.install()
    second = service.install(extra_args=["--debug"])
    assert first == second
    assert "serve --debug" in second.read_text()
    assert service.uninstall() == second
    assert not second.exists()
    assert service.uninstall() is None


def test_enable_runs_systemctl_user(
    config_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = fake_systemctl(tmp_path, monkeypatch)
    service.install(enable=True)
    assert log.read_text().splitlines() == [
        "--user daemon-reload",
        "--user enable --now ox-core.service",
    ]


def test_systemctl_failure_is_one_clear_error(
    config_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_systemctl(tmp_path, monkeypatch, exit_code=1)
    with pytest.raises(OxError, match="daemon-reload failed: Failed to connect to bus"):
        service.install(enable=True)
    # The unit file is written all the same: enabling can be retried by hand.
    assert (config_home / "systemd" / "user" / "ox-core.service").is_file()


def test_unwritable_config_dir_is_an_ox_error(config_home: Path) -> None:
    config_home.mkdir()
    (config_home / "systemd").write_text("a file where a folder should be")
    with pytest.raises(OxError, match="cannot write"):
        service.install()


def test_cli_service_install_and_uninstall(
    config_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ox_core.cli import main

    assert main(["service", "install", "--", "--log-format", "json"]) == 0
    unit = config_home / "systemd" / "user" / "ox-core.service"
    assert "serve --log-format json\n" in unit.read_text()
    out = capsys.readouterr().out
    assert f"wrote {unit}" in out
    assert "systemctl --user enable --now ox-core" in out
    assert main(["service", "uninstall"]) == 0
    assert not unit.exists()
    assert main(["service", "uninstall"]) == 0
    assert "no ox-core unit file was installed" in capsys.readouterr().out


def other_ox_core_first_on_path(tmp_path: Path) -> dict[str, str]:
    """The environment of a user with another installation's `ox-core` first on PATH."""
    other = tmp_path / "other-bin"
    other.mkdir()
    script = other / "ox-core"
    script.write_text("#!/bin/sh\necho another installation\n")
    script.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["PATH"] = f"{other}{os.pathsep}{env.get('PATH', '')}"
    return env


def exec_start_argv(tmp_path: Path) -> list[str]:
    text = (tmp_path / "config" / "systemd" / "user" / "ox-core.service").read_text()
    line = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart="))


def test_the_unit_runs_the_ox_core_that_installed_it_not_one_on_path(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "ox-core"  # this environment's console script
    if not script.is_file():
        pytest.skip(f"no ox-core script beside {sys.executable}")
    env = other_ox_core_first_on_path(tmp_path)
    subprocess.run([str(script), "service", "install"], env=env, check=True, timeout=60)
    assert exec_start_argv(tmp_path) == [str(script.resolve()), "serve"]


def test_the_unit_of_python_m_runs_the_same_python(tmp_path: Path) -> None:
    env = other_ox_core_first_on_path(tmp_path)
    command = [sys.executable, "-m", "ox_core.cli", "service", "install"]
    subprocess.run(command, env=env, check=True, timeout=60)
    assert exec_start_argv(tmp_path) == [sys.executable, "-m", "ox_core.cli", "serve"]
