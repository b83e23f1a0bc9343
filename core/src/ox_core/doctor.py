"""What `ox-core doctor` and `ox-core plugins` report, collected as plain JSON data.

Nothing here needs the daemon: runners are asked directly (each `usability()` answers within
2 s; they are asked in parallel), the ledger is inspected with git, and the daemon is found
through its lock file and socket.
"""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from ox_core.agents import usability
from ox_core.contracts import Diagnosis
from ox_core.plugins import LoadedPlugins, load_plugins
from ox_core.settings import Settings, config_file_path


def plugins_report(loaded: LoadedPlugins) -> list[dict[str, Any]]:
    """One row per installed entry point (plus failures with no entry point): name, group,
    distribution, version and `error` (None when it loaded)."""
    failed = {(e.group, e.name): e for e in loaded.errors}
    rows: list[dict[str, Any]] = []
    for info in loaded.plugins:
        err = failed.pop((info.group, info.name), None)
        rows.append(
            {
                "name": info.name,
                "group": info.group,
                "distribution": info.distribution,
                "version": info.version,
                "error": err.error if err else None,
            }
        )
    for err in failed.values():
        rows.append(
            {
                "name": err.name,
                "group": err.group,
                "distribution": err.distribution,
                "version": err.version,
                "error": err.error,
            }
        )
    return rows


def settings_rows(settings: Settings) -> list[dict[str, str]]:
    """Each setting (nested tables flattened to dotted keys) with its value and source."""
    sources = settings.sources()
    data = settings.model_dump(mode="json")
    rows: list[dict[str, str]] = []
    for key, value in data.items():
        if isinstance(value, dict) and value and key != "runners" and key != "handlers":
            for sub, sub_value in value.items():
                dotted = f"{key}.{sub}"
                source = _nested_source(sources, dotted)
                shown = sub_value
                if dotted == "agent_work.agent" and not sub_value:
                    shown = "(auto: the first usable runner)"
                rows.append({"key": dotted, "value": str(shown), "source": source})
        elif isinstance(value, dict):
            if not value:
                rows.append({"key": key, "value": "{}", "source": sources.get(key, "default")})
            for sub, sub_value in value.items():
                dotted = f"{key}.{sub}"
                rows.append(
                    {
                        "key": dotted,
                        "value": str(sub_value),
                        "source": _nested_source(sources, dotted),
                    }
                )
        else:
            shown = "(default ledger)" if key == "ledger" and value is None else value
            if key == "socket" and value is None:
                shown = "(per ledger)"
            rows.append({"key": key, "value": str(shown), "source": sources.get(key, "default")})
    return rows


def _nested_source(sources: dict[str, str], dotted: str) -> str:
    """Where `dotted` and the keys under it were set; a key set nowhere is a default (its
    table's source may be a variable or file that sets only other keys of it)."""
    hits = sorted({v for k, v in sources.items() if k == dotted or k.startswith(dotted + ".")})
    return ", ".join(hits) if hits else "default"


def _daemon_state(socket: Path) -> dict[str, Any]:
    """What the running daemon holds back and which errors stand, from its `status` (empty
    when it does not answer within 5 s: doctor must work when the daemon is stuck)."""
    from ox_core.ipc import call

    try:
        status = call(socket, "status", timeout=5.0)
        work = status.get("agent_work") or {}
    except Exception as exc:
        return {"status_error": str(exc) or type(exc).__name__}
    return {
        "holds": work.get("holds") or [],
        "errors": work.get("errors") or [],
        "ledger_sync": work.get("ledger_sync"),
    }


