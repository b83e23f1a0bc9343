"""The screens a person reads: `status`, `doctor`, `plugins`. Built with rich.

Every function takes plain data (what the daemon answers over IPC, or what `doctor` collected)
and returns a rich renderable, so tests render them into a recording console. This module is
imported only by the commands that draw, never by `--help`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

OK = "[green]✓[/]"
BAD = "[red]✗[/]"
WARN = "[yellow]![/]"


def _mark(value: bool) -> str:
    return OK if value else BAD


def _ago(stamp: Any, now: datetime | None = None) -> str:
    """`12s ago` / `3m ago` / `2h ago` for an ISO time, or the text as given."""
    if not isinstance(stamp, str) or not stamp:
        return "-"
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = max(0, int(((now or datetime.now(UTC)) - when).total_seconds()))
    if seconds < 60:
        return f"{seconds}s ago"
    if seconds < 3600:
        return f"{seconds // 60}m ago"
    if seconds < 86400:
        return f"{seconds // 3600}h ago"
    return f"{seconds // 86400}d ago"


def _duration(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "-"
    return f"{value:.1f}s" if value < 120 else f"{value / 60:.1f}m"


def _short(value: Any, width: int = 60) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _target(proc: Mapping[str, Any], width: int) -> str:
    """The item's target without its `<work type>:` prefix, which the work column shows."""
    target = str(proc.get("target") or "-")
    prefix = f"{proc.get('work_type')}:"
    return _short(target.removeprefix(prefix) or target, width)


def _services(services: list[Any], now: datetime | None) -> Text:
    """One line per handler service: its state, and restarts and last error when it failed."""
    out = Text()
    colors = {"running": "green", "done": "dim", "starting": "yellow", "restarting": "red"}
    for i, svc in enumerate(services):
        if i:
            out.append("\n")
        state = str(svc.get("state", "-"))
        out.append(f"{svc.get('name', '-')} ")
        out.append(state, style=colors.get(state, ""))
        restarts = int(svc.get("restarts") or 0)
        if restarts or state == "restarting":
            out.append(f", {restarts} restart{'s' if restarts != 1 else ''}")
        if svc.get("last_error"):
            when = _ago(svc.get("last_error_at"), now)
            out.append(f"; last error {when}: {svc['last_error']}", style="red")
    return out


def status_screen(status: Mapping[str, Any], now: datetime | None = None) -> RenderableType:
    """The `ox-core status` screen from the daemon's `status` answer.

    `status` has `daemon` (pid, ledger, socket, started_at, handlers) and `agent_work` (the
    manager's `AgentWorkStatus` as JSON). Missing keys show as `-`.
    """
    daemon = status.get("daemon") or {}
    work = status.get("agent_work") or {}
    stats = work.get("stats") or {}

    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    agent = work.get("agent_type") or "none"
    if not work or daemon.get("ready") is False:
        agent_line = "[yellow]starting…[/] (plugins and agents are being checked)"
    elif not work.get("enabled", True):
        agent_line = f"{agent}  [yellow](agent work disabled)[/]"
    elif agent == "none":
        agent_line = (
            "[yellow]none[/]  sessions are recorded; summaries wait until an agent is installed"
        )
    else:
        available = work.get("agent_available", False)
        agent_line = f"{agent}  {_mark(available)} {'available' if available else 'unavailable'}"
    head.add_row("Agent", agent_line)
    head.add_row("Ledger", str(daemon.get("ledger", "-")))
    head.add_row(
        "Daemon", f"pid {daemon.get('pid', '-')}, started {_ago(daemon.get('started_at'), now)}"
    )
    head.add_row(
        "Queue", f"{work.get('queue_depth', 0)} waiting, {len(work.get('active') or [])} running"
    )
    head.add_row(
        "Stats",
        f"{stats.get('total_invocations', 0)} runs, "
        f"[green]{stats.get('successes', 0)} ok[/], "
        f"[red]{stats.get('failures', 0)} failed[/]",
    )
    services = daemon.get("services") or []
    if services:
        head.add_row("Services", _services(services, now))
    parts: list[RenderableType] = [head]

    active = work.get("active") or []
    if active:
        table = Table(title="Running", title_justify="left", expand=False)
        for col in ("work", "target", "pid", "started"):
            table.add_column(col)
        for proc in active:
            table.add_row(
                str(proc.get("work_type", "-")),
                _target(proc, 50),
                str(proc.get("pid") or "-"),
                _ago(proc.get("started_at"), now),
            )
        parts.append(Padding(table, (1, 0, 0, 0)))

    recent = work.get("recent") or []
    if recent:
        table = Table(title="Recent", title_justify="left", expand=False)
        for col in ("work", "target", "result", "took", "when"):
            table.add_column(col)
        failures: list[str] = []
        for proc in recent:
            state = str(proc.get("status", "-"))
            style = {"completed": "green", "failed": "red"}.get(state, "")
            result = f"[{style}]{state}[/]" if style else state
            if proc.get("error"):
                failures.append(f"{_target(proc, 60)}: {_short(proc['error'], 300)}")
            table.add_row(
                str(proc.get("work_type", "-")),
                _target(proc, 50),
                result,
                _duration(proc.get("duration")),
                _ago(proc.get("started_at"), now),
            )
        parts.append(Padding(table, (1, 0, 0, 0)))
        for line in failures:
            parts.append(Text.assemble(("✗ ", "red"), line))
    else:
        parts.append(Padding(Text("No work yet.", style="dim"), (1, 0, 0, 0)))
    return Group(*parts)


