"""Distribution: every package builds its own wheel; `pip install ox-core ox-runner-claude`
gives a working ox with exactly that runner; a third-party handler installs from its folder
and passes its tests with `ox_core.testing`; uninstalling or breaking a plugin never breaks ox.

Real builds (`uv build`), a real fresh virtual environment, real subprocesses.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from ox_core.testing import make_ledger

ROOT = Path(__file__).resolve().parents[1]
UV = [sys.executable, "-m", "uv"]
DISTRIBUTIONS = {
    "ox_core": "ox-core",
    "ox_runner_claude": "ox-runner-claude",
    "ox_runner_codex": "ox-runner-codex",
    "ox_runner_gemini": "ox-runner-gemini",
    "ox_session_capture": "ox-session-capture",
    "ox_handler_session_finalize": "ox-handler-session-finalize",
}
# The one declared dependency between plugins: finalization reads what capture records
# (docs/architecture.md says why).
PLUGIN_DEPENDENCIES = {"ox-handler-session-finalize": ["ox-session-capture<0.2,>=0.1"]}
# The entry-point groups each plugin distribution declares.
GROUPS = {
    "ox-runner-claude": ["ox.runners"],
    "ox-runner-codex": ["ox.runners"],
    "ox-runner-gemini": ["ox.runners"],
    "ox-session-capture": ["ox.handlers", "ox.adapters", "ox.commands", "ox.hooks"],
    "ox-handler-session-finalize": ["ox.handlers"],
}

pytestmark = pytest.mark.slow


def run(
    cmd: list[str | Path],
    *,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, cmd))} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every distribution built once per test run: the pytest workers of one run share the
    folder above their own temporary folders, and the first to come builds (under a lock)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    out = root / "ox-wheelhouse"
    with open(root / "ox-wheelhouse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / ".built").exists():
            shutil.rmtree(out, ignore_errors=True)  # a build cut short
            run([*UV, "build", "--all-packages", "--out-dir", out])
            (out / ".built").touch()
    return out


@pytest.fixture(scope="module")
def user_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A new user's environment: an empty HOME, no workspace venv on PATH."""
    home = tmp_path_factory.mktemp("home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "OX_", "UV_P"))}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_RUNTIME_DIR=str(home / "run"),
        UV_PYTHON_DOWNLOADS="never",
        GIT_AUTHOR_NAME="ox test",
        GIT_AUTHOR_EMAIL="t@example.invalid",
        GIT_COMMITTER_NAME="ox test",
        GIT_COMMITTER_EMAIL="t@example.invalid",
    )
    (home / "run").mkdir(mode=0o700)
    if "UV_CACHE_DIR" not in env:  # share uv's cache: the same wheels, no second download
        env["UV_CACHE_DIR"] = run([*UV, "cache", "dir"]).stdout.strip()
    return env


