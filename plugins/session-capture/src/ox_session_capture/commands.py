"""`ox-core session start|stop`: the CLI of session capture (entry-point group `ox.commands`).

Both talk to the running daemon (IPC `session_watch_start` / `session_watch_stop`). Without a
daemon, or one that cannot take them now (starting, shutting down, busy), they work in this
process, as the agent hook does (`hook.daemon_or_here`): `start` creates the recording with its
start offset and the daemon resumes it from there (nothing the agent writes is lost); `stop`
closes it and the daemon's detection finalizes it (asked for at once when a daemon is up).
"""

from __future__ import annotations

import argparse
import os
import sys
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


def _with_daemon(
    ctx: CommandContext, method: str, params: dict[str, Any], timeout: float
) -> tuple[Any, str | None]:
    """`hook.daemon_or_here` for the CLI: the daemon's answer, or the request done in this
    process when no daemon runs or it cannot take it now (then with why)."""
    from ox_core.client import ErrorCode, IpcError, call
    from ox_session_capture.hook import daemon_or_here

    def ask(method: str, params: dict[str, Any], timeout: float) -> Any:
        return call(ctx.socket(), method, params, timeout=timeout)

    def noted(message: str) -> None:
        print(f"ox-core: note: {message}", file=sys.stderr)

    try:
        return daemon_or_here(method, params, timeout=timeout, noted=noted, ask=ask, ctx=ctx)
    except IpcError as exc:
        if exc.code != ErrorCode.UNKNOWN_METHOD:
            raise
    # A daemon without session capture: `ctx.call` says so as every command does (the one
    # line naming the missing plugin), asking once more (nothing was done).
    return ctx.call(method, params, timeout=timeout), None


def _start(args: argparse.Namespace, ctx: CommandContext) -> int:
    from ox_session_capture.hook import DISABLED_ENV, NOT_RUNNING, recording_disabled

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
    result, why = _with_daemon(ctx, "session_watch_start", params, 30.0)
    if args.json:
        ctx.print_json(result)
        return 0
    name = result.get("name", "") if isinstance(result, dict) else result
    if why == NOT_RUNNING:
        ctx.print(f"recording {name} created for {path}")
        ctx.print(
            "  the daemon is not running: start `ox-core serve` and it captures the file "
            "from this point on"
        )
    elif why is not None:
        ctx.print(f"recording {name} created for {path}")
        ctx.print(
            f"  {why}: it captures the file from this point on once it follows the recording "
            "(at its next start or check)"
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
    from ox_session_capture.hook import NOT_RUNNING

    result, why = _with_daemon(ctx, "session_watch_stop", {"name": args.name}, 120.0)
    if why is None:
        queued = "finalization is queued"
    elif why == NOT_RUNNING:
        queued = "the daemon is not running: it finalizes the session when it starts"
    else:
        queued = f"{why}, so it was stopped here: the daemon finalizes it at its next detection"
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
    failed = False
    for agent, path in _targets(args):
        if args.action == "status":
            rows.append(hooks_install.status(agent, path, runnable=True))
            continue
        fn = hooks_install.install if args.action == "install" else hooks_install.uninstall
        try:
            change = fn(agent, path)
        except hooks_install.HooksError as exc:
            # One agent's settings ox leaves alone: the others are still done, and said so.
            print(f"ox-core: error: {exc}", file=sys.stderr)
            failed = True
            rows.append({"adapter": agent.adapter, "file": str(path), "changed": False,
                         "detail": f"error: {exc}", "note": "", "error": str(exc)})  # fmt: skip
            continue
        row = {"adapter": change.adapter, "file": str(change.path), "changed": change.changed}
        rows.append({**row, "detail": change.detail, "note": agent.note})
    if args.json:
        ctx.print_json(rows)
        return 1 if failed else 0
    for row in rows:
        if row.get("error") and args.action != "status":
            continue  # said on stderr
        if args.action == "status":
            state = "installed" if row["installed"] else "not installed"
            if row.get("error"):
                state = f"error: {row['error']}"
            ctx.print(f"{row['adapter']}: {state} ({row['file']})")
        else:
            ctx.print(f"{row['adapter']}: {row['detail']} ({row['file']})")
        if row.get("note") and args.action != "uninstall":
            ctx.print(f"  note: {row['note']}")
    return 1 if failed else 0


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
                "--project",
                action="store_true",
                help="the settings of the project here (cwd); its hooks run `ox-core` from PATH",
            )
            s.add_argument("--json", action="store_true", help="print JSON for scripts")

    def run(self, args: argparse.Namespace, ctx: CommandContext) -> int:
        if not getattr(args, "action", None):
            args.parser.print_help()
            return 2
        return _hooks(args, ctx)


session = SessionCommand()
hooks = HooksCommand()
