"""`ox-core sync`: sync the ledger with its remote now (entry-point group `ox.commands`).

With a daemon running it asks the daemon (IPC `ledger_sync`, the same pass its sync service
runs on schedule); without one it syncs here, under no lock but git's own.
"""

from __future__ import annotations

import argparse
from typing import Any

from ox_core.commands import Command, CommandContext


def _in_process(ctx: CommandContext) -> dict[str, Any]:
    import trio

    from ox_core.ledger_setup import open_ledger
    from ox_handler_session_finalize.ledger import Ledger
    from ox_handler_session_finalize.sync_service import LedgerSyncer

    settings = ctx.settings
    path = open_ledger(settings.ledger_path(), default=settings.uses_default_ledger())
    author = settings.handlers.get("session-finalize", {}).get("author", "")
    ledger = Ledger(path, author=author if isinstance(author, str) else "")
    syncer = LedgerSyncer(ledger)
    trio.run(syncer.sync_once)
    return syncer.state_json()


def describe(state: dict[str, Any]) -> list[str]:
    """The lines `ox-core sync` prints for a sync state."""
    if not state.get("remote"):
        return ["the ledger has no remote: nothing to sync"]
    lines = [
        f"{state['remote']}: {state.get('ahead', 0)} ahead, {state.get('behind', 0)} behind"
        + (", synced" if not state.get("last_error") else "")
    ]
    if state.get("paused"):
        lines.append(str(state["paused"]))
    elif state.get("last_error"):
        lines.append(f"sync failed: {state['last_error']}")
    return lines


class SyncCommand(Command):
    """`ox-core sync`."""

    help = "sync the ledger with its remote now: fetch, integrate, push"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--json", action="store_true", help="print JSON for scripts")

    def run(self, args: argparse.Namespace, ctx: CommandContext) -> int:
        from ox_core.ipc import DaemonNotRunningError

        try:
            state = ctx.call("ledger_sync", {}, timeout=600.0)
        except DaemonNotRunningError:
            state = _in_process(ctx)
        with ctx.reading_answer("ledger_sync"):
            lines = describe(state)
            failed = bool(state.get("last_error"))
        if args.json:
            ctx.print_json(state)
        else:
            for line in lines:
                ctx.print(line)
        return 1 if failed else 0


sync = SyncCommand()
