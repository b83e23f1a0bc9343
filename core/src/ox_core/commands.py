"""Plugin commands: `ox-core` subcommands that a distribution adds (entry-point group
`ox.commands`).

An entry point's name is the subcommand; its value, `module:attr`, names an instance of
`Command`::

    [project.entry-points."ox.commands"]
    session = "ox_session_capture.commands:session"

`ox-core --help` lists plugin commands from the distributions' metadata alone (name and
distribution: no plugin is imported); `ox-core <name> ...` imports that one entry point, lets
it add its arguments, and runs it. A command that fails to import is one line on stderr.
Built-in commands win over a plugin command of the same name (it is reported, not run).
"""

from __future__ import annotations

import abc
import contextlib
import functools
import json
import os
import sys

from ox_core.errors import OxError

# Not `typing`'s, and argparse only for annotations: a command's `run_fast` (an agent hook)
# runs before either would be imported.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    import importlib.metadata
    from collections.abc import Iterator, Sequence
    from pathlib import Path
    from typing import Any

    from rich.console import Console

    from ox_core.settings import Settings

COMMANDS_GROUP = "ox.commands"


class CommandLoadError(OxError):
    """A plugin command whose entry point cannot be imported or is not a `Command`."""


class Command(abc.ABC):
    """A subcommand of `ox-core` provided by a plugin.

    `help` is the command's one-line description (shown by `ox-core <name> --help`).
    `add_arguments` adds its arguments (and sub-actions) to its own parser; `run` does the
    work and returns the exit code. Raise `ox_core.errors.OxError` for a clear one-line error
    (`ox-core: error: ...`, exit 1; a traceback only under `--debug`).
    """

    help: str = ""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:  # noqa: B027
        """Add this command's arguments to `parser`. Default: none."""

    @abc.abstractmethod
    def run(self, args: argparse.Namespace, ctx: CommandContext) -> int:
        """Run the command with its parsed `args`; return the exit code."""

    def run_fast(self, argv: Sequence[str]) -> int | None:
        """Optionally run the command from its raw arguments (after the command word) before
        any parser is built; return None to go the usual way (`add_arguments`, `run`).

        For commands that run inside another program's time budget (an agent hook): called
        with only the standard library and `ox_core.client` imported, it should import
        nothing heavier. Default: None.
        """
        return None


class CommandContext:
    """What a command gets from the CLI: the settings (read on first use), IPC calls to the
    daemon with the CLI's error handling, and printing (`print`, `print_json`, `console`)."""

    def __init__(self, *, debug: bool = False) -> None:
        self.debug = debug

    @functools.cached_property
    def settings(self) -> Settings:
        """The settings (config file + `OX_*` environment); `ConfigError` when invalid."""
        from ox_core.settings import load_settings

        return load_settings()

    @functools.cached_property
    def console(self) -> Console:
        from rich.console import Console

        return Console()

    def socket(self) -> Path:
        """The daemon's socket: where the settings put it, else where the ledger's daemon says.

        The lock file names the running daemon's socket, so a shell whose runtime dir differs
        from the daemon's (`XDG_RUNTIME_DIR` unset over ssh, say) still finds it.
        """
        from pathlib import Path

        from ox_core.client import find_socket

        settings = self.settings
        ledger = settings.ledger_path() if settings.socket is None else None
        return Path(find_socket(settings.socket_path(), ledger))

    def call(
        self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 30.0
    ) -> Any:
        """Call IPC `method` of the running daemon and return its result.

        Raises `ox_core.ipc.DaemonNotRunningError` when no daemon runs (a command that can
        work without one catches it), and `OxError` with one readable line otherwise; a
        method the daemon does not serve says that its plugin is missing there.
        """
        from ox_core.client import IpcError, call

        try:
            return call(self.socket(), method, params, timeout=timeout)
        except IpcError as exc:
            if str(exc).startswith(f"unknown method {method!r}"):
                raise OxError(
                    f"the running daemon serves no IPC method {method}: the plugin that "
                    "provides it is not installed where the daemon runs, or the daemon "
                    "started before it was (see `ox-core plugins`, restart the daemon)"
                ) from None
            raise

    @contextlib.contextmanager
    def reading_answer(self, method: str) -> Iterator[None]:
        """Read the daemon's answer to `method` inside this block: what fails to read it is
        one `OxError` line saying so. A daemon started before an upgrade runs the other
        version of ox and may answer in a shape this one does not know; the command must not
        end in a traceback (`--debug` shows it, chained)."""
        try:
            yield
        except (AttributeError, LookupError, TypeError, ValueError) as exc:
            raise OxError(
                f"the daemon's answer to {method!r} is not what this ox-core reads "
                f"({type(exc).__name__}: {exc}); if the daemon runs another version of ox, "
                "restart it"
            ) from exc

    def print(self, *objects: Any) -> None:
        """Print to stdout (plain text as is; rich renderables rendered)."""
        if all(isinstance(o, str) for o in objects):
            print(*objects)
        else:
            self.console.print(*objects)

    def print_json(self, data: Any) -> None:
        print_json(data)


def print_json(data: Any) -> None:
    """`data` as indented JSON with sorted keys, for scripts."""
    print(json.dumps(data, indent=2, sort_keys=True, default=str))


def command_entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    """The installed plugin commands by name (metadata only: imports nothing). Of two
    distributions offering the same name, the first by distribution name wins."""
    from importlib.metadata import entry_points

    found: dict[str, importlib.metadata.EntryPoint] = {}
    eps = entry_points(group=COMMANDS_GROUP)
    for ep in sorted(eps, key=lambda e: (_dist_name(e), e.name)):
        found.setdefault(ep.name, ep)
    return found


