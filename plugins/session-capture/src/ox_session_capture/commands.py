"""`ox-core session start|stop`: the CLI of session capture (entry-point group `ox.commands`).

Both talk to the running daemon (IPC `session_watch_start` / `session_watch_stop`). Without a
daemon they work in this process: `start` creates the recording with its start offset and the
next daemon resumes it from there (nothing the agent writes is lost); `stop` closes it and the
next daemon's detection finalizes it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ox_core.commands import Command, CommandContext


def in_process(ctx: CommandContext, method: str, params: dict[str, Any]) -> Any:
    """Run a watch method here, on the configured ledger, with no watcher running."""
    import trio

    from ox_core.ledger_setup import open_ledger
    from ox_session_capture.service import SessionWatchService

    settings = ctx.settings
    ledger = open_ledger(settings.ledger_path(), default=settings.uses_default_ledger())
    return trio.run(SessionWatchService(ledger).ipc_methods()[method], dict(params))


def _start(args: argparse.Namespace, ctx: CommandContext) -> int:
    from ox_core.ipc import DaemonNotRunningError
    from ox_session_capture.hook import DISABLED_ENV, recording_disabled

    if recording_disabled():
        # ox's own runs of an agent (its summarizer) set it: they must never be recorded.
        ctx.print(f"not recording: {DISABLED_ENV}=disabled in this environment")
        return 0

    path = os.path.abspath(os.path.expanduser(args.file))
    params = {
        "adapter": args.adapter,
        "file": path,
        "pid": args.pid if args.pid is not None else os.getppid(),
    }
    if args.from_start:
        params["from_start"] = True
    try:
        result = ctx.call("session_watch_start", params)
    except DaemonNotRunningError:
        result = in_process(ctx, "session_watch_start", params)
    if args.json:
        ctx.print_json(result)
        return 0
    name = result.get("name", "") if isinstance(result, dict) else result
    if isinstance(result, dict) and result.get("watching") is False:
        ctx.print(f"recording {name} created for {path}")
        ctx.print(
            "  the daemon is not running: start `ox-core serve` and it captures the file "
            "from this point on"
        )
    else:
        ctx.print(f"recording {name} started, following {path}")
    if isinstance(result, dict) and isinstance(result.get("start_offset"), int):
        offset = result["start_offset"]
        if result.get("continued"):
            ctx.print(f"  it was already recording this file (now at byte {offset})")
        elif offset == 0:
            ctx.print("  recording from the file's first byte")
        else:
            ctx.print(
                f"  recording from byte {offset} (what the file held before is not captured; "
                "`--from-start` records it all)"
            )
    if isinstance(result, dict) and result.get("session_dir"):
        ctx.print(f"  captured into {result['session_dir']}")
    return 0


def _stop(args: argparse.Namespace, ctx: CommandContext) -> int:
    from ox_core.ipc import DaemonNotRunningError

    params = {"name": args.name}
    try:
        result = ctx.call("session_watch_stop", params, timeout=120.0)
        queued = "finalization is queued"
    except DaemonNotRunningError:
        result = in_process(ctx, "session_watch_stop", params)
        queued = "the daemon is not running: it finalizes the session when it starts"
    if args.json:
        ctx.print_json(result)
    else:
        count = result.get("entry_count") if isinstance(result, dict) else None
        entries = f" with {count} entries" if count is not None else ""
        ctx.print(f"recording {args.name} stopped{entries}; {queued}")
    return 0


class SessionCommand(Command):
    """`ox-core session start|stop`."""

    help = "record an agent's session file (tail mode)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="session_command", metavar="ACTION")
        s = actions.add_parser("start", help="start recording an agent's session file")
        s.add_argument(
            "--adapter",
            required=True,
            help="the session adapter for the file's format (an error lists the installed ones)",
        )
        s.add_argument("--file", required=True, help="the agent's session file (.jsonl)")
        s.add_argument("--pid", type=int, default=None, help="the agent's pid (default: my parent)")
        s.add_argument(
            "--from-start",
            action="store_true",
            help="record the file from its first byte (default: only what is written from now)",
        )
        s.add_argument("--json", action="store_true", help="print JSON for scripts")
        s.set_defaults(session_fn=_start)
        s = actions.add_parser("stop", help="stop a recording and queue its finalization")
        s.add_argument("name", help="the recording's name, as `session start` printed it")
        s.add_argument("--json", action="store_true", help="print JSON for scripts")
        s.set_defaults(session_fn=_stop)

    def run(self, args: argparse.Namespace, ctx: CommandContext) -> int:
        fn = getattr(args, "session_fn", None)
        if fn is None:
            args.parser.print_help()
            return 2
        result: int = fn(args, ctx)
        return result


def _targets(args: argparse.Namespace) -> list[tuple[Any, Path]]:
    from ox_core.errors import OxError
    from ox_session_capture.hooks_install import installers
    from ox_session_capture.records import canonical_adapter

    agents = installers()
    if args.agent:
        name = canonical_adapter(args.agent)  # `claude` as everywhere else: `claude-code`
        if name not in agents:
            known = ", ".join(sorted(agents)) or "none"
            raise OxError(f"no hooks for agent {args.agent!r} (installed: {known})")
        chosen = [agents[name]]
    elif args.project or args.action != "install":
        chosen = list(agents.values())
    else:  # the agents this user has (their folder under $HOME), else every one
        chosen = [a for a in agents.values() if a.installed_for_user()] or list(agents.values())
    project = Path.cwd() if args.project else None
    return [(a, a.path(project=project)) for a in chosen]


def _hooks(args: argparse.Namespace, ctx: CommandContext) -> int:
    from ox_session_capture import hooks_install

    rows: list[dict[str, Any]] = []
    for agent, path in _targets(args):
        if args.action == "status":
            rows.append(hooks_install.status(agent, path))
            continue
        fn = hooks_install.install if args.action == "install" else hooks_install.uninstall
        change = fn(agent, path)
        row = {"adapter": change.adapter, "file": str(change.path), "changed": change.changed}
        rows.append({**row, "detail": change.detail, "note": agent.note})
    if args.json:
        ctx.print_json(rows)
        return 0
    for row in rows:
        if args.action == "status":
            state = "installed" if row["installed"] else "not installed"
            if row.get("error"):
                state = f"error: {row['error']}"
            ctx.print(f"{row['adapter']}: {state} ({row['file']})")
        else:
            ctx.print(f"{row['adapter']}: {row['detail']} ({row['file']})")
        if row.get("note") and args.action != "uninstall":
            ctx.print(f"  note: {row['note']}")
    return 0


class HooksCommand(Command):
    """`ox-core hooks install|uninstall|status`."""

    help = "install the agents' hooks so every session is recorded without a command"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", metavar="ACTION")
        for action, text in (
            ("install", "add ox's hooks to the agents' settings (idempotent, keeps a backup)"),
            ("uninstall", "remove exactly the hooks ox added"),
            ("status", "say per agent whether the hooks are in place"),
        ):
            s = actions.add_parser(action, help=text)
            s.add_argument("--agent", help="only this agent (its adapter name, e.g. claude-code)")
            where = s.add_mutually_exclusive_group()
            where.add_argument(
                "--user", action="store_true", help="the user's settings under $HOME (default)"
            )
            where.add_argument(
                "--project", action="store_true", help="the settings of the project here (cwd)"
            )
            s.add_argument("--json", action="store_true", help="print JSON for scripts")

    def run(self, args: argparse.Namespace, ctx: CommandContext) -> int:
        if not getattr(args, "action", None):
            args.parser.print_help()
            return 2
        return _hooks(args, ctx)


session = SessionCommand()
hooks = HooksCommand()
