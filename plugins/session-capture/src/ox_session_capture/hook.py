"""`ox-core hook <adapter> <event>`: what an agent's hooks run (`ox-core hooks install`).

The agent writes one JSON object on stdin (`session_id`, `transcript_path`, `source`, ...:
the same keys in Claude Code, Codex CLI and Gemini CLI). `SessionStart` starts or continues
the recording of that agent session, `SessionEnd` stops it and queues its finalization; other
events are ignored. The hook runs inside the agent's time budget (Claude Code cancels a
`SessionEnd` hook after 1.5 s), so with a daemon running only the standard library and
`ox_core.client` are imported; without one the recording is made in this process, as
`session start` does. It always exits 0, so it never breaks the agent: a problem is one line
in `<user state dir>/ox/hooks.log`, which `ox-core status` shows. It does nothing at all when
`OX_SESSION_RECORDING=disabled` (ox's own background runs of an agent).
"""

from __future__ import annotations

import json
import os
import time

from ox_core.commands import Command, CommandContext

TYPE_CHECKING = False  # not `typing`'s: this module is on the hook's fast path
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence
    from pathlib import Path
    from typing import Any

    Ask = Callable[[str, dict[str, Any], float], Any]
    """Call a daemon method: (method, params, timeout) → its result."""

DISABLED_ENV = "OX_SESSION_RECORDING"
MAX_STDIN = 1024 * 1024
"""The most of the agent's JSON read (a real one is a few hundred bytes)."""
MAX_LOG = 256 * 1024
"""`hooks.log` is rotated (to `hooks.log.1`) past this size."""
CALL_TIMEOUT = 20.0
FOLLOW_TIMEOUT = 5.0
"""How long a start hook that recorded in its own process waits for the daemon to follow it."""
NUDGE_TIMEOUT = 0.25
"""How long an end done in this process waits for the daemon's answer to `nudge`: refusals
come at once, and the in-process end has already used about half of a 1.5 s budget."""
NOT_RUNNING = "the daemon is not running"
UNREADY = {
    "starting": "the daemon is still starting",
    "shutting_down": "the daemon is shutting down",
    "busy": "the daemon is busy",
}
"""The refusals (`ErrorCode`s) that mean "not now": the request is done in this process."""
EVENTS = {"SessionStart": "start", "SessionEnd": "end"}
ADAPTER_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


class HookProblem(Exception):
    """Why a hook did nothing (one line for the log)."""


def log_path() -> Path:
    from pathlib import Path

    from ox_core.paths import user_state_dir

    return Path(user_state_dir()) / "hooks.log"


def note_problem(argv: Sequence[str], message: str) -> None:
    """Append one line to `hooks.log` (never through a link; rotated when large). Never
    raises: a hook that cannot even log still exits 0."""
    try:
        path = log_path()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            if os.lstat(path).st_size > MAX_LOG:
                os.replace(path, f"{path}.1")
        except FileNotFoundError:
            pass
        # One line, whatever the agent sent: no newline to forge another, no escape to act
        # on the terminal `ox-core status` shows it on.
        line = _one_line(message)[:2000]
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        what = _one_line(" ".join(a[:64] for a in argv[:2])) or "-"
        from ox_core.fs import open_regular  # only on this failure path: hooks start fast

        fd = open_regular(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            # An argument or a path that is not UTF-8 (lone surrogates) is written escaped:
            # strict encoding would drop the one line saying why nothing was recorded.
            os.write(fd, f"{stamp} hook {what}: {line}\n".encode("utf-8", "backslashreplace"))
        finally:
            os.close(fd)
    except Exception:  # nothing else can be done inside an agent's hook
        pass


def _one_line(text: str) -> str:
    """`text` on one line, its controls escaped as every log line's are."""
    from ox_core.logs import escape_controls  # only on the failure path: hooks start fast

    return escape_controls(" ".join(text.split()))


def recent_problems(within: float = 3600.0, now: float | None = None) -> list[str]:
    """The lines of `hooks.log` from the last `within` seconds (its last 64 KiB only)."""
    from ox_core.fs import read_regular

    try:
        data = read_regular(log_path())[-65536:]
    except Exception:  # no log (the usual case), or one ox will not read
        return []
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((now or time.time()) - within))
    lines = data.decode("utf-8", "replace").splitlines()
    return [line for line in lines if line[:20] >= since]


