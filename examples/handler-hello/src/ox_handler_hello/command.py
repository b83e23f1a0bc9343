"""`ox-core hello NAME`: drop a hello request into the ledger and ask the daemon to look.

Declared as an entry point in group `ox.commands`; `ox-core --help` lists it without
importing this module.
"""

from __future__ import annotations

import argparse
import re

from ox_core.commands import Command, CommandContext
from ox_core.errors import OxError
from ox_core.ipc import DaemonNotRunningError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class HelloCommand(Command):
    help = "ask the hello handler to greet someone"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("name", help="who to greet (letters, digits, - and _)")
        parser.add_argument("--text", default=None, help="the request's text (default: NAME)")

    def run(self, args: argparse.Namespace, ctx: CommandContext) -> int:
        from ox_handler_hello.handler import write_request

        if not NAME.match(args.name):
            raise OxError(f"hello: {args.name!r} is not a plain name (letters, digits, - and _)")
        ledger = ctx.settings.ledger_path()
        if not ledger.is_dir():
            raise OxError(f"hello: the ledger {ledger} does not exist yet (start ox-core serve)")
        path = write_request(ledger, args.name, args.name if args.text is None else args.text)
        ctx.print(f"asked: {path.relative_to(ledger)}")
        try:
            queued = ctx.call("force_detect", {}).get("queued", 0)
        except DaemonNotRunningError:
            ctx.print("the daemon is not running: it answers at its next start")
            return 0
        ctx.print(f"the daemon queued {queued} item(s)")
        return 0


command = HelloCommand()
