"""The `ox-core` command line.

Imports stay inside the commands so `ox-core --help` starts fast (no trio, pydantic,
rich or plugin modules). Errors are one line on stderr (`ox-core: error: ...`), with a
traceback only under `--debug`.
"""

from __future__ import annotations

import os
import sys

# Not `typing`'s, and argparse only where a parser is built: `_fast` (agent hooks, `status
# --json`) runs before either is imported.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence
    from typing import Any

    from rich.console import Console

    from ox_core.commands import CommandContext
    from ox_core.settings import Settings


def _settings() -> Settings:
    from ox_core.settings import load_settings

    return load_settings()


def _console() -> Console:
    from rich.console import Console

    return Console()


def _context(args: argparse.Namespace | None = None) -> CommandContext:
    from ox_core.commands import CommandContext

    return CommandContext(debug=bool(getattr(args, "debug", False)))


def _call(method: str, params: dict[str, Any] | None = None, *, timeout: float = 30.0) -> Any:
    return _context().call(method, params, timeout=timeout)


def _print_json(data: Any) -> None:
    from ox_core.commands import print_json

    print_json(data)


# -- commands ------------------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    import trio

    from ox_core.daemon import serve
    from ox_core.logs import setup_logging

    settings = _settings()
    setup_logging(
        args.log_format or settings.log_format, "DEBUG" if args.debug else settings.log_level
    )
    trio.run(serve, settings)
    return 0


def _status(args: argparse.Namespace) -> int:
    if args.json:
        _print_json(_call("status"))
        return 0
    from ox_core.render import status_screen

    console = _console()
    ctx = _context()
    if not args.watch:
        status = ctx.call("status")
        with ctx.reading_answer("status"):
            console.print(status_screen(status))
        return 0
    import time

    from rich.live import Live

    socket = ctx.socket()
    from ox_core.ipc import call

    try:
        with ctx.reading_answer("status"):
            screen = status_screen(call(socket, "status"))
            with Live(screen, console=console, screen=False) as live:
                while True:
                    time.sleep(args.interval)
                    live.update(status_screen(call(socket, "status")))
    except KeyboardInterrupt:
        return 0


def _doctor(args: argparse.Namespace) -> int:
    from ox_core.doctor import collect, has_problems

    report = collect(_settings())
    if args.json:
        _print_json(report)
    else:
        from ox_core.render import doctor_screen

        _console().print(doctor_screen(report))
    return 1 if has_problems(report) else 0


def _plugins(args: argparse.Namespace) -> int:
    import attrs

    from ox_core.commands import COMMANDS_GROUP, command_errors
    from ox_core.doctor import plugins_report
    from ox_core.plugins import PluginLoadError, load_plugins

    loaded = load_plugins()
    broken = [
        PluginLoadError(ep.name, COMMANDS_GROUP, ep.dist.name, ep.dist.version, error)
        if ep.dist is not None
        else PluginLoadError(ep.name, COMMANDS_GROUP, "?", "?", error)
        for ep, error in command_errors(_builtin_commands())
    ]
    rows = plugins_report(attrs.evolve(loaded, errors=(*loaded.errors, *broken)))
    if args.json:
        _print_json(rows)
    else:
        from ox_core.render import plugins_screen

        _console().print(plugins_screen(rows))
    return 1 if any(r["error"] for r in rows) else 0


def _config(args: argparse.Namespace) -> int:
    from ox_core.config_keys import core_rows, plugin_rows
    from ox_core.plugins import load_plugins

    rows = [*core_rows(), *plugin_rows(load_plugins())]
    if args.json:
        _print_json(rows)
        return 0
    for row in rows:
        print(f"{row['key']} ({row['type']}, default {row['default']}; {row['owner']})")
        print(f"    {row['description']}")
    return 0


def _detect(args: argparse.Namespace) -> int:
    ctx = _context()
    result = ctx.call("force_detect", {"resume": True} if args.force else None, timeout=120.0)
    if args.json:
        _print_json(result)
        return 0
    with ctx.reading_answer("force_detect"):
        lines = _detection_lines(result, force=args.force)
    print("\n".join(lines))
    return 0


def _detection_lines(result: Any, *, force: bool) -> list[str]:
    """What `detect` prints for the daemon's `force_detect` answer."""
    from ox_core.logs import escape_controls

    lines = ["lifted any quota pause, parked item and paused work type"] if force else []
    queued = int(result.get("queued", 0))
    lines.append(f"detection queued {queued} {'item' if queued == 1 else 'items'}")
    for label in ("waiting", "running"):
        for item in result.get(label) or []:
            # A key holds a session's folder name, which any teammate may write: shown, not run.
            shown = escape_controls(f"{item.get('type')}  {item.get('key')}")
            lines.append(f"  {label:8} {shown}")
    return lines


