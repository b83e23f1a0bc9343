"""The `ox-core status` screen, and the lines of holds and errors `doctor` shows too."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from ox_core.render.formatting import (
    MESSAGE_WIDTH,
    _ago,
    _duration,
    _mark,
    _short,
    _target,
    _until,
    printable,
)


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


def _style(outcome: str) -> str:
    """The colour of an outcome; a qualified one (`discarded: brief`) takes its kind's."""
    return _OUTCOME_STYLES.get(outcome) or _OUTCOME_STYLES.get(outcome.split(":", 1)[0], "")


def _counts(stats: Mapping[str, Any]) -> tuple[str, str]:
    """The `Items` and `Agent runs` lines: items and runs are counted apart."""
    outcomes = {k: v for k, v in (stats.get("outcomes") or {}).items() if v}
    finished = int(stats.get("successes", 0)) + int(stats.get("failures", 0))
    shown = ", ".join(
        f"[{_style(k)}]{v} {escape(k)}[/]" if _style(k) else f"{v} {escape(k)}"
        for k, v in sorted(outcomes.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    items = f"{finished} finished" + (f": {shown}" if shown else "")
    retries = int(stats.get("retries", 0))
    if retries:
        items += f"; {retries} {'retry' if retries == 1 else 'retries'}"
    deferred = int(stats.get("deferred", 0))
    if deferred:
        items += f"; {deferred} deferred until the agent can run"
    runs = int(stats.get("total_invocations", 0))
    parts = [
        f"[green]{stats.get('runs_ok', 0)} ok[/]",
        f"[red]{stats.get('runs_failed', 0)} failed[/]",
    ]
    if stats.get("runs_quota"):
        parts.append(f"[red]{stats['runs_quota']} hit the quota[/]")
    return items, f"{runs} {'run' if runs == 1 else 'runs'}: " + ", ".join(parts)


def _sync_line(work: Mapping[str, Any], now: datetime | None) -> str:
    """The `Sync` line: the syncer's report (ahead/behind, last success, last error with its
    age, a pause), else how many syncs fired."""
    syncs = int(work.get("syncs") or 0)
    state = work.get("ledger_sync")
    if not isinstance(state, Mapping):
        if not syncs:
            return "not configured [dim](the daemon does not pull or push the ledger)[/]"
        return (
            f"{syncs} {'sync' if syncs == 1 else 'syncs'}, "
            f"last {_ago(work.get('last_sync_at'), now)}"
        )
    published = ""
    if state.get("published"):
        original = int(state.get("original") or 0)
        by = f" ({original} by the original daemon)" if original else ""
        count = int(state["published"])
        published = f"; {count} {'session' if count == 1 else 'sessions'} published{by}"
    if not state.get("remote"):
        return "no remote [dim](commits stay in this ledger)[/]" + published
    ahead, behind = int(state.get("ahead") or 0), int(state.get("behind") or 0)
    last_ok = state.get("last_ok")
    parts = [
        f"{escape(str(state['remote']))}: {ahead} ahead, {behind} behind",
        f"last sync {_ago(last_ok, now)}" if last_ok else "[yellow]not synced yet[/]",
    ]
    error, paused = str(state.get("last_error") or ""), str(state.get("paused") or "")
    when = _ago(state.get("last_error_at"), now)
    said_once = error == paused  # the pass that failed is the pause: one mention, its age
    if error and not said_once:
        parts.append(f"[red]last error {when}: {escape(_short(error, MESSAGE_WIDTH))}[/]")
    if paused:
        cause = paused.removeprefix("publishing paused").removeprefix(":").lstrip()
        tried = f" (tried {when})" if said_once else ""
        parts.append(
            f"[red]{escape(_short(f'publishing paused{tried}: {cause}', MESSAGE_WIDTH))}[/]"
        )
    return "; ".join(parts) + published


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
    # Markup escaped: a target is a session's folder name, which any teammate may write.
    cells = [escape(_target(proc, 50))]
    if table.columns[0].header == "work":
        cells.insert(0, escape(str(proc.get("work_type", "-"))))
    return cells


def status_screen(status: Mapping[str, Any], now: datetime | None = None) -> RenderableType:
    """The `ox-core status` screen from the daemon's `status` answer.

    `status` has `daemon` (pid, ledger, socket, started_at, handlers) and `agent_work` (the
    manager's `AgentWorkStatus` as JSON). Missing keys show as `-`. `now` fixes the clock
    (tests); ages and until-times are relative to it.
    """
    status = printable(status)
    daemon = status.get("daemon") or {}
    work = status.get("agent_work") or {}
    stats = work.get("stats") or {}

    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold", no_wrap=True)
    head.add_column()
    agent = escape(str(work.get("agent_type") or "none"))
    if not work or daemon.get("ready") is False:
        step = daemon.get("starting")
        doing = escape(str(step)) if step else "plugins and agents are being checked"
        agent_line = f"[yellow]starting…[/] ({doing})"
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
    head.add_row("Ledger", escape(str(daemon.get("ledger", "-"))))
    daemon_line = f"pid {daemon.get('pid', '-')}, started {_ago(daemon.get('started_at'), now)}"
    if daemon.get("stopping"):
        # The hook then records in its own process: say so, and what brings publishing back.
        daemon_line += (
            "; [yellow]shutting down[/]: it takes no new work, sessions stay in the ledger's "
            "cache until `ox-core serve` runs again"
        )
    head.add_row("Daemon", daemon_line)
    head.add_row("Sync", _sync_line(work, now))
    for_agent = int(work.get("agent_waiting") or 0)
    queue = f"{work.get('queue_depth', 0)} waiting" + (
        f" ({for_agent} for the agent)" if for_agent else ""
    )
    head.add_row("Queue", f"{queue}, {len(work.get('active') or [])} running")
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
            style = _style(state)
            result = f"[{style}]{escape(state)}[/]" if style else escape(state)
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
            lines.append(
                Padding(Text(_short(hold["reason"], MESSAGE_WIDTH), style="dim"), (0, 0, 0, 4))
            )
    kinds = {str(hold.get("kind")) for hold in holds}
    # A pause ends by itself at its time; the person who fixed its cause need not wait.
    now_hints = []
    if kinds & {"paused_type", "parked"}:
        now_hints.append("`ox-core detect` retries paused and parked work now")
    if "quota" in kinds:
        also = " also" if now_hints else ""
        now_hints.append(f"`ox-core detect --force`{also} ends the quota pause now")
    if now_hints:
        lines.append(Text("Once the cause is fixed: " + "; ".join(now_hints) + ".", style="dim"))
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
                f"{_target(problem, 60)}: {_short(problem.get('error'), MESSAGE_WIDTH)} ",
                (f"({age})", "dim"),
            )
        )
    return lines