@pytest.fixture(scope="module")
def venv(
    wheelhouse: Path, user_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A fresh venv with only ox-core and ox-runner-claude, installed from the built wheels."""
    path = tmp_path_factory.mktemp("venv") / "v"
    run([*UV, "venv", "--quiet", "--python", sys.executable, path], env=user_env)
    wheels = [next(wheelhouse.glob(f"{name}-*.whl")) for name in ("ox_core", "ox_runner_claude")]
    run([*UV, "pip", "install", "--quiet", "--python", path / "bin/python", *wheels], env=user_env)
    return path


def plugins_json(venv: Path, env: dict[str, str]) -> list[dict[str, str | None]]:
    proc = subprocess.run(
        [venv / "bin/ox-core", "plugins", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    result: list[dict[str, str | None]] = json.loads(proc.stdout)
    return result


def test_every_distribution_builds_a_wheel_and_sdist_with_metadata(wheelhouse: Path) -> None:
    for module, dist in DISTRIBUTIONS.items():
        [wheel] = wheelhouse.glob(f"{module}-0.1.0-py3-none-any.whl")
        assert (wheelhouse / f"{module}-0.1.0.tar.gz").is_file()
        with zipfile.ZipFile(wheel) as zf:
            names = zf.namelist()
            meta = zf.read(f"{module}-0.1.0.dist-info/METADATA").decode()
            assert f"{module}/py.typed" in names
            if module == "ox_runner_gemini":  # without it the runner refuses to run
                assert f"{module}/no_tools.toml" in names
            assert any(n.endswith("licenses/LICENSE") for n in names), names
            entry_points = (
                zf.read(f"{module}-0.1.0.dist-info/entry_points.txt").decode()
                if f"{module}-0.1.0.dist-info/entry_points.txt" in names
                else ""
            )
        assert f"Name: {dist}\n" in meta
        assert "Requires-Python: >=3.11" in meta
        assert "License-Expression: MIT" in meta
        assert "Classifier: Programming Language :: Python :: 3" in meta
        assert "Description-Content-Type: text/markdown" in meta
        requires = [line for line in meta.splitlines() if line.startswith("Requires-Dist:")]
        if dist == "ox-core":
            assert "[console_scripts]\nox-core = ox_core.cli:main" in entry_points
        else:
            # A plugin depends on ox-core with a compatible range, and on no other plugin but
            # the declared ones.
            assert "Requires-Dist: ox-core<0.2,>=0.1" in requires
            others = [r.split(" ", 1)[1] for r in requires if r.startswith("Requires-Dist: ox-")]
            assert sorted(others) == sorted(
                ["ox-core<0.2,>=0.1", *PLUGIN_DEPENDENCIES.get(dist, [])]
            )
            for group in GROUPS[dist]:
                assert f"[{group}]\n" in entry_points


def test_core_and_claude_runner_only(venv: Path, user_env: dict[str, str]) -> None:
    listed = plugins_json(venv, user_env)
    assert [(p["group"], p["name"], p["distribution"], p["error"]) for p in listed] == [
        ("ox.runners", "claude", "ox-runner-claude", None)
    ]
    help_text = run([venv / "bin/ox-core", "--help"], env=user_env).stdout
    assert "serve" in help_text


def test_third_party_handler_installs_is_discovered_and_its_tests_pass(
    venv: Path, user_env: dict[str, str], tmp_path: Path
) -> None:
    example = ROOT / "examples" / "handler-hello"
    # A copy, so that nothing is built inside the repository.
    project = shutil.copytree(example, tmp_path / "handler-hello")
    run(
        [*UV, "pip", "install", "--quiet", "--python", venv / "bin/python", f"{project}[test]"],
        env=user_env,
    )
    listed = {(p["group"], p["name"]): p for p in plugins_json(venv, user_env)}
    assert listed[("ox.handlers", "hello")]["distribution"] == "ox-handler-hello"
    assert listed[("ox.handlers", "hello")]["error"] is None
    tests = run(
        [venv / "bin/python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        env=user_env,
        cwd=project,
    )
    assert "8 passed" in tests.stdout


def test_uninstalled_and_broken_plugins_leave_ox_working(
    venv: Path, user_env: dict[str, str], tmp_path: Path
) -> None:
    py = venv / "bin/python"
    site = Path(
        run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    )
    # A plugin whose import fails, as a real installed distribution.
    (site / "ox_broken_example.py").write_text("import vendor_sdk_that_is_missing\n")
    info = site / "ox_runner_broken-9.9.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ox-runner-broken\nVersion: 9.9\n")
    (info / "entry_points.txt").write_text("[ox.runners]\nbroken = ox_broken_example\n")
    (info / "RECORD").write_text("")
    try:
        listed = {p["name"]: p for p in plugins_json(venv, user_env)}
        assert listed["broken"]["distribution"] == "ox-runner-broken"
        assert "ModuleNotFoundError" in str(listed["broken"]["error"])
        assert listed["claude"]["error"] is None

        doctor = subprocess.run(
            [venv / "bin/ox-core", "doctor"],
            env=user_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert "broken" in doctor.stdout
        assert "vendor_sdk_that_is_missing" in doctor.stdout

        # serve starts anyway, with the healthy plugins, and stops cleanly on SIGTERM.
        log = tmp_path / "serve.log"
        with open(log, "w") as out:
            daemon = subprocess.Popen(
                [venv / "bin/ox-core", "serve"], env=user_env, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            deadline = time.monotonic() + 60
            while "ready" not in log.read_text() and time.monotonic() < deadline:
                assert daemon.poll() is None, log.read_text()
                time.sleep(0.1)
            assert "ready" in log.read_text(), log.read_text()
        finally:
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(timeout=60) == 0, log.read_text()
        assert "broken" in log.read_text()
    finally:
        shutil.rmtree(info)
        (site / "ox_broken_example.py").unlink()

    # Uninstalling the only runner leaves ox-core working.
    run([*UV, "pip", "uninstall", "--quiet", "--python", py, "ox-runner-claude"], env=user_env)
    names = [p["name"] for p in plugins_json(venv, user_env)]
    assert "claude" not in names
    run([venv / "bin/ox-core", "--help"], env=user_env)
    doctor = subprocess.run(
        [venv / "bin/ox-core", "doctor"],
        env=user_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in doctor.stdout + doctor.stderr


def test_capture_alone_brings_its_command_and_adapters(
    wheelhouse: Path, user_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`pip install ox-core ox-session-capture`: `--help` lists `session` (from metadata),
    `plugins` lists the handler, the three adapters and the command, and `session start`
    without a daemon records in-process."""
    path = tmp_path_factory.mktemp("venv-capture") / "v"
    run([*UV, "venv", "--quiet", "--python", sys.executable, path], env=user_env)
    wheels = [next(wheelhouse.glob(f"{n}-*.whl")) for n in ("ox_core", "ox_session_capture")]
    run([*UV, "pip", "install", "--quiet", "--python", path / "bin/python", *wheels], env=user_env)
    listed = sorted((p["group"], p["name"], p["error"]) for p in plugins_json(path, user_env))
    assert listed == [
        ("ox.adapters", "claude-code", None),
        ("ox.adapters", "codex", None),
        ("ox.adapters", "gemini", None),
        ("ox.commands", "hook", None),
        ("ox.commands", "hooks", None),
        ("ox.commands", "session", None),
        ("ox.handlers", "session-capture", None),
    ]
    help_text = run([path / "bin/ox-core", "--help"], env=user_env).stdout
    assert "(plugin command from ox-session-capture)" in help_text
    home = Path(user_env["HOME"])
    source = home / ".claude/projects/-p/f04c7045-b614-40b5-816d-7256c84b37f6.jsonl"
    source.parent.mkdir(parents=True)
    source.touch()
    started = run(
        [path / "bin/ox-core", "session", "start", "--adapter", "claude", "--file", source],
        env=user_env,
    ).stdout
    assert "the daemon is not running" in started


# -- no plugin at all; a fourth runner, a second handler and a command by distributions alone --


def ox(
    venv: Path, env: dict[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [venv / "bin/ox-core", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def listed_commands(help_text: str) -> list[str]:
    """The subcommands `ox-core --help` lists (indented four spaces, first word)."""
    body = help_text.split("positional arguments:", 1)[1].split("options:", 1)[0]
    return [
        line.split()[0]
        for line in body.splitlines()
        if line.startswith("    ") and line[4:5] != " "
    ]


def new_venv(wheelhouse: Path, env: dict[str, str], where: Path, *extra: str | Path) -> Path:
    path = where / "v"
    run([*UV, "venv", "--quiet", "--python", sys.executable, path], env=env)
    core = next(wheelhouse.glob("ox_core-*.whl"))
    run([*UV, "pip", "install", "--quiet", "--python", path / "bin/python", core, *extra], env=env)
    return path


def start_serve(venv: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "w") as out:
        daemon = subprocess.Popen(
            [venv / "bin/ox-core", "serve"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 60
    while "ready" not in log.read_text() and time.monotonic() < deadline:
        assert daemon.poll() is None, log.read_text()
        time.sleep(0.1)
    assert "ready" in log.read_text(), log.read_text()
    return daemon


def stop_serve(daemon: subprocess.Popen[bytes], log: Path) -> None:
    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(timeout=60) == 0, log.read_text()


def test_every_command_with_no_plugin_installed(
    wheelhouse: Path, user_env: dict[str, str], tmp_path: Path
) -> None:
    """Only the ox-core wheel: every command answers with a clear line, never a traceback."""
    venv = new_venv(wheelhouse, user_env, tmp_path)
    env = dict(user_env, OX_LEDGER=str(make_ledger(tmp_path / "l").path))
    help_text = ox(venv, env, "--help").stdout
    commands = listed_commands(help_text)
    assert {"serve", "status", "doctor", "plugins", "config", "detect", "enqueue"} <= set(commands)
    # Without a daemon first: one line each.
    for args, code, line in [
        (["status"], 1, "ox-core: error: the ox-core daemon is not running"),
        (["detect"], 1, "ox-core: error: the ox-core daemon is not running"),
    ]:
        got = ox(venv, env, *args)
        assert (got.returncode, got.stderr.strip().splitlines()[-1][: len(line)]) == (code, line)
    log = tmp_path / "serve.log"
    daemon = start_serve(venv, env, log)
    try:
        expected: dict[str, tuple[list[str], set[int], str]] = {
            "status": ([], {0}, "none"),
            "doctor": ([], {0, 1}, "no runner plugin installed"),
            "plugins": ([], {0}, "No ox plugins installed"),
            "config": (["--show"], {0}, "agent_work.max_concurrent"),
            "detect": ([], {0}, "detection queued 0 items"),
            "enqueue": (["hello"], {1}, "no handler for work type 'hello' (installed: none)"),
        }
        for command in commands:
            if command == "serve":
                continue
            assert ox(venv, env, command, "--help").returncode == 0, command
            args, codes, text = expected.get(command, ([], {0, 1, 2}, ""))
            got = ox(venv, env, command, *args)
            shown = got.stdout + got.stderr
            assert "Traceback" not in shown, (command, shown)
            assert got.returncode in codes, (command, shown)
            assert text.lower() in shown.lower(), (command, shown)
            if got.returncode == 1:  # an error is one line
                assert got.stderr.strip().splitlines()[-1].startswith("ox-core: error: "), shown
    finally:
        stop_serve(daemon, log)
    assert "Traceback" not in log.read_text()
    # Every core module imports with no plugin installed (the pytest kits need the
    # `ox-core[testing]` extra, not installed here).
    probe = (
        "import importlib, pkgutil, ox_core\n"
        "names = [m.name for m in pkgutil.walk_packages(ox_core.__path__, 'ox_core.')\n"
        "         if not m.name.startswith('ox_core.testing')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "print(len(names))\n"
    )
    assert int(run([venv / "bin/python", "-c", probe], env=env).stdout) > 20


def test_examples_add_a_runner_a_handler_and_a_command(
    wheelhouse: Path, user_env: dict[str, str], tmp_path: Path
) -> None:
    """examples/runner-echo and examples/handler-hello, installed beside the ox-core wheel and
    nothing else of ox, appear in `plugins`, `--help`, `config --show` and `doctor`; the
    daemon runs the hello handler with the echo runner, and `ox-core hello` drives it."""
    copies = [
        shutil.copytree(ROOT / "examples" / name, tmp_path / name)
        for name in ("runner-echo", "handler-hello")
    ]
    venv = new_venv(wheelhouse, user_env, tmp_path, *copies)
    ledger = make_ledger(tmp_path / "l").path
    config = tmp_path / "config.toml"
    env = dict(user_env, OX_LEDGER=str(ledger), OX_CONFIG_FILE=str(config))

    listed = {(p["group"], p["name"]): p for p in plugins_json(venv, env)}
    assert {k: (p["distribution"], p["error"]) for k, p in listed.items()} == {
        ("ox.runners", "echo"): ("ox-runner-echo", None),
        ("ox.handlers", "hello"): ("ox-handler-hello", None),
        ("ox.commands", "hello"): ("ox-handler-hello", None),
    }
    help_text = ox(venv, env, "--help").stdout
    assert "hello" in listed_commands(help_text)
    assert "(plugin command from ox-handler-hello)" in help_text
    keys = {r["key"]: r for r in json.loads(ox(venv, env, "config", "--show", "--json").stdout)}
    assert keys["runners.echo.prefix"]["owner"] == "ox-runner-echo"
    assert keys["handlers.hello.greeting"]["default"] == '"Hello"'

    doctor = json.loads(ox(venv, env, "doctor", "--json").stdout)
    assert doctor["agent"] == "echo"
    assert [(r["name"], r["installed"], r["authenticated"]) for r in doctor["runners"]] == [
        ("echo", True, True)
    ]
    assert [(h["type"], h["error"]) for h in doctor["handlers"]] == [("hello", None)]

    # The handler's own options, validated with the key named.
    config.write_text('[handlers.hello]\ngreeting = ""\n')
    doctor = json.loads(ox(venv, env, "doctor", "--json").stdout)
    [row] = doctor["handlers"]
    assert row["error"].startswith("invalid settings: handlers.hello.greeting: String should")
    config.write_text('[handlers.hello]\ngreeting = "Hi"\n\n[runners.echo]\nprefix = "> "\n')

    # The command, then the daemon: the echo agent answers the hello request.
    asked = ox(venv, env, "hello", "alice")
    assert asked.stdout.splitlines() == [
        "asked: hello/alice.txt",
        "the daemon is not running: it answers at its next start",
    ]
    log = tmp_path / "serve.log"
    daemon = start_serve(venv, env, log)
    try:
        reply = ledger / "hello" / "alice.reply"
        deadline = time.monotonic() + 60
        while not reply.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert reply.read_text() == "> Write a one-line friendly greeting for alice.\n"
        asked = ox(venv, env, "hello", "bob", "--text", "")
        assert asked.stdout.splitlines() == ["asked: hello/bob.txt", "the daemon queued 1 item(s)"]
        bob = ledger / "hello" / "bob.reply"
        deadline = time.monotonic() + 60
        while not bob.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert bob.read_text() == "Hi, whoever you are!\n"  # the option, no agent run
    finally:
        stop_serve(daemon, log)
    bad = ox(venv, env, "hello", "../etc")
    assert (bad.returncode, bad.stderr.strip()) == (
        1,
        "ox-core: error: hello: '../etc' is not a plain name (letters, digits, - and _)",
    )


def test_help_imports_no_plugin_with_every_plugin_installed(
    wheelhouse: Path, user_env: dict[str, str], tmp_path: Path
) -> None:
    """Every distribution's wheel and both examples in one venv: `ox-core --help` lists the
    plugin commands from metadata and imports no plugin module. (How fast it is, is measured
    by `benchmarks/startup.py`, not asserted here: a loaded machine would fail a timed test.)"""
    wheels = [w for w in wheelhouse.glob("*.whl") if not w.name.startswith("ox_core-")]
    examples = [ROOT / "examples" / name for name in ("runner-echo", "handler-hello")]
    copies = [shutil.copytree(e, tmp_path / e.name) for e in examples]
    venv = new_venv(wheelhouse, user_env, tmp_path, *wheels, *copies)
    assert "hello" in listed_commands(ox(venv, user_env, "--help").stdout)
    probe = (
        "import sys\nfrom ox_core.cli import main\ntry:\n    main(['--help'])\n"
        "except SystemExit:\n    pass\n"
        "print([m for m in sys.modules if m.startswith('ox_') and not m.startswith('ox_core')])\n"
    )
    out = run([venv / "bin/python", "-c", probe], env=user_env).stdout
    assert out.strip().splitlines()[-1] == "[]"
