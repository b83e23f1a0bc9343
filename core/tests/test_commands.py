"""Plugin commands (entry-point group `ox.commands`): listed by `--help` from metadata alone,
imported only when run, and a broken one is one clear line that breaks nothing else.

Each test installs a small distribution into a temporary folder on `PYTHONPATH` (a module and
its `.dist-info`) and runs `ox-core` in a real subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ox_core.cli import build_parser
from ox_core.commands import command_word

HELLO = """
import sys
from ox_core.commands import Command

class Hello(Command):
    help = "say hello to someone"

    def add_arguments(self, parser):
        parser.add_argument("who")
        parser.add_argument("--shout", action="store_true")

    def run(self, args, ctx):
        text = f"hello {args.who}"
        ctx.print(text.upper() if args.shout else text)
        return 3

hello = Hello()
not_a_command = object()
"""


def install(site: Path, dist: str, entry_points: str, modules: dict[str, str]) -> None:
    for name, text in modules.items():
        (site / f"{name}.py").write_text(textwrap.dedent(text))
    info = site / f"{dist.replace('-', '_')}-9.9.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 9.9\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))


@pytest.fixture
def site(tmp_path: Path, env: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    install(
        site,
        "ox-cmd-example",
        """
        [ox.commands]
        hello = ox_cmd_example:hello
        broken = ox_cmd_missing_module:cmd
        notcmd = ox_cmd_example:not_a_command
        status = ox_cmd_example:hello
        """,
        {"ox_cmd_example": HELLO},
    )
    return site


def ox(site: Path, *args: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    environ = dict(os.environ, PYTHONPATH=str(site), COLUMNS="100")
    cmd = [sys.executable, "-c", code] if code else [sys.executable, "-m", "ox_core.cli", *args]
    return subprocess.run(cmd, env=environ, capture_output=True, text=True, timeout=60)


def test_help_lists_plugin_commands_without_importing_them(site: Path) -> None:
    code = (
        "import sys\n"
        "from ox_core.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('ox_cmd_', 'ox_session'))))\n"
    )
    proc = ox(site, code=code)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-1] == "[]"  # neither the example nor any installed plugin was imported
    text = "\n".join(lines)
    assert "hello" in text
    assert "plugin command from ox-cmd-example" in text
    assert "session" in text  # the capture plugin's, listed from metadata too


def test_help_survives_broken_metadata_of_other_distributions(site: Path) -> None:
    """Installed metadata is outside ox's control: an `entry_points.txt` that is not UTF-8,
    one that is a folder, and a section with junk lines never stop `--help`."""
    garbage = site / "garbage-1.0.dist-info"
    garbage.mkdir()
    (garbage / "entry_points.txt").write_bytes(b"[ox.commands]\nbad\xff\xfe = x:y\n\x00\x01\n")
    folder = site / "folder-1.0.dist-info"
    (folder / "entry_points.txt").mkdir(parents=True)
    install(site, "ox-junk", "[ox.commands]\n# a comment\nno equals sign\n", {})
    proc = ox(site, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "plugin command from ox-cmd-example" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_a_plugin_command_runs_with_its_own_arguments(site: Path) -> None:
    proc = ox(site, "--log-format", "json", "hello", "world", "--shout")
    assert (proc.returncode, proc.stdout, proc.stderr) == (3, "HELLO WORLD\n", "")
    proc = ox(site, "hello", "--help")
    assert proc.returncode == 0
    assert "say hello to someone" in proc.stdout
    assert "--shout" in proc.stdout


@pytest.mark.parametrize(
    ("command", "why"),
    [
        ("broken", r"ModuleNotFoundError: No module named 'ox_cmd_missing_module'"),
        ("notcmd", "ox_cmd_example:not_a_command is not an ox_core.commands.Command instance"),
    ],
)
def test_a_broken_command_is_one_clear_line(site: Path, command: str, why: str) -> None:
    proc = ox(site, command, "anything")
    assert proc.returncode == 1
    assert proc.stdout == ""
    [line] = proc.stderr.splitlines()
    assert line.startswith(f"ox-core: error: command {command!r} (from ox-cmd-example 9.9)")
    assert why in line
    # The other commands still work.
    assert ox(site, "hello", "you").stdout == "hello you\n"


def test_a_builtin_name_is_never_taken_and_plugins_lists_every_command(site: Path) -> None:
    proc = ox(site, "status", "--help")
    assert "--watch" in proc.stdout  # the built-in `status`, not the plugin's
    proc = ox(site, "plugins", "--json")
    rows = {r["name"]: r for r in json.loads(proc.stdout) if r["group"] == "ox.commands"}
    assert rows["hello"]["error"] is None
    assert rows["hello"]["distribution"] == "ox-cmd-example"
    assert "ModuleNotFoundError" in rows["broken"]["error"]
    assert "not an ox_core.commands.Command" in rows["notcmd"]["error"]
    assert "built-in command" in rows["status"]["error"]
    assert proc.returncode == 1  # something is broken: say so to scripts


@pytest.mark.parametrize(
    ("argv", "word"),
    [
        ([], None),
        (["session", "start"], "session"),
        (["--debug", "session"], "session"),
        (["--log-format", "json", "session"], "session"),
        (["--log-format=json", "session"], "session"),
        (["--", "session"], None),
        (["--help"], None),
    ],
)
def test_the_command_word_skips_top_level_options(argv: list[str], word: str | None) -> None:
    assert command_word(build_parser(plugins=False), argv) == word
