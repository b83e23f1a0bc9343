"""`ox-core session start|stop`: the CLI of session capture (entry-point group `ox.commands`).

Both talk to the running daemon (IPC `session_watch_start` / `session_watch_stop`). Without a
daemon they work in this process: `start` creates the recording with its start offset and the
next daemon resumes it from there (nothing the agent writes is lost); `stop` closes it and the
next daemon's detection finalizes it.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from ox_core.commands import Command, CommandContext


def _in_process(ctx: CommandContext, method: str, params: dict[str, Any]) -> Any:
    """Run a watch method here, on the configured ledger, with no watcher running."""
    import trio

    from ox_core.ledger_setup import open_ledger
    from ox_session_capture.service import SessionWatchService

    settings = ctx.settings
    ledger = open_ledger(settings.ledger_path(), default=settings.uses_default_ledger())
    return trio.run(SessionWatchService(ledger).ipc_methods()[method], dict(params))


def _start(args: argparse.Namespace, ctx: CommandContext) -> int:
    from ox_core.ipc import DaemonNotRunningError

    path = os.path.abspath(os.path.expanduser(args.file))
    params = {
        "adapter": args.adapter,
        "file": path,
        "pid": args.pid if args.pid is not None else os.getppid(),
    }
    try:
        result = ctx.call("session_watch_start", params)
    except DaemonNotRunningError:
        result = _in_process(ctx, "session_watch_start", params)
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
        result = _in_process(ctx, "session_watch_stop", params)
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


session = SessionCommand()