def collect(settings: Settings, loaded: LoadedPlugins | None = None) -> dict[str, Any]:
    """The whole doctor report (JSON-ready): runners, agent (`agent_usable`, and why not in
    `agent_detail`), handlers, plugin errors, ledger, daemon, settings with their sources."""
    from ox_core.agents import NO_AGENT, resolve_agent
    from ox_core.daemon import make_handlers, make_runners
    from ox_core.daemon_lock import is_locked, read_owner
    from ox_core.ledger_setup import describe_ledger

    loaded = loaded if loaded is not None else load_plugins()
    runners, runner_errors = make_runners(loaded, settings.runners)
    with ThreadPoolExecutor(max_workers=max(1, len(runners))) as pool:
        usabilities = list(pool.map(partial(usability, quiet=True), runners))
    runner_rows = [
        {
            "name": r.name,
            "priority": r.priority,
            "installed": u.installed,
            "authenticated": u.authenticated,
            "detail": u.auth_detail,
        }
        for r, u in zip(runners, usabilities, strict=True)
    ]
    try:
        agent = resolve_agent(settings.agent_work.agent, runners)
    except Exception as exc:
        agent = f"none (error: {exc})"
    # A configured agent is named as is: whether it can run is its row's (or, with no row of
    # that name, no runner plugin has it, as a typo in `agent_work.agent`).
    row = next((r for r in runner_rows if r["name"] == agent), None)
    agent_usable = row is not None and bool(row["installed"] and row["authenticated"])
    if agent.startswith(NO_AGENT):
        agent_detail = "no runner is installed and logged in"
    elif row is None:
        agent_detail = f"no runner plugin named {agent!r} is installed"
    else:
        agent_detail = str(row["detail"] or ("not logged in" if row["installed"] else "missing"))

    handlers, handler_errors = make_handlers(loaded, settings.handlers)
    handler_rows: list[dict[str, Any]] = [
        {"type": h.type, "class": f"{type(h).__module__}.{type(h).__qualname__}", "error": None}
        for h in handlers
    ]
    handler_rows += [{"type": e.name, "class": "-", "error": e.error} for e in handler_errors]
    checks: list[dict[str, Any]] = []
    for h in handlers:
        try:
            rows = [{"handler": h.type, **row} for row in h.doctor_checks()]
        except Exception as exc:
            rows = [{"handler": h.type, "check": "checks", "ok": False, "detail": str(exc)}]
        checks += rows

    ledger = settings.ledger_path()
    ledger_facts: dict[str, Any] = describe_ledger(ledger)
    ledger_facts["default"] = settings.uses_default_ledger()
    ledger_checks = _handler_checks(handlers, ledger) if ledger_facts["state"] == "ok" else []

    socket = settings.socket_path()
    daemon: dict[str, Any] = {"socket": str(socket), "running": False}
    if ledger.exists() and is_locked(ledger):
        owner = read_owner(ledger)
        daemon["running"] = True
        daemon["pid"] = owner.get("pid")
        owner_socket = owner.get("socket")
        if isinstance(owner_socket, str) and owner_socket:
            socket = Path(owner_socket)  # where the running daemon really listens
            daemon["socket"] = owner_socket
    try:
        mode = socket.lstat().st_mode
        if stat.S_ISSOCK(mode):
            daemon["socket_mode"] = f"{stat.S_IMODE(mode):04o}"
    except OSError:
        pass
    problem = _socket_problem(socket)
    if problem:
        daemon["socket_problem"] = problem
    if daemon["running"]:
        daemon.update(_daemon_state(socket))

    errors = [*loaded.errors, *runner_errors]
    return {
        "runners": runner_rows,
        "agent": agent,
        "agent_usable": agent_usable,
        "agent_detail": "" if agent_usable else agent_detail,
        "handlers": handler_rows,
        "checks": checks,
        "plugin_errors": [
            {
                "name": e.name,
                "group": e.group,
                "distribution": e.distribution,
                "version": e.version,
                "error": e.error,
            }
            for e in errors
        ],
        "ledger": ledger_facts,
        "ledger_checks": ledger_checks,
        "daemon": daemon,
        "settings": settings_rows(settings),
        "config_file": str(config_file_path()),
        "config_file_exists": config_file_path().is_file(),
    }


def _handler_checks(handlers: list[Any], ledger: Path) -> list[dict[str, Any]]:
    """Each handler's `diagnose(ledger)` rows (a handler that raises is one failed row)."""
    rows: list[dict[str, Any]] = []
    for handler in handlers:
        try:
            found = list(handler.diagnose(ledger))
        except Exception as exc:
            rows.append(
                {
                    "handler": handler.type,
                    "name": "checks",
                    "ok": False,
                    "warning": False,
                    "detail": f"diagnose failed: {exc}",
                }
            )
            continue
        for d in found:
            if not isinstance(d, Diagnosis):  # e.g. a `doctor_checks` row: nothing to read
                rows.append(
                    {
                        "handler": handler.type,
                        "name": "checks",
                        "ok": False,
                        "warning": False,
                        "detail": f"diagnose returned {d!r:.200}, not a Diagnosis",
                    }
                )
                continue
            rows.append(
                {
                    "handler": handler.type,
                    "name": d.name,
                    "ok": d.ok,
                    "warning": d.warning,
                    "detail": d.detail,
                }
            )
    return rows


def _socket_problem(path: Path) -> str | None:
    """Why the CLI would refuse the socket at `path` (not the user's own daemon), or None
    when it is fine or nothing listens there. Connects, sends nothing, hangs up."""
    from ox_core.errors import OxError
    from ox_core.sockets import DaemonNotRunningError, connect_private_socket

    try:
        connect_private_socket(path, timeout=2).close()
    except DaemonNotRunningError:
        return None
    except OxError as exc:
        return str(exc)
    return None


def has_problems(report: dict[str, Any]) -> bool:
    """Whether doctor should exit non-zero: a broken plugin, handler, ledger or socket."""
    sync = report["daemon"].get("ledger_sync") or {}
    return bool(
        report["daemon"].get("socket_problem")
        or sync.get("paused")
        or any(not c["ok"] and not c["warning"] for c in report.get("ledger_checks", []))
        or report["plugin_errors"]
        or any(h["error"] for h in report["handlers"])
        or report["ledger"].get("state") not in ("ok", "missing (created on first `ox-core serve`)")
    )