def plugins_screen(plugins: Sequence[Mapping[str, Any]]) -> RenderableType:
    """The `ox-core plugins` table: name, group, distribution, version, state or load error."""
    if not plugins:
        return Text(
            "No ox plugins installed: install a runner plugin (entry-point group ox.runners) "
            "and a handler plugin (group ox.handlers)."
        )
    table = Table(expand=False)
    for col in ("name", "group", "distribution", "version", "state"):
        table.add_column(col)
    for p in plugins:
        error = p.get("error")
        state = f"{BAD} [red]{error}[/]" if error else f"{OK} loaded"
        table.add_row(
            str(p.get("name")),
            str(p.get("group")),
            str(p.get("distribution")),
            str(p.get("version")),
            state,
        )
    return table


def _section(title: str) -> Text:
    return Text(title, style="bold underline")


def doctor_screen(report: Mapping[str, Any]) -> RenderableType:
    """The `ox-core doctor` screen from `doctor.collect()`'s report.

    Sections: runners (installed / authenticated / detail), the chosen agent, handlers, the
    ledger, the daemon socket, plugin load errors, and each setting with its source.
    """
    parts: list[RenderableType] = []

    runners = Table(expand=False, show_edge=True)
    for col in ("runner", "installed", "authenticated", "detail"):
        runners.add_column(col)
    for r in report.get("runners", []):
        runners.add_row(
            str(r["name"]),
            _mark(bool(r.get("installed"))),
            _mark(bool(r.get("authenticated"))),
            _short(r.get("detail"), 70),
        )
    parts += [_section("Agents"), runners]
    agent = report.get("agent", "none")
    if agent == "none":
        parts.append(
            Text.from_markup(
                f"{WARN} no usable agent: sessions are recorded and uploaded, "
                "summaries wait until one is installed and logged in"
            )
        )
    else:
        parts.append(Text.from_markup(f"{OK} agent: [bold]{agent}[/]"))

    handlers = Table(expand=False)
    for col in ("handler", "class", "state"):
        handlers.add_column(col)
    for h in report.get("handlers", []):
        error = h.get("error")
        handlers.add_row(
            str(h["type"]), str(h.get("class", "-")), f"{BAD} {error}" if error else f"{OK} ok"
        )
    parts += [Text(""), _section("Handlers"), handlers]

    errors = report.get("plugin_errors", [])
    if errors:
        parts += [Text(""), _section("Plugins that failed to load")]
        for e in errors:
            parts.append(
                Text.from_markup(
                    f"{BAD} {e['name']} ({e['distribution']} {e['version']}, {e['group']}): "
                    f"[red]{e['error']}[/]"
                )
            )

    ledger = report.get("ledger", {})
    daemon = report.get("daemon", {})
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    state = ledger.get("state", "-")
    grid.add_row("Ledger", f"{ledger.get('path', '-')}")
    grid.add_row("", f"{OK if state == 'ok' else WARN} {state}")
    if "remote" in ledger:
        grid.add_row("Remote", str(ledger["remote"]))
    grid.add_row("Socket", str(daemon.get("socket", "-")))
    if daemon.get("running"):
        grid.add_row("Daemon", f"{OK} running (pid {daemon.get('pid', '?')})")
    else:
        grid.add_row("Daemon", f"{WARN} not running — start it with `ox-core serve`")
    if daemon.get("socket_mode"):
        mode = daemon["socket_mode"]
        grid.add_row("", f"{OK if mode == '0600' else BAD} socket mode {mode}")
    if daemon.get("socket_problem"):
        problem = str(daemon["socket_problem"])  # plain text: it quotes paths
        grid.add_row("", Text.assemble(Text.from_markup(BAD), " ", problem))
    parts += [Text(""), _section("Ledger and daemon"), grid]

    settings = Table(expand=False)
    for col in ("setting", "value", "from"):
        settings.add_column(col)
    config_file = str(report.get("config_file") or "")
    for row in report.get("settings", []):
        # The file's path is printed once below the table, not in every row.
        source = str(row["source"]).replace(f"file {config_file}", "config file")
        settings.add_row(str(row["key"]), _short(row["value"], 50), source)
    parts += [Text(""), _section("Settings"), settings]
    if report.get("config_file"):
        missing = "" if report.get("config_file_exists", True) else " (not present)"
        parts.append(Text(f"config file: {report['config_file']}{missing}", style="dim"))
    return Group(*parts)