def _dist_name(ep: importlib.metadata.EntryPoint) -> str:
    return ep.dist.name if ep.dist is not None else "?"


def origin(ep: importlib.metadata.EntryPoint) -> str:
    """`distribution version` of an entry point, for messages."""
    dist = ep.dist
    return f"{dist.name} {dist.version}" if dist is not None else "an unknown distribution"


def load_command(ep: importlib.metadata.EntryPoint) -> Command:
    """Import the command an entry point names. `CommandLoadError` (one line) when it fails
    to import or is not a `Command` instance."""
    try:
        obj = ep.load()
    except Exception as exc:
        lines = str(exc).strip().splitlines()
        why = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
        raise CommandLoadError(
            f"command {ep.name!r} (from {origin(ep)}) cannot be loaded: {why}"
        ) from exc
    if not isinstance(obj, Command):
        raise CommandLoadError(
            f"command {ep.name!r} (from {origin(ep)}): {ep.value} is not an "
            "ox_core.commands.Command instance"
        )
    return obj


def add_plugin_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    taken: set[str],
    load: str | None,
) -> None:
    """Add a subparser per installed plugin command not in `taken` (the built-in commands).
    Only the command named `load` is imported; it adds its arguments and is stored as the
    parser's default `plugin_command`. `CommandLoadError` when that import fails.

    Every `ox-core` call builds this parser, and agent hooks run it inside the agent's time
    budget: a built-in command (`load` in `taken`) looks for no plugin command at all, and
    `--help` (`load` None) reads the names from the metadata files without importing
    `importlib.metadata` (a third of `--help`'s time)."""
    if load in taken:
        return
    if load is None:
        for name, dist in listed_commands().items():
            if name not in taken:
                sub.add_parser(name, help=f"(plugin command from {dist})", add_help=False)
        return
    for name, ep in command_entry_points().items():
        if name in taken:
            continue
        if name != load:
            sub.add_parser(name, help=f"(plugin command from {_dist_name(ep)})", add_help=False)
            continue
        command = load_command(ep)
        p = sub.add_parser(name, help=command.help, description=command.help)
        command.add_arguments(p)
        p.set_defaults(plugin_command=command, parser=p)


def listed_commands() -> dict[str, str]:
    """The installed plugin commands' names and distributions, read from the `entry_points.txt`
    of each `*.dist-info` on `sys.path` (path order, then name order, first found wins, as
    `command_entry_points`). Imports nothing."""
    return {name: dist for name, (dist, _value) in _listed().items()}


def _listed() -> dict[str, tuple[str, str]]:
    """name → (distribution, `module:attr`) of each plugin command, from the metadata files."""
    found: dict[str, tuple[str, str]] = {}
    for entry in sys.path:
        try:
            with os.scandir(entry or ".") as listing:
                infos = sorted(d.name for d in listing if d.name.endswith(".dist-info"))
        except OSError:
            continue
        for info in infos:
            try:
                # Metadata of whatever is installed: a file that is not UTF-8 must not stop
                # `--help` (its names are read as far as they are text).
                path = os.path.join(entry or ".", info, "entry_points.txt")
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read(1 << 20)
            except OSError:
                continue
            if f"[{COMMANDS_GROUP}]" not in text:
                continue
            dist = info.removesuffix(".dist-info").rsplit("-", 1)[0].replace("_", "-")
            for name, value in _section_entries(text, COMMANDS_GROUP):
                found.setdefault(name, (dist, value))
    return found


def fast_command(name: str) -> Command | None:
    """The plugin command `name`, imported from the metadata files alone (no
    `importlib.metadata`), for its `run_fast`; None when there is none or it cannot be loaded
    (the usual path then reports why)."""
    listed = _listed().get(name)
    if listed is None:
        return None
    module, _, attr = listed[1].partition(":")
    try:
        import importlib

        obj: object = importlib.import_module(module.strip())
        for part in attr.strip().split("."):
            obj = getattr(obj, part)
    except Exception:
        return None
    return obj if isinstance(obj, Command) else None


def _section_entries(text: str, section: str) -> list[tuple[str, str]]:
    """The entries (`name = value`) of `[section]` in an `entry_points.txt`."""
    entries: list[tuple[str, str]] = []
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            inside = line == f"[{section}]"
        elif inside and "=" in line and not line.startswith(("#", ";")):
            name, _, value = line.partition("=")
            entries.append((name.strip(), value.strip()))
    return entries


def command_word(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """The subcommand word of `argv`: the first argument that is neither a top-level option
    nor the value of one (`--log-format json session ...` → `session`)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--":
            return None
        if arg.startswith("-"):
            action = parser._option_string_actions.get(arg)
            skip = "=" not in arg and action is not None and action.nargs != 0
            continue
        return arg
    return None


def command_errors(taken: set[str]) -> list[tuple[importlib.metadata.EntryPoint, str]]:
    """Each plugin command that cannot be used, with why: it fails to load, or its name is a
    built-in command's (for `ox-core plugins`; imports every command)."""
    errors: list[tuple[importlib.metadata.EntryPoint, str]] = []
    for name, ep in command_entry_points().items():
        if name in taken:
            errors.append((ep, f"command name {name!r} is a built-in command's: not used"))
            continue
        try:
            load_command(ep)
        except CommandLoadError as exc:
            errors.append((ep, str(exc)))
    return errors
