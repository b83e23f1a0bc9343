"""The `ox-core` command line.

Imports stay inside the commands so `ox-core --help` starts fast (no trio, pydantic,
rich or plugin modules). Errors are one line on stderr (`ox-core: error: ...`), with a
traceback only under `--debug`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from ox_core.settings import Settings


def _settings() -> Settings:
    from ox_core.settings import load_settings

    return load_settings()


def _console() -> Console:
    from rich.console import Console

    return Console()


def _socket() -> Path:
    """The daemon's socket: where the settings put it, else where the ledger's daemon says.

    The lock file names the running daemon's socket, so a shell whose runtime dir differs
    from the daemon's (`XDG_RUNTIME_DIR` unset over ssh, say) still finds it.
    """
    settings = _settings()
    path = settings.socket_path()
    if settings.socket is None and not path.exists():
        from ox_core.daemon_lock import is_locked, read_owner

        ledger = settings.ledger_path()
        owner = read_owner(ledger).get("socket") if is_locked(ledger) else None
        if isinstance(owner, str) and owner:
            return Path(owner)
    return path


def _call(method: str, params: dict[str, Any] | None = None, *, timeout: float = 30.0) -> Any:
    from ox_core.ipc import call

    return call(_socket(), method, params, timeout=timeout)


def _call_plugin(
    method: str,
    params: dict[str, Any],
    what: str,
    *,
    timeout: float = 30.0,
    offline: bool = False,
) -> Any:
    """Call an IPC method that a handler plugin serves; say so plainly when none does.

    With `offline`, a method that works without a daemon runs in this process when none is
    running (what it leaves on disk is picked up by the next daemon).
    """
    from ox_core.errors import OxError
    from ox_core.ipc import DaemonNotRunningError, IpcError

    try:
        return _call(method, params, timeout=timeout)
    except DaemonNotRunningError:
        if not offline:
            raise
        return _call_plugin_in_process(method, params, what)
    except IpcError as exc:
        if exc.code == "unknown_method":
            raise OxError(
                f"no installed handler plugin serves `{what}` (IPC method {method}); "
                "see `ox-core plugins`"
            ) from None
        raise


def _call_plugin_in_process(method: str, params: dict[str, Any], what: str) -> Any:
    """Run a handler's IPC method here, with the handlers attached to the ledger but no
    manager: `enqueue` refuses, and the next daemon's detection finds the work instead."""
    import trio

    from ox_core.contracts import HandlerContext
    from ox_core.daemon import make_handlers
    from ox_core.errors import OxError
    from ox_core.ledger_setup import open_ledger
    from ox_core.plugins import load_plugins

    settings = _settings()
    ledger = open_ledger(settings.ledger_path(), default=settings.uses_default_ledger())
    handlers, _errors = make_handlers(load_plugins(), settings.handlers)
    for handler in handlers:
        handler.attach(HandlerContext(ledger=ledger, enqueue=lambda _item: False))
        fn = handler.ipc_methods().get(method)
        if fn is not None:
            return trio.run(fn, dict(params))
    raise OxError(
        f"no installed handler plugin serves `{what}` (IPC method {method}); see `ox-core plugins`"
    )


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True, default=str))


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
    if not args.watch:
        console.print(status_screen(_call("status")))
        return 0
    import time

    from rich.live import Live

    socket = _socket()
    from ox_core.ipc import call

    try:
        with Live(status_screen(call(socket, "status")), console=console, screen=False) as live:
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
    from ox_core.commands import command_rows
    from ox_core.doctor import plugins_report
    from ox_core.plugins import load_plugins

    rows = [*plugins_report(load_plugins()), *command_rows()]
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
    result = _call("force_detect", {"resume": True} if args.force else None, timeout=120.0)
    if args.json:
        _print_json(result)
        return 0
    if args.force:
        print("lifted any quota pause, parked item and paused work type")
    queued = int(result.get("queued", 0))
    noun = "item" if queued == 1 else "items"
    print(f"detection queued {queued} {noun}")
    for label in ("waiting", "running"):
        for item in result.get(label) or []:
            print(f"  {label:8} {item.get('type')}  {item.get('key')}")
    return 0