def _enqueue(args: argparse.Namespace) -> int:
    import json

    from ox_core.errors import OxError

    try:
        payload = json.loads(args.payload)
    except ValueError as exc:
        raise OxError(f"--payload is not JSON: {exc}") from None
    except RecursionError:  # `json` recurses per nested array or object
        raise OxError("--payload is not JSON: nested too deeply") from None
    params = {
        "type": args.type,
        "payload": payload,
        "priority": args.priority,
        "dedup_key": args.key,
    }
    ctx = _context()
    result = ctx.call("enqueue", params)
    if args.json:
        _print_json(result)
        return 0
    with ctx.reading_answer("enqueue"):
        queued = result.get("queued")
    if queued:
        print(f"queued {args.type} item {result.get('id', '')}".rstrip())
    else:
        print(f"not queued: an item with key {args.key!r} is already waiting, or the queue is full")
        return 1
    return 0


def _service_install(args: argparse.Namespace) -> int:
    from ox_core import service

    extra = args.serve_args[1:] if args.serve_args[:1] == ["--"] else args.serve_args
    path = service.install(extra_args=extra, enable=args.enable)
    print(f"wrote {path}")
    if args.enable:
        print("ox-core is enabled and started: journalctl --user -u ox-core -f")
    else:
        print("start it: systemctl --user daemon-reload && systemctl --user enable --now ox-core")
    return 0


def _service_uninstall(args: argparse.Namespace) -> int:
    from ox_core import service

    path = service.uninstall(disable=args.disable)
    print(f"removed {path}" if path else "no ox-core unit file was installed")
    return 0


# -- parser --------------------------------------------------------------------------------


MAX_INTERVAL = 86400.0
"""The longest `status --watch --interval`, a day: `time.sleep` refuses one of some 300 years
(`OverflowError`), after the first screen."""


def _seconds(text: str) -> float:
    """An `--interval`: a number above 0 and at most `MAX_INTERVAL` (`time.sleep` refuses a
    negative, NaN or huge one mid-watch, and 0 would ask the daemon in a busy loop)."""
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    if value > MAX_INTERVAL:
        raise argparse.ArgumentTypeError(f"{text!r} is more than a day ({MAX_INTERVAL:g} s)")
    return value


def _builtin_commands() -> set[str]:
    import argparse

    parser = build_parser(plugins=False)
    return {
        name
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for name in action.choices
    }


def build_parser(load: str | None = None, *, plugins: bool = True) -> argparse.ArgumentParser:
    """The argument parser of `ox-core` (imports nothing heavy). With `plugins`, plugin
    commands are listed from metadata; the one named `load` is imported to add its arguments
    (`CommandLoadError` when it cannot be)."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="ox-core",
        description="Record AI coding-agent sessions and finalize them into a shared git ledger.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument(
        "--log-format", choices=("text", "json"), default=None, help="log lines as text or JSON"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("serve", help="run the daemon in the foreground")
    p.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=argparse.SUPPRESS,
        help="log lines as text (default) or JSON",
    )
    p.set_defaults(fn=_serve)

    p = sub.add_parser("status", help="show the agent, queue, running and recent work")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.add_argument("--watch", action="store_true", help="refresh live until Ctrl-C")
    p.add_argument(
        "--interval",
        type=_seconds,
        default=1.0,
        help="seconds between refreshes (default 1, at most 86400)",
    )
    p.set_defaults(fn=_status)

    p = sub.add_parser("doctor", help="check agents, handlers, the ledger, the daemon, settings")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.set_defaults(fn=_doctor)

    p = sub.add_parser("plugins", help="list installed plugins and load errors")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.set_defaults(fn=_plugins)

    p = sub.add_parser("config", help="list every config key of core and the plugins")
    p.add_argument("--show", action="store_true", help="list the keys (the default)")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.set_defaults(fn=_config)

    p = sub.add_parser("detect", help="scan the ledger for work now and queue it")
    p.add_argument(
        "--force", action="store_true", help="also lift a quota pause (agent work resumes now)"
    )
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.set_defaults(fn=_detect)

    p = sub.add_parser("enqueue", help="queue a work item for a handler")
    p.add_argument("type", help="work type (a handler's type, see `ox-core doctor`)")
    p.add_argument("--payload", default="{}", help="the item's payload, as JSON")
    p.add_argument("--priority", type=int, default=50, help="lower runs first (default 50)")
    p.add_argument("--key", default="", help="dedup key: not queued twice at once")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.set_defaults(fn=_enqueue)

    p = sub.add_parser("service", help="run the daemon as a systemd user service")
    service = p.add_subparsers(dest="service_command", metavar="ACTION")
    s = service.add_parser("install", help="write ~/.config/systemd/user/ox-core.service")
    s.add_argument("--enable", action="store_true", help="also daemon-reload, enable and start it")
    s.add_argument(
        "serve_args", nargs=argparse.REMAINDER, help="extra arguments for `serve`, after --"
    )
    s.set_defaults(fn=_service_install)
    s = service.add_parser("uninstall", help="remove the unit file")
    s.add_argument("--disable", action="store_true", help="stop and disable the service first")
    s.set_defaults(fn=_service_uninstall)
    p.set_defaults(parser=p)

    if plugins:
        from ox_core.commands import add_plugin_commands

        add_plugin_commands(sub, taken=set(sub.choices), load=load)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `ox-core` with `argv` (default: the process arguments); returns the exit code.

    A reader that goes away early (`ox-core status --json | head -1`) ends the command
    quietly with 141 (128 + SIGPIPE), as a shell tool does, never with a traceback."""
    try:
        try:
            code = _fast(sys.argv[1:] if argv is None else argv)
            if code is None:
                code = _main(argv)
        finally:
            # argparse's exit too: a buffered write meets the closed pipe. No `sys.stdout` at
            # all when the command was started with it closed (`ox-core serve >&-`).
            if sys.stdout is not None:
                sys.stdout.flush()
    except BrokenPipeError:
        # Nothing more can reach the reader; point stdout at /dev/null so the interpreter's
        # own flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return code