def read_stdin() -> bytes:
    """The agent's JSON (at most `MAX_STDIN` + 1 bytes); nothing from a terminal."""
    fd = 0
    try:
        if os.isatty(fd):
            return b""
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_STDIN:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    except OSError:
        return b""


def hook_params(adapter: str, event: str, data: bytes, ppid: int) -> dict[str, Any] | None:
    """The `session_hook` params for this hook call; None for an event ox ignores. Raises
    `HookProblem` for input that cannot be used (one line: what was wrong)."""
    action = EVENTS.get(event)
    if action is None:
        return None
    if not adapter or len(adapter) > 64 or not set(adapter) <= ADAPTER_CHARS:
        raise HookProblem(f"invalid adapter name {adapter[:64]!r}")
    if len(data) > MAX_STDIN:
        raise HookProblem(f"the agent's JSON is over {MAX_STDIN} bytes; ignored")
    try:
        payload = json.loads(data)
    except (ValueError, RecursionError):  # nested beyond reason is no hook input either
        raise HookProblem("the agent's input is not JSON") from None
    if not isinstance(payload, dict):
        raise HookProblem("the agent's input is not a JSON object")
    session_id = payload.get("session_id")
    path = payload.get("transcript_path")
    if not isinstance(session_id, str) or not 0 < len(session_id) <= 200:
        raise HookProblem("the agent's input has no usable session_id")
    if not all("\x21" <= c <= "\x7e" for c in session_id):
        raise HookProblem("the agent's session_id holds spaces or control characters")
    if not isinstance(path, str) or not path.startswith("/") or "\x00" in path:
        raise HookProblem("the agent's input has no absolute transcript_path")
    if len(path) > 4096:
        raise HookProblem("the agent's transcript_path is too long")
    source = payload.get("source")
    return {
        "adapter": adapter,
        "event": action,
        "agent_session_id": session_id,
        "file": path,
        "pid": ppid if ppid > 1 else 0,
        "resumed": isinstance(source, str) and source not in ("", "startup"),
    }


def recording_disabled() -> bool:
    """Whether `OX_SESSION_RECORDING=disabled` (ox's own background runs of an agent)."""
    return os.environ.get(DISABLED_ENV, "").strip().lower() == "disabled"


def run_hook(argv: Sequence[str]) -> int:
    """Run one hook call (`argv`: adapter, event); always 0."""
    try:
        data = read_stdin()  # read even when disabled: the agent's write must not fail
        if recording_disabled():
            return 0
        if len(argv) != 2:
            raise HookProblem("usage: ox-core hook <adapter> <event>")
        params = hook_params(argv[0], argv[1], data, os.getppid())
        if params is not None:
            send(params)
    except HookProblem as exc:
        note_problem(argv, str(exc))
    except Exception as exc:  # never break the agent: log it, exit 0
        note_problem(argv, f"{type(exc).__name__}: {exc}")
    return 0


def send(params: dict[str, Any]) -> Any:
    """Ask the running daemon (`session_hook`), else do it in this process (`daemon_or_here`).
    A hook is never asked again, so a session whose start was dropped would go unrecorded."""

    def noted(message: str) -> None:
        note_problem(["daemon", params.get("event", "")], message)

    return daemon_or_here("session_hook", params, timeout=CALL_TIMEOUT, noted=noted)[0]


def ask_daemon(method: str, params: dict[str, Any], timeout: float) -> Any:
    """Call `method` of the running daemon, its socket found without pydantic."""
    from ox_core.client import call, daemon_socket

    return call(daemon_socket(), method, params, timeout=timeout)