def _enqueue(args: argparse.Namespace) -> int:
    from ox_core.errors import OxError

    try:
        payload = json.loads(args.payload)
    except ValueError as exc:
        raise OxError(f"--payload is not JSON: {exc}") from None
    params = {
        "type": args.type,
        "payload": payload,
        "priority": args.priority,
        "dedup_key": args.key,
    }
    result = _call("enqueue", params)
    if args.json:
        _print_json(result)
    elif result.get("queued"):
        print(f"queued {args.type} item {result.get('id', '')}".rstrip())
    else:
        print(f"not queued: an item with key {args.key!r} is already waiting, or the queue is full")
        return 1
    return 0


def _session_start(args: argparse.Namespace) -> int:
    path = os.path.abspath(os.path.expanduser(args.file))
    params = {
        "adapter": args.adapter,
        "file": path,
        "pid": args.pid if args.pid is not None else os.getppid(),
    }
    result = _call_plugin("session_watch_start", params, "session start", offline=True)
    if args.json:
        _print_json(result)
    else:
        name = result.get("name", "") if isinstance(result, dict) else result
        if isinstance(result, dict) and result.get("watching") is False:
            print(f"recording {name} created for {path}")
            print(
                "  the daemon is not running: start `ox-core serve` and it captures the file "
                "from this point on"
            )
        else:
            print(f"recording {name} started, following {path}")
        if isinstance(result, dict) and result.get("session_dir"):
            print(f"  captured into {result['session_dir']}")
    return 0


def _session_stop(args: argparse.Namespace) -> int:
    from ox_core.ipc import DaemonNotRunningError

    try:
        result = _call_plugin(
            "session_watch_stop", {"name": args.name}, "session stop", timeout=120.0
        )
        queued = "finalization is queued"
    except DaemonNotRunningError:
        result = _call_plugin_in_process("session_watch_stop", {"name": args.name}, "session stop")
        queued = "the daemon is not running: it finalizes the session when it starts"
    if args.json:
        _print_json(result)
    else:
        count = result.get("entry_count") if isinstance(result, dict) else None
        entries = f" with {count} entries" if count is not None else ""
        print(f"recording {args.name} stopped{entries}; {queued}")
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `ox-core` (imports nothing heavy)."""
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
    p.add_argument("--interval", type=float, default=1.0, help="seconds between refreshes")
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

    p = sub.add_parser("session", help="record an agent's session file (tail mode)")
    session = p.add_subparsers(dest="session_command", metavar="ACTION")
    s = session.add_parser("start", help="start recording an agent's session file")
    s.add_argument(
        "--adapter",
        required=True,
        help="the session adapter for the file's format (an error lists the installed ones)",
    )
    s.add_argument("--file", required=True, help="the agent's session file (.jsonl)")
    s.add_argument("--pid", type=int, default=None, help="the agent's pid (default: my parent)")
    s.add_argument("--json", action="store_true", help="print JSON for scripts")
    s.set_defaults(fn=_session_start)
    s = session.add_parser("stop", help="stop a recording and queue its finalization")
    s.add_argument("name", help="the recording's name, as `session start` printed it")
    s.add_argument("--json", action="store_true", help="print JSON for scripts")
    s.set_defaults(fn=_session_stop)
    p.set_defaults(parser=p)

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
    _add_plugin_commands(sub)
    return parser


def _add_plugin_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """One subcommand per `ox.commands` entry point, from its metadata only (no import):
    its arguments are parsed by the command itself once loaded (`ox_core.commands`)."""
    from ox_core.commands import listed_commands, run_command

    for name, dist in sorted(listed_commands().items()):
        if name in sub.choices:  # a core command is never shadowed
            continue
        # NUL as the prefix: every argument after the name goes to the command untouched.
        p = sub.add_parser(name, help=f"(from {dist})", add_help=False, prefix_chars="\0")
        p.add_argument("plugin_argv", nargs=argparse.REMAINDER)
        p.set_defaults(fn=lambda args, name=name: run_command(name, args.plugin_argv))


def main(argv: Sequence[str] | None = None) -> int:
    """Run `ox-core` with `argv` (default: the process arguments); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    fn = getattr(args, "fn", None)
    if fn is None:
        (getattr(args, "parser", None) or parser).print_help()
        return 2
    from ox_core.errors import OxError

    try:
        result: int = fn(args)
        return result
    except OxError as exc:
        if args.debug:
            raise
        print(f"ox-core: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