_BUILTIN = frozenset(
    ("serve", "status", "doctor", "plugins", "config", "detect", "enqueue", "service")
)


def _fast(argv: Sequence[str]) -> int | None:
    """Commands that only ask a running daemon, answered before any parser, setting or plugin
    machinery is imported (`ox_core.client`, standard library only): `status --json` and a
    plugin command's `run_fast` (an agent hook). None: go the usual way, which also reports
    the errors met before the daemon was asked (even no daemon); once it was asked, a fast
    path reports its own error (asking again would double the wait)."""
    if list(argv) == ["status", "--json"]:
        return _fast_status()
    if not argv or argv[0].startswith("-") or argv[0] in _BUILTIN:
        return None
    from ox_core.commands import fast_command

    command = fast_command(argv[0])
    return None if command is None else command.run_fast(argv[1:])


def _fast_status() -> int | None:
    """`status --json` by `ox_core.client`. Only what failed before the request was sent goes
    the usual way: asking a daemon that took it again would double the wait for its answer
    (30 s to a daemon that never answers) and the error said the first deadline."""
    from ox_core.client import call, daemon_socket
    from ox_core.errors import OxError
    from ox_core.sockets import DaemonNotRunningError, UntrustedSocketError

    try:
        socket = daemon_socket()
    except Exception:  # a setting: the usual path names it as every command does
        return None
    try:
        result = call(socket, "status")
    except (DaemonNotRunningError, UntrustedSocketError):
        return None  # nothing was sent; the usual path says it as every command does
    except OxError as exc:
        print(_error_line(exc), file=sys.stderr)
        return 1
    from ox_core.commands import print_json

    print_json(result)
    return 0


def _main(argv: Sequence[str] | None) -> int:
    from ox_core.commands import CommandLoadError, command_word
    from ox_core.errors import OxError

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        parser = build_parser(load=command_word(build_parser(plugins=False), argv))
    except CommandLoadError as exc:
        if debug:
            raise
        print(_error_line(exc), file=sys.stderr)
        return 1
    args = parser.parse_args(argv)
    command = getattr(args, "plugin_command", None)
    fn: Callable[[argparse.Namespace], int] | None = getattr(args, "fn", None)
    if fn is None and command is None:
        (getattr(args, "parser", None) or parser).print_help()
        return 2
    try:
        if command is not None:
            result: int = command.run(args, _context(args))
            return result
        assert fn is not None
        return fn(args)
    except OxError as exc:
        if args.debug:
            raise
        print(_error_line(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _error_line(exc: BaseException) -> str:
    """`ox-core: error: ...` with the message's control characters shown as escapes: it may
    quote what a daemon, git, an agent CLI or a file in the ledger's cache said."""
    from ox_core.logs import escape_controls

    return escape_controls(f"ox-core: error: {exc}")


if __name__ == "__main__":
    sys.exit(main())
