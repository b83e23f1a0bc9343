"""Bad configuration and environment values: one clear line naming the key, never a traceback.

Every case runs the real `ox-core` command in a new user's environment: special files as
the config file are refused by type before a byte is read, unparsable JSON in a table-valued
variable names the variable, an empty or relative `OX_LEDGER` is an error (never the project
the command happens to run in), and a broken ledger (`.ox/cache` a file, read-only, not an
ox ledger) stops `ox-core serve` at start-up with one line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ox_core.testing import make_ledger


@pytest.fixture
def home() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="oxb") as d:
        (Path(d) / "xdg").mkdir(mode=0o700)
        yield Path(d)


def base_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
    env.update(HOME=str(home), XDG_RUNTIME_DIR=str(home / "xdg"), PATH="/usr/bin:/bin", **extra)
    return env


def ox(
    env: dict[str, str], *args: str, cwd: Path | str = "/", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ox_core.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


def the_error(result: subprocess.CompletedProcess[str]) -> str:
    """The one `ox-core: error:` line, after checking the exit code and the absence of a
    traceback (`serve` may log lines before it)."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("ox-core: error: ")]
    assert errors == [lines[-1]], result.stderr
    return errors[0]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("OX_AGENT_WORK", "{not json", "OX_AGENT_WORK: not a JSON object"),
        ("OX_AGENT_WORK", "[1, 2]", "OX_AGENT_WORK: must be a JSON object"),
        ("OX_RUNNERS", "nope", "OX_RUNNERS: not a JSON object"),
        ("OX_HANDLERS", '{"x": ', "OX_HANDLERS: not a JSON object"),
        pytest.param(
            "OX_SYNC",
            "[" * 100_000 + "]" * 100_000,
            "OX_SYNC: not a JSON object (nested too deeply)",
            id="OX_SYNC-nested-beyond-reason",
        ),
        pytest.param(
            "OX_AGENT_WORK",
            '{"max_concurrent": ' + "9" * 5000 + "}",
            "OX_AGENT_WORK: not a JSON object (a number has more than 4300 digits)",
            id="OX_AGENT_WORK-number-too-long",
        ),
        ("OX_AGENT_WORK__MAX_CONCURRENT", "lots", "agent_work.max_concurrent"),
        ("OX_AGENT_WORK__MAX_CONCURRENT", "0", "(from env OX_AGENT_WORK__MAX_CONCURRENT)"),
        ("OX_LOG_LEVEL", "LOUD", "(from env OX_LOG_LEVEL)"),
        ("OX_LEDGER", "", "ledger: is empty: unset it to use the default (from env OX_LEDGER)"),
        ("OX_LEDGER", "projects/x", "'projects/x' is a relative path"),
        ("OX_LEDGER", "~no-such-user-ox/l", "(from env OX_LEDGER)"),
        ("OX_SOCKET", "", "socket: is empty"),
        ("OX_SOCKET", "ox.sock", "(from env OX_SOCKET)"),
        ("OX_CONFIG_FILE", "", "OX_CONFIG_FILE: is empty"),
        ("OX_CONFIG_FILE", "config.toml", "OX_CONFIG_FILE: 'config.toml' is a relative path"),
        ("OX_CONFIG_FILE", "/dev/zero", "(from OX_CONFIG_FILE) is not a regular file"),
        ("OX_CONFIG_FILE", "/dev/null", "(from OX_CONFIG_FILE) is not a regular file"),
        ("OX_CONFIG_FILE", "/", "(from OX_CONFIG_FILE) is not a regular file"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_key(
    home: Path,
    key: str,
    value: str,
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Through the CLI's `main` in this process (fast); the next test runs the processes."""
    from ox_core.cli import main

    for name in list(os.environ):
        if name.startswith(("OX_", "XDG_")):
            monkeypatch.delenv(name)
    for name, val in base_env(home, **{key: value}).items():
        monkeypatch.setenv(name, val)
    monkeypatch.chdir("/")
    for command in ("status", "serve", "doctor"):
        assert main([command]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        assert err.startswith("ox-core: error: ")
        assert expected in err
    assert not (home / ".local" / "share" / "ox" / "ledger").exists()  # nothing created


@pytest.mark.parametrize(
    ("key", "value"),
    [("OX_AGENT_WORK", "{not json"), ("OX_CONFIG_FILE", "/dev/zero"), ("OX_LEDGER", "")],
)
def test_the_commands_exit_non_zero_with_one_line(home: Path, key: str, value: str) -> None:
    for command in ("status", "serve"):
        line = the_error(ox(base_env(home, **{key: value}), command))
        assert key in line
    assert not (home / ".local" / "share" / "ox" / "ledger").exists()


def test_a_fifo_or_huge_config_file_is_refused_without_reading(home: Path) -> None:
    fifo = home / "config.toml"
    os.mkfifo(fifo)  # opening it for reading would block forever without a writer
    line = the_error(ox(base_env(home, OX_CONFIG_FILE=str(fifo)), "status", timeout=20))
    assert f"config file {fifo} (from OX_CONFIG_FILE) is not a regular file" in line
    fifo.unlink()
    fifo.write_bytes(b"# " + b"x" * (1024 * 1024) + b"\n")
    line = the_error(ox(base_env(home, OX_CONFIG_FILE=str(fifo)), "status"))
    assert "bytes, over the 1048576 allowed" in line
    fifo.write_bytes(b"\xff\xfe = 1\n")
    assert "is not UTF-8 text" in the_error(ox(base_env(home, OX_CONFIG_FILE=str(fifo)), "status"))
    fifo.write_bytes(b"a = " + b"[" * 100_000 + b"]" * 100_000 + b"\n")
    line = the_error(ox(base_env(home, OX_CONFIG_FILE=str(fifo)), "status"))
    assert "is not valid TOML: nested too deeply" in line


@pytest.mark.parametrize("key", ["socket", "ledger"])
def test_a_path_with_a_nul_byte_in_the_config_file_is_one_line(home: Path, key: str) -> None:
    """TOML can spell a NUL byte (`\\u0000`), which no path can hold: the key is refused
    by name (the fast path of `status --json` too), never a traceback."""
    config = home / "config.toml"
    config.write_text(f'{key} = "{home}/a\\u0000b/x"\n')
    env = base_env(home, OX_CONFIG_FILE=str(config))
    for command in (["status"], ["status", "--json"], ["serve"], ["doctor"]):
        line = the_error(ox(env, *command))
        assert f"{key}: holds a NUL byte" in line, line


def test_a_number_too_long_to_read_in_the_config_file_is_one_line(home: Path) -> None:
    """TOML puts no bound on an integer's digits; Python reads at most 4300 of them."""
    config = home / "config.toml"
    config.write_text("[agent_work]\nmax_concurrent = " + "9" * 5000 + "\n")
    env = base_env(home, OX_CONFIG_FILE=str(config))
    for command in (["status"], ["status", "--json"], ["serve"], ["doctor"]):
        line = the_error(ox(env, *command))
        assert line.endswith(
            f"config file {config} (from OX_CONFIG_FILE) is not valid TOML: "
            "a number has more than 4300 digits"
        ), line


def test_an_empty_ox_ledger_inside_a_project_clone_adopts_nothing(home: Path) -> None:
    """The project the command runs in is never taken for the ledger."""
    project = make_ledger(home / "proj").path  # a git clone with a remote, like any project
    (project / ".gitignore").write_text("build/\n")
    before = sorted(p.name for p in project.iterdir())
    for value in ("", "."):
        line = the_error(ox(base_env(home, OX_LEDGER=value), "serve", cwd=project))
        assert "(from env OX_LEDGER)" in line
    assert sorted(p.name for p in project.iterdir()) == before  # no .ox/ written
    # named absolutely, it is still refused: it is not marked as an ox ledger
    line = the_error(ox(base_env(home, OX_LEDGER=str(project)), "serve"))
    assert f"the ledger {project} is a git repository but not an ox ledger" in line
    assert sorted(p.name for p in project.iterdir()) == before
    doctor = ox(base_env(home, OX_LEDGER=str(project)), "doctor", "--json")
    assert doctor.returncode == 1
    assert "not an ox ledger" in json.loads(doctor.stdout)["ledger"]["state"]


def test_a_file_in_place_of_the_cache_is_one_line_at_start(home: Path) -> None:
    ledger = make_ledger(home / "team").path
    (ledger / ".ox").mkdir()
    (ledger / ".ox" / "cache").write_text("in the way")
    line = the_error(ox(base_env(home, OX_LEDGER=str(ledger)), "serve"))
    cache = ledger / ".ox" / "cache"
    assert line == f"ox-core: error: {cache} is not a directory: remove the file in the way"
    (ledger / ".ox" / "cache").unlink()
    (ledger / ".ox" / "cache").symlink_to(home)
    line = the_error(ox(base_env(home, OX_LEDGER=str(ledger)), "serve"))
    assert "is a symbolic link; ox does not follow links in the ledger" in line
    (ledger / ".ox" / "cache").unlink()
    (ledger / ".ox").rmdir()
    (ledger / ".ox").symlink_to(home)  # a teammate can commit `.ox` as a link
    line = the_error(ox(base_env(home, OX_LEDGER=str(ledger)), "serve"))
    assert f"{ledger / '.ox'} is a symbolic link" in line
    assert not (home / "cache").exists()


def _can_mount_read_only() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        [
            "unshare",
            "-m",
            "sh",
            "-c",
            "mount --bind -o ro / / 2>/dev/null || mount -o remount,bind,ro / /",
        ],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_read_only(), reason="needs a private read-only bind mount")
@pytest.mark.parametrize("with_cache", [False, True])
def test_a_read_only_ledger_is_one_line_at_start(home: Path, with_cache: bool) -> None:
    """The ledger is bind-mounted read-only in a private mount namespace (root bypasses
    permission bits, not a read-only mount)."""
    ledger = make_ledger(home / "team").path
    if with_cache:
        (ledger / ".ox" / "cache").mkdir(parents=True)
    script = (
        f"mount --bind {ledger} {ledger} && mount -o remount,bind,ro {ledger} && "
        f'exec "$0" -m ox_core.cli serve'
    )
    result = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, sys.executable],
        env=base_env(home, OX_LEDGER=str(ledger)),
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )
    line = the_error(result)
    assert str(ledger) in line
    assert "not writable" in line or "Read-only file system" in line


