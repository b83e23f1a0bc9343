"""The `ox-core plugins` screen."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape as _escape
from rich.table import Table
from rich.text import Text

from ox_core.render.formatting import BAD, OK, printable


def plugins_screen(plugins: Sequence[Mapping[str, Any]]) -> RenderableType:
    """The `ox-core plugins` table: name, kind (runner / handler / adapter / command),
    distribution, version, state;
    load errors listed in full below it."""
    plugins = printable(plugins)
    if not plugins:
        return Text(
            "No ox plugins installed: install a runner plugin (entry-point group ox.runners) "
            "and a handler plugin (group ox.handlers)."
        )
    # Names and distributions are never cut: people copy them into `pip`.
    longest = max(len(str(p.get("distribution"))) for p in plugins)
    table = Table(expand=False)
    table.add_column("name", no_wrap=True, min_width=max(len(str(p.get("name"))) for p in plugins))
    table.add_column("kind", no_wrap=True)
    table.add_column("distribution", no_wrap=True, min_width=longest)
    table.add_column("version", no_wrap=True)
    table.add_column("state", no_wrap=True)
    errors: list[RenderableType] = []
    for p in plugins:
        error = p.get("error")
        group = str(p.get("group"))
        kind = {
            "ox.runners": "runner",
            "ox.handlers": "handler",
            "ox.adapters": "adapter",
            "ox.commands": "command",
        }.get(group, group)
        table.add_row(
            _escape(str(p.get("name"))),
            _escape(kind),
            _escape(str(p.get("distribution"))),
            _escape(str(p.get("version"))),
            f"{BAD} error" if error else f"{OK} ok",
        )
        if error:
            errors.append(
                Text.assemble(
                    Text.from_markup(BAD), f" {p.get('name')} ({group}): ", (str(error), "red")
                )
            )
    return Group(table, *errors) if errors else table
