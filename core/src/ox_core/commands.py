"""Plugin commands: `ox-core <name> ...` subcommands that a distribution adds.

A distribution declares each command as an entry point in group `ox.commands`: the name is
the subcommand, the value `module:attr` names an instance of `Command`:

    [project.entry-points."ox.commands"]
    hello = "ox_handler_hello.command:command"

`ox-core --help` lists plugin commands from the entry points' metadata alone (name and
distribution; no plugin module is imported), and `ox-core <name>` imports only that entry
point. A command whose import fails, or that names a core command, is one clear line.
"""

from __future__ import annotations

import abc
import argparse
import os
import sys
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ox_core.errors import OxError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from rich.console import Console

    from ox_core.settings import Settings

GROUP = "ox.commands"


class Command(abc.ABC):
    """One `ox-core` subcommand of a plugin. Subclass it, set `help` (the line shown by
    `ox-core --help` once the command runs; the listing itself shows the distribution), and
    expose an instance through an `ox.commands` entry point."""

    help: str = ""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:  # noqa: B027 - optional
        """Add this command's arguments to `parser` (its prog is `ox-core <name>`)."""

    @abc.abstractmethod
    def run(self, args: argparse.Namespace, ctx: CommandContext) -> int:
        """Do the command; return the exit code. Raise `OxError` for a one-line error."""


class CommandContext:
    """What a command gets from the CLI: the settings (read on first use), IPC to the
    daemon with the CLI's error handling, and printing."""

    def __init__(
        self,
        name: str,
        *,
        settings: Callable[[], Settings] | None = None,
        call: Callable[[str, Mapping[str, Any]], Any] | None = None,
    ) -> None:
        self.name = name
        self._load_settings = settings
        self._call = call

    @cached_property
    def settings(self) -> Settings:
        """The settings (config file + `OX_*`), read once, on first use."""
        if self._load_settings is not None:
            return self._load_settings()
        from ox_core.settings import load_settings

        return load_settings()

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> Any:
        """Call IPC `method` on the running daemon and return its result.

        Raises `OxError` (one line): no daemon running, or no installed plugin serves
        `method` (error code `unknown_method`), or the daemon's own error line.
        """
        from ox_core.protocol import ErrorCode, IpcError

        try:
            if self._call is not None:
                return self._call(method, dict(params or {}))
            from ox_core.protocol import call

            return call(self.settings.socket_path(), method, dict(params or {}))
        except IpcError as exc:
            if exc.code == ErrorCode.UNKNOWN_METHOD:
                raise OxError(
                    f"the daemon does not serve {method!r} (needed by `ox-core {self.name}`); "
                    "is the plugin installed where the daemon runs? see `ox-core plugins`",
                    code=exc.code,
                ) from None
            raise

    @cached_property
    def console(self) -> Console:
        """A rich console on stdout."""
        from rich.console import Console

        return Console()

    def print(self, *objects: Any) -> None:
        """Print plain text to stdout (no markup)."""
        print(*objects, file=sys.stdout)


def listed_commands() -> dict[str, str]:
    """The installed commands' names and distributions, for `ox-core --help`.

    Read from the `entry_points.txt` files of the distributions on `sys.path` directly, in
    path order like `importlib.metadata` (first found wins), without importing it: that
    import alone would cost `--help` a third of its time budget.
    """
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            listing = os.scandir(entry or ".")
        except OSError:
            continue
        with listing:
            infos = sorted(d.name for d in listing if d.name.endswith(".dist-info"))
        for info in infos:
            try:
                with open(os.path.join(entry or ".", info, "entry_points.txt")) as f:
                    text = f.read()
            except OSError:
                continue
            if f"[{GROUP}]" not in text:
                continue
            dist = info.removesuffix(".dist-info").rsplit("-", 1)[0].replace("_", "-")
            for name in _section_names(text, GROUP):
                found.setdefault(name, dist)
    return found


def _section_names(text: str, section: str) -> list[str]:
    """The names (`name = value`) in `[section]` of an `entry_points.txt`."""
    names: list[str] = []
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            inside = line == f"[{section}]"
        elif inside and "=" in line and not line.startswith(("#", ";")):
            names.append(line.split("=", 1)[0].strip())
    return names


def command_entry_points() -> dict[str, EntryPoint]:
    """The installed `ox.commands` entry points by name (metadata only; nothing imported).

    Two distributions declaring one name: the first found wins (`ox-core plugins` lists both).
    """
    from importlib.metadata import entry_points

    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep)
    return found


def distribution_of(ep: EntryPoint) -> str:
    """The distribution that declares `ep` ("?" when unknown)."""
    dist = getattr(ep, "dist", None)
    return str(getattr(dist, "name", None) or "?")


def load_command(name: str, ep: EntryPoint) -> Command:
    """Import the entry point `ep` of command `name`; `OxError` (one line) when it fails."""
    try:
        command = ep.load()
    except Exception as exc:
        raise OxError(
            f"the command `{name}` of {distribution_of(ep)} cannot be loaded: "
            f"{type(exc).__name__}: {exc}"
        ) from None
    if not isinstance(command, Command):
        raise OxError(
            f"the command `{name}` of {distribution_of(ep)} is {type(command).__name__}, "
            "not an ox_core.commands.Command instance"
        )
    return command


def run_command(name: str, argv: list[str]) -> int:
    """Load command `name`, parse `argv` with its arguments, and run it."""
    ep = command_entry_points().get(name)
    if ep is None:
        raise OxError(f"no installed plugin provides the command `{name}`; see `ox-core plugins`")
    command = load_command(name, ep)
    parser = argparse.ArgumentParser(prog=f"ox-core {name}", description=command.help or None)
    command.add_arguments(parser)
    args = parser.parse_args(argv)
    return command.run(args, CommandContext(name))


def command_rows() -> list[dict[str, Any]]:
    """One `ox-core plugins` row per installed command (each is imported to check it):
    name, group, distribution, version and `error` (None when it loads)."""
    from importlib.metadata import entry_points

    rows: list[dict[str, Any]] = []
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        dist = getattr(ep, "dist", None)
        try:
            load_command(ep.name, ep)
            error = None
        except OxError as exc:
            error = str(exc)
        rows.append(
            {
                "name": ep.name,
                "group": GROUP,
                "distribution": distribution_of(ep),
                "version": str(getattr(dist, "version", None) or "?"),
                "error": error,
            }
        )
    return rows