@pytest.mark.parametrize("value", ["0.001", "1e-300"])
def test_a_sync_interval_under_a_second_is_refused(home: Path, value: str) -> None:
    """Each sync fetches from the team's remote: a tiny interval would fetch back to back
    for ever, so it is one line naming the key, not a busy loop against the server."""
    line = the_error(ox(base_env(home, OX_SYNC__INTERVAL=value), "status"))
    assert "sync.interval: Input should be greater than or equal to 1" in line
    assert "(from env OX_SYNC__INTERVAL)" in line


@pytest.mark.parametrize("value", ["inf", "1e308", "86401"])
def test_an_agent_timeout_that_never_ends_is_refused(home: Path, value: str) -> None:
    """A run timeout of `inf` would never stop a hung agent: its slot, and every item
    behind it, would wait for ever."""
    line = the_error(ox(base_env(home, OX_AGENT_WORK__TIMEOUT=value), "status"))
    assert "agent_work.timeout: Input should be less than or equal to 86400" in line
    assert "(from env OX_AGENT_WORK__TIMEOUT)" in line


@pytest.mark.parametrize(("key", "value"), [("timeout", "inf"), ("grace", "1e308")])
def test_a_runner_timeout_or_grace_that_never_ends_is_refused(key: str, value: str) -> None:
    from ox_core.cli_runner import CliRunnerOptions
    from ox_core.config import validate_options
    from ox_core.errors import ConfigError

    with pytest.raises(ConfigError, match=f"{key}: Input should be less than or equal to"):
        validate_options(CliRunnerOptions, {key: float(value)}, "runners.claude")
