"""The `ox-core doctor` screen."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape as _escape
from rich.table import Table
from rich.text import Text

from ox_core.render.formatting import BAD, OK, WARN, _ago, _mark, _short, printable
from ox_core.render.status import _error_lines, _hold_lines


def _section(title: str) -> Text:
    return Text(title, style="bold underline")


def doctor_screen(report: Mapping[str, Any], now: datetime | None = None) -> RenderableType:
    """The `ox-core doctor` screen from `doctor.collect()`'s report.

    Sections: runners (installed / authenticated / detail), the chosen agent, handlers, the
    ledger, the daemon socket (and, when it runs, what it holds back and its standing errors),
    plugin load errors, and each setting with its source. `now` fixes the clock (tests).
    """
    report = printable(report)
    parts: list[RenderableType] = []

    runners = Table(expand=False, show_edge=True)
    for col in ("runner", "installed", "authenticated", "detail"):
        runners.add_column(col)
    for r in report.get("runners", []):
        runners.add_row(
            _escape(str(r["name"])),
            _mark(bool(r.get("installed"))),
            _mark(bool(r.get("authenticated"))),
            _escape(_short(r.get("detail"), 70)),  # an agent CLI's own words
        )
    if report.get("runners"):
        parts += [_section("Agents"), runners]
    else:
        none = f"{WARN} no runner plugin installed (entry-point group ox.runners)"
        parts += [_section("Agents"), Text.from_markup(none)]
    agent = report.get("agent", "none")
    if agent == "none":
        parts.append(
            Text.from_markup(
                f"{WARN} no usable agent: sessions are recorded and uploaded, "
                "summaries wait until one is installed and logged in"
            )
        )
    elif not report.get("agent_usable", True):
        why = _escape(_short(report.get("agent_detail") or "not usable", 200))
        parts.append(
            Text.from_markup(
                f"{WARN} agent: [bold]{_escape(str(agent))}[/] is not usable: {why}: sessions "
                "are recorded and uploaded, summaries wait until it is installed and logged in"
            )
        )
    else:
        parts.append(Text.from_markup(f"{OK} agent: [bold]{_escape(str(agent))}[/]"))

    handlers = Table(expand=False)
    handlers.add_column("handler", no_wrap=True)
    handlers.add_column("class", overflow="fold")  # a dotted path: folded, never cut
    handlers.add_column("state", overflow="fold")
    for h in report.get("handlers", []):
        error = h.get("error")
        handlers.add_row(
            _escape(str(h["type"])),
            _escape(str(h.get("class", "-"))),
            f"{BAD} {_escape(str(error))}" if error else f"{OK} ok",
        )
    if report.get("handlers"):
        parts += [Text(""), _section("Handlers"), handlers]
    else:
        none = f"{WARN} no handler plugin installed (entry-point group ox.handlers): no work to do"
        parts += [Text(""), _section("Handlers"), Text.from_markup(none)]

    for c in report.get("checks", []):
        mark = OK if c.get("ok") else WARN
        detail = f": {_escape(str(c.get('detail', '')))}" if c.get("detail") else ""
        parts.append(Text.from_markup(f"{mark} {_escape(str(c.get('check', '')))}{detail}"))

    errors = report.get("plugin_errors", [])
    if errors:
        parts += [Text(""), _section("Plugins that failed to load")]
        for e in errors:
            parts.append(
                Text.assemble(
                    Text.from_markup(BAD),
                    f" {e['name']} ({e['distribution']} {e['version']}, {e['group']}): ",
                    (str(e["error"]), "red"),
                )
            )

    ledger = report.get("ledger", {})
    daemon = report.get("daemon", {})
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    state = ledger.get("state", "-")
    grid.add_row("Ledger", _escape(str(ledger.get("path", "-"))))
    grid.add_row("", f"{OK if state == 'ok' else WARN} {_escape(str(state))}")
    if ledger.get("note"):
        grid.add_row("", _escape(str(ledger["note"])))
    if "remote" in ledger:
        grid.add_row("Remote", _escape(str(ledger["remote"])))
    grid.add_row("Socket", _escape(str(daemon.get("socket", "-"))))
    if daemon.get("running"):
        grid.add_row("Daemon", f"{OK} running (pid {_escape(str(daemon.get('pid', '?')))})")
    else:
        grid.add_row("Daemon", f"{WARN} not running — start it with `ox-core serve`")
    if daemon.get("socket_mode"):
        mode = daemon["socket_mode"]
        grid.add_row("", f"{OK if mode == '0600' else BAD} socket mode {_escape(str(mode))}")
    if daemon.get("socket_problem"):
        problem = str(daemon["socket_problem"])  # plain text: it quotes paths
        grid.add_row("", Text.assemble(Text.from_markup(BAD), " ", problem))
    parts += [Text(""), _section("Ledger and daemon"), grid]
    ledger_checks = report.get("ledger_checks") or []
    if ledger_checks:
        parts += [Text(""), _section("Ledger checks")]
        for c in ledger_checks:
            mark = OK if c.get("ok") else (WARN if c.get("warning") else BAD)
            line = Text.assemble(Text.from_markup(mark), f" {c.get('name', '-')}: ")
            line.append(str(c.get("detail", "")), style="" if c.get("ok") else "red")
            parts.append(line)
    sync = daemon.get("ledger_sync") or {}
    if sync.get("paused"):
        parts.append(Text.assemble(Text.from_markup(BAD), " ", str(sync["paused"])))
    elif sync.get("last_error"):
        when = _ago(sync.get("last_error_at"), now)
        parts.append(
            Text.assemble(Text.from_markup(WARN), f" last sync error {when}: {sync['last_error']}")
        )
    if daemon.get("status_error"):
        parts.append(
            Text.from_markup(
                f"{WARN} the daemon did not answer `status`: {_escape(str(daemon['status_error']))}"
            )
        )
    if daemon.get("holds"):
        parts += [Text(""), _section("Held back"), *_hold_lines(daemon["holds"], now)]
    if daemon.get("errors"):
        parts += [Text(""), _section("Errors"), *_error_lines(daemon["errors"], now)]

    settings = Table(expand=False)
    for col in ("setting", "value", "from"):
        settings.add_column(col)
    config_file = str(report.get("config_file") or "")
    for row in report.get("settings", []):
        # The file's path is printed once below the table, not in every row.
        source = str(row["source"]).replace(f"file {config_file}", "config file")
        settings.add_row(
            _escape(str(row["key"])), _escape(_short(row["value"], 50)), _escape(source)
        )
    parts += [Text(""), _section("Settings"), settings]
    if report.get("config_file"):
        missing = "" if report.get("config_file_exists", True) else " (not present)"
        parts.append(Text(f"config file: {report['config_file']}{missing}", style="dim"))
    return Group(*parts)
