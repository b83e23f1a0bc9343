"""The screens a person reads: `status`, `doctor`, `plugins`. Built with rich.

Every function takes plain data (what the daemon answers over IPC, or what `doctor` collected)
and returns a rich renderable, so tests render them into a recording console. This module is
imported only by the commands that draw, never by `--help`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape as _escape
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


def _when(stamp: Any) -> datetime | None:
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _span(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m" + (f"{seconds % 60:02d}s" if seconds < 600 else "")
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600}h"


def _until(stamp: Any, now: datetime | None = None) -> str:
    """`14:05 UTC (in 2m00s)` for an ISO time; `-` when there is none (until it changes)."""
    when = _when(stamp)
    if when is None:
        return "-"
    now = now or datetime.now(UTC)
    when = when.astimezone(UTC)
    clock = when.strftime("%H:%M UTC" if when - now < timedelta(hours=20) else "%b %d %H:%M UTC")
    return f"{clock} (in {_span((when - now).total_seconds())})"


_HOLD_LABELS = {
    "disabled": "agent work off",
    "no_agent": "no usable agent",
    "quota": "quota pause",
    "rate_limit": "rate limit",
    "paused_type": "type paused",
    "disabled_type": "type off",
    "parked": "parked",
}

# What a hold with no end time waits for.
_OPEN_ENDED = {
    "disabled": "until the config changes",
    "disabled_type": "until the config changes",
    "no_agent": "until an agent is usable",
}

_OUTCOME_STYLES = {
    "completed": "green",
    "published": "green",
    "published without summary": "yellow",
    "discarded": "yellow",
    "kept locally": "yellow",
    "failed": "red",
    "quota": "red",
    "will retry": "yellow",
}


def _counts(stats: Mapping[str, Any]) -> tuple[str, str]:
    """The `Items` and `Agent runs` lines: items and runs are counted apart."""
    outcomes = {k: v for k, v in (stats.get("outcomes") or {}).items() if v}
    finished = int(stats.get("successes", 0)) + int(stats.get("failures", 0))
    shown = ", ".join(
        f"[{_OUTCOME_STYLES.get(k, '')}]{v} {k}[/]" if _OUTCOME_STYLES.get(k) else f"{v} {k}"
        for k, v in sorted(outcomes.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    items = f"{finished} finished" + (f": {shown}" if shown else "")
    retries = int(stats.get("retries", 0))
    if retries:
        items += f"; {retries} {'retry' if retries == 1 else 'retries'}"
    runs = int(stats.get("total_invocations", 0))
    parts = [
        f"[green]{stats.get('runs_ok', 0)} ok[/]",
        f"[red]{stats.get('runs_failed', 0)} failed[/]",
    ]
    if stats.get("runs_quota"):
        parts.append(f"[red]{stats['runs_quota']} hit the quota[/]")
    return items, f"{runs} {'run' if runs == 1 else 'runs'}: " + ", ".join(parts)


def _sync_line(work: Mapping[str, Any], now: datetime | None) -> str:
    syncs = int(work.get("syncs") or 0)
    if not syncs:
        return "not configured [dim](the daemon does not pull or push the ledger)[/]"
    return (
        f"{syncs} {'sync' if syncs == 1 else 'syncs'}, last {_ago(work.get('last_sync_at'), now)}"
    )


def _work_table(title: str, procs: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> Table:
    """A table of work: the work type as a column only when the rows have several (else in
    the title, which saves the width a target needs at 80 columns)."""
    types = {str(p.get("work_type", "-")) for p in procs}
    single = len(types) == 1
    table = Table(
        title=f"{title} ({next(iter(types))})" if single else title,
        title_justify="left",
        expand=False,
    )
    if not single:
        table.add_column("work", overflow="fold")
    width = max(len(_target(p, 50)) for p in procs)
    table.add_column("target", no_wrap=True, min_width=width)
    for col in columns:
        table.add_column(col, overflow="fold", no_wrap=col in ("took", "when", "started"))
    return table


def _work_cells(table: Table, proc: Mapping[str, Any]) -> list[str]:
    cells = [_target(proc, 50)]
    if table.columns[0].header == "work":
        cells.insert(0, str(proc.get("work_type", "-")))
    return cells


def status_screen(status: Mapping[str, Any], now: datetime | None = None) -> RenderableType:
    """The `ox-core status` screen from the daemon's `status` answer.

    `status` has `daemon` (pid, ledger, socket, started_at, handlers) and `agent_work` (the
    manager's `AgentWorkStatus` as JSON). Missing keys show as `-`. `now` fixes the clock
    (tests); ages and until-times are relative to it.
    """
    daemon = status.get("daemon") or {}
    work = status.get("agent_work") or {}
    stats = work.get("stats") or {}

    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold", no_wrap=True)
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
    head.add_row("Sync", _sync_line(work, now))
    head.add_row(
        "Queue", f"{work.get('queue_depth', 0)} waiting, {len(work.get('active') or [])} running"
    )
    items, runs = _counts(stats)
    head.add_row("Items", items)
    head.add_row("Agent runs", runs)
    services = daemon.get("services") or []
    if services:
        head.add_row("Services", _services(services, now))
    parts: list[RenderableType] = [head]

    holds = work.get("holds") or []
    if holds:
        parts.append(Padding(Text("Held back", style="bold"), (1, 0, 0, 0)))
        parts.extend(_hold_lines(holds, now))

    active = work.get("active") or []
    if active:
        table = _work_table("Running", active, ("pid", "started"))
        for proc in active:
            table.add_row(
                *_work_cells(table, proc),
                str(proc.get("pid") or "-"),
                _ago(proc.get("started_at"), now),
            )
        parts.append(Padding(table, (1, 0, 0, 0)))

    recent = work.get("recent") or []
    if recent:
        table = _work_table("Recent", recent, ("result", "took", "when"))
        reasons: list[RenderableType] = []
        for proc in recent:
            state = str(proc.get("outcome") or proc.get("status", "-"))
            style = _OUTCOME_STYLES.get(state, "")
            result = f"[{style}]{state}[/]" if style else state
            reason = proc.get("reason") or ""
            if reason and state not in ("failed", "will retry", "quota"):
                # Failures are told once, in the error list below, with their age.
                reasons.append(
                    Text.assemble(
                        ("  ", ""), (f"{_target(proc, 60)}: ", "dim"), _short(reason, 300)
                    )
                )
            table.add_row(
                *_work_cells(table, proc),
                result,
                _duration(proc.get("duration")),
                _ago(proc.get("started_at"), now),
            )
        parts.append(Padding(table, (1, 0, 0, 0)))
        parts.extend(reasons)
    else:
        parts.append(Padding(Text("No work yet.", style="dim"), (1, 0, 0, 0)))

    errors = work.get("errors") or []
    if errors:
        title = Text("Errors (each clears when its work next succeeds)", style="bold")
        parts.append(Padding(title, (1, 0, 0, 0)))
        parts.extend(_error_lines(errors, now))
    return Group(*parts)


def _hold_lines(holds: Sequence[Mapping[str, Any]], now: datetime | None) -> list[RenderableType]:
    """One line of what, to what and until when; the reason indented below it, so a long
    reason wraps readably at 80 columns."""
    lines: list[RenderableType] = []
    for hold in holds:
        kind = str(hold.get("kind", "-"))
        until = (
            _until(hold.get("until"), now)
            if hold.get("until")
            else _OPEN_ENDED.get(kind, "until fixed")
        )
        name = f" {hold['name']}" if hold.get("name") else ""
        lines.append(
            Text.assemble(
                ("⏸ ", "yellow"), (_HOLD_LABELS.get(kind, kind), "yellow"), name, f"  {until}"
            )
        )
        if hold.get("reason"):
            lines.append(Padding(Text(_short(hold["reason"], 300), style="dim"), (0, 0, 0, 4)))
    return lines


def _error_lines(errors: Sequence[Mapping[str, Any]], now: datetime | None) -> list[Text]:
    """`✗ target: error (since 1h ago, 3 times, last 5m ago)` for each standing error."""
    lines: list[Text] = []
    for problem in errors:
        count = int(problem.get("count") or 1)
        age = f"since {_ago(problem.get('first'), now)}"
        if count > 1:
            age += f", {count} times, last {_ago(problem.get('last'), now)}"
        lines.append(
            Text.assemble(
                ("✗ ", "red"),
                f"{_target(problem, 60)}: {_short(problem.get('error'), 300)} ",
                (f"({age})", "dim"),
            )
        )
    return lines


def plugins_screen(plugins: Sequence[Mapping[str, Any]]) -> RenderableType:
    """The `ox-core plugins` table: name, kind (runner / handler / adapter / command),
    distribution, version, state;
    load errors listed in full below it."""
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
            str(p.get("name")),
            kind,
            str(p.get("distribution")),
            str(p.get("version")),
            f"{BAD} error" if error else f"{OK} ok",
        )
        if error:
            errors.append(
                Text.from_markup(f"{BAD} {p.get('name')} ({group}): [red]{_escape(error)}[/]")
            )
    return Group(table, *errors) if errors else table


def _section(title: str) -> Text:
    return Text(title, style="bold underline")


def doctor_screen(report: Mapping[str, Any], now: datetime | None = None) -> RenderableType:
    """The `ox-core doctor` screen from `doctor.collect()`'s report.

    Sections: runners (installed / authenticated / detail), the chosen agent, handlers, the
    ledger, the daemon socket (and, when it runs, what it holds back and its standing errors),
    plugin load errors, and each setting with its source. `now` fixes the clock (tests).
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
    else:
        parts.append(Text.from_markup(f"{OK} agent: [bold]{agent}[/]"))

    handlers = Table(expand=False)
    handlers.add_column("handler", no_wrap=True)
    handlers.add_column("class", overflow="fold")  # a dotted path: folded, never cut
    handlers.add_column("state", overflow="fold")
    for h in report.get("handlers", []):
        error = h.get("error")
        handlers.add_row(
            str(h["type"]), str(h.get("class", "-")), f"{BAD} {error}" if error else f"{OK} ok"
        )
    if report.get("handlers"):
        parts += [Text(""), _section("Handlers"), handlers]
    else:
        none = f"{WARN} no handler plugin installed (entry-point group ox.handlers): no work to do"
        parts += [Text(""), _section("Handlers"), Text.from_markup(none)]

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
        settings.add_row(str(row["key"]), _short(row["value"], 50), source)
    parts += [Text(""), _section("Settings"), settings]
    if report.get("config_file"):
        missing = "" if report.get("config_file_exists", True) else " (not present)"
        parts.append(Text(f"config file: {report['config_file']}{missing}", style="dim"))
    return Group(*parts)
