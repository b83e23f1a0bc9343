"""The `ox-core` command line. Imports stay inside the commands so `--help` starts fast."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

log = logging.getLogger("ox")


def _serve(args: argparse.Namespace) -> int:
    import trio

    from ox_core.plugins import load_plugins

    plugins = load_plugins()
    for err in plugins.errors:
        log.warning("plugin %s (%s) failed to load: %s", err.name, err.distribution, err.error)
    log.info(
        "ox-core ready: runners %s, handlers %s",
        ", ".join(plugins.runners) or "none",
        ", ".join(plugins.handlers) or "none",
    )

    async def main() -> None:
        with trio.open_signal_receiver(2, 15) as signals:  # SIGINT, SIGTERM
            async for signum in signals:
                log.info("signal %d: stopping", signum)
                return

    trio.run(main)
    return 0


def _plugins(args: argparse.Namespace) -> int:
    from ox_core.plugins import load_plugins

    loaded = load_plugins()
    failed = {(e.group, e.name): e for e in loaded.errors}
    for info in loaded.plugins:
        err = failed.get((info.group, info.name))
        status = f"ERROR {err.error}" if err else "ok"
        print(f"{info.group:12} {info.name:20} {info.distribution} {info.version}  {status}")
    return 1 if loaded.errors else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ox-core", description="Run background AI coding-agent work for your sessions."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("serve", help="run the daemon in the foreground").set_defaults(fn=_serve)
    sub.add_parser("plugins", help="list installed plugins").set_defaults(fn=_plugins)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    if not getattr(args, "fn", None):
        parser.print_help()
        return 2
    from ox_core.errors import OxError

    try:
        result: int = args.fn(args)
        return result
    except OxError as exc:
        if args.debug:
            raise
        print(f"ox-core: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