def daemon_or_here(
    method: str,
    params: dict[str, Any],
    *,
    timeout: float,
    noted: Callable[[str], None],
    ask: Ask = ask_daemon,
    ctx: CommandContext | None = None,
) -> tuple[Any, str | None]:
    """Ask the running daemon for the capture `method` (`session_hook`, `session_watch_start`,
    `session_watch_stop`), else do it in this process: also when the daemon cannot take it now
    (starting, shutting down, too many connections, the connection broke or no answer came, as
    when it stops or restarts; `noted` gets that last problem). Returns (the result, None)
    from the daemon, or (the result, why it was done here). A refusal stands (raised).

    Done twice, a start is harmless (the live part is continued, under the ledger's creation
    lock); a stop done twice is refused the second time. A start done here is then offered to
    the daemon once more (`follow`), an end that stopped a recording is followed by a prompt
    detection (`nudge`): the daemon saw neither."""
    from ox_core.client import IpcError
    from ox_core.errors import OxError
    from ox_core.sockets import DaemonNotRunningError, UntrustedSocketError

    start = method == "session_watch_start" or params.get("event") == "start"
    try:
        return ask(method, params, timeout), None
    except DaemonNotRunningError:
        why = NOT_RUNNING
    except IpcError as exc:
        if exc.code not in UNREADY:
            raise
        why = UNREADY[exc.code]
    except UntrustedSocketError:
        raise
    except OxError as exc:  # the transport: broken, closed without an answer, timed out
        noted(f"{exc}; {'recorded' if start else 'stopped'} without it")
        why = "the daemon did not answer"
    from ox_session_capture.commands import in_process

    result = in_process(ctx or CommandContext(), method, params)
    if start:
        follow(method, params, ask)
    elif isinstance(result, dict) and isinstance(result.get("name"), str):
        nudge(result["name"], ask, noted)
    return result, why


def follow(method: str, params: dict[str, Any], ask: Ask) -> None:
    """Ask the daemon to follow the start recorded in this process (the same request again:
    it continues that live part and watches it). One that came up meanwhile scanned for live
    recordings before this one existed, and would follow it only at its next doctor tick.
    Best effort: a daemon that is not up, or still starting, resumes the recording in its
    start-up scan, which comes after it now; a busy one at its next doctor tick. Nothing is
    lost either way, only followed later."""
    import contextlib

    from ox_core.errors import OxError

    with contextlib.suppress(OxError):
        ask(method, params, FOLLOW_TIMEOUT)


def nudge(name: str, ask: Ask, noted: Callable[[str], None]) -> None:
    """Tell the daemon that recording `name` was stopped in this process (`session_stopped`):
    it stops watching it and queues its finalization at once, as when it stops one itself,
    not at its next periodic detection (minutes later). Waits `NUDGE_TIMEOUT` at most (an
    agent's end hook has little time): a refusal is answered at once, and a request the
    daemon took runs to its end without this process. A daemon that is not running, starting
    or shutting down detects the session at its (next) start; any other refusal leaves it to
    the next periodic detection and is `noted`. Nothing is lost either way."""
    from ox_core.client import ErrorCode, IpcError
    from ox_core.errors import OxError

    try:
        ask("session_stopped", {"name": name}, NUDGE_TIMEOUT)
    except IpcError as exc:
        if exc.code not in (ErrorCode.STARTING, ErrorCode.SHUTTING_DOWN):
            noted(f"recording {name} stopped; its finalization waits for the next detection: {exc}")
    except OxError:  # not running, or still detecting when the wait ended
        pass


class HookCommand(Command):
    """`ox-core hook <adapter> <event>` (entry point `hook` in group `ox.commands`)."""

    help = "what agent hooks run (installed by `ox-core hooks install`); reads JSON on stdin"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("adapter", help="the session adapter of the agent (claude-code, ...)")
        parser.add_argument("event", help="the agent's hook event (SessionStart, SessionEnd)")

    def run_fast(self, argv: Sequence[str]) -> int | None:
        # No adapter name starts with "-": a person asking for help, not an agent's call,
        # which would only log a usage problem that `status` then shows.
        if argv and argv[0] in ("-h", "--help"):
            return None
        return run_hook(argv)

    def run(self, args: argparse.Namespace, ctx: CommandContext) -> int:
        return run_hook([args.adapter, args.event])


hook = HookCommand()
