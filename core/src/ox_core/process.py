"""The one subprocess helper every runner uses to drive an agent CLI.

`run_agent_process` starts the CLI as the leader of its own process group (and, when ox has a
controlling terminal, of a new session without one),
writes the prompt to its stdin and closes it, streams stdout line by line with no line-length
cap (only a total cap), keeps the last few KiB of stderr, and makes sure nothing it started
outlives it: on timeout, output overflow or cancellation the whole group gets SIGTERM, a grace
period, then SIGKILL; and a group SIGKILL is sent unconditionally at the end, because once the
leader has exited a grandchild that ignores SIGTERM would otherwise survive. What left the
group (a `setsid` helper, a double-forked daemon) is found through `/proc` by the run's token
and killed and reaped too (`ox_core.proc.RunSweep`).

`probe` is the synchronous counterpart for the quick checks of `Runner.usability()` (bounded
by a timeout, killed with its group). `find_binary` and `agent_env` hold the lookup and
environment rules shared by the runners, and `CliRunner` the scaffolding of a runner plugin
(options, binary lookup, run wrapper), so that a plugin holds only what differs between CLIs:
arguments, parsing, the authentication check.
"""

from __future__ import annotations

import abc
import contextlib
import functools
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import attrs
import pydantic
import trio

from ox_core.contracts import DEFAULT_RUN_TIMEOUT, AgentUsability, Runner, RunRequest, RunResult
from ox_core.errors import ConfigError, RunnerError
from ox_core.proc import RunSweep

MAX_OUTPUT_BYTES = 8 * 1024 * 1024
"""stdout beyond this is a runaway agent: the run is stopped and reported as an error."""

STDERR_TAIL_BYTES = 4096
"""How much of the end of stderr is kept for the failure detail."""

DEFAULT_GRACE = 2.0
"""Seconds between SIGTERM and SIGKILL of the group (kept short: shutdown must be prompt)."""

DRAIN_AFTER_EXIT = 1.0
"""Seconds to finish reading pipes after the leader exited and its group was killed (a
process that escaped the group may hold them open)."""

_CHUNK = 65536

DEFAULT_INSTALL_DIRS: tuple[str, ...] = (
    "~/.local/bin",
    "~/.npm-global/bin",
    "~/.npm/bin",
    "~/.yarn/bin",
    "~/.volta/bin",
    "~/bin",
    "/usr/local/bin",
    "/opt/homebrew/bin",
)
"""Where agent CLIs are commonly installed when they are not on PATH (tried in order)."""

SESSION_ENV_REMOVE: tuple[str, ...] = ("CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT")
"""Inherited variables that make a CLI believe it runs inside another agent session."""


@attrs.frozen
class ProcessOutcome:
    """What an agent process did.

    `lines`: stdout split on newlines (UTF-8, undecodable bytes replaced, trailing `\\r`
    removed). `stderr_tail`: the last `STDERR_TAIL_BYTES` of stderr, decoded. `returncode`:
    the leader's exit status (negative: killed by that signal). `timed_out`: the timeout fired
    and the group was killed. `overflow`: stdout exceeded the output cap and the group was
    killed. `duration`: seconds from spawn to the end of the run.
    """

    argv: tuple[str, ...]
    lines: list[str]
    stderr_tail: str
    returncode: int
    timed_out: bool
    overflow: bool
    duration: float
    timeout: float

    @property
    def text(self) -> str:
        """stdout as one string."""
        return "\n".join(self.lines)

    @functools.cached_property
    def json_lines(self) -> tuple[list[dict[str, Any]], list[str]]:
        """stdout split into the JSON objects of its lines (`json_event`) and the other
        non-blank lines (kept as diagnostics), in order. Parsed once per outcome."""
        events: list[dict[str, Any]] = []
        other: list[str] = []
        for line in self.lines:
            event = json_event(line)
            if event is not None:
                events.append(event)
            elif line.strip():
                other.append(line)
        return events, other

    def failure(self, what: str) -> str:
        """A readable sentence for a run that was stopped or exited non-zero, with the stderr
        tail, or "" when the process exited 0 on its own. `what` names the CLI."""
        if self.timed_out:
            head = f"{what} did not finish within {self.timeout:g} s and was killed"
        elif self.overflow:
            head = (
                f"{what} printed more than {MAX_OUTPUT_BYTES // (1024 * 1024)} MiB "
                "and was stopped (runaway output)"
            )
        elif self.returncode < 0:
            head = f"{what} was killed by signal {-self.returncode}"
        elif self.returncode != 0:
            head = f"{what} exited with status {self.returncode}"
        else:
            return ""
        return with_stderr(head, self.stderr_tail)


def with_stderr(message: str, stderr_tail: str) -> str:
    """`message` followed by the stderr tail (when there is one) so a person can see why."""
    tail = stderr_tail.strip()
    return f"{message}; stderr: {tail}" if tail else message


@functools.cache
def _has_controlling_terminal() -> bool:
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True


def _own_group() -> dict[str, Any]:
    """Popen options that make the child lead its own process group (its pid is the group id).

    With a controlling terminal (a daemon started from a shell) the child gets a new session
    too, so it has no terminal: a CLI that opens /dev/tty to ask something fails at once
    instead of stopping on SIGTTIN or writing into the user's terminal. Without one, a new
    process group is enough, and cheaper: `setsid()` creates a scheduler autogroup, which
    costs milliseconds per run where `sched_autogroup` is on.
    """
    if _has_controlling_terminal():
        return {"start_new_session": True}
    return {"process_group": 0}


def _killpg(pgid: int, sig: signal.Signals) -> None:
    # ESRCH: the group is already empty. EPERM: a member changed credentials; nothing to do.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class _Reader:
    """Collects stdout lines without a per-line cap, and stops at the total cap."""

    def __init__(self, max_output: int) -> None:
        self.max_output = max_output
        self.lines: list[str] = []
        self.total = 0
        self.overflow = False
        self._partial = bytearray()

    def feed(self, chunk: bytes | bytearray) -> None:
        start = 0
        # Only the new chunk is searched for newlines: linear in the output size even for
        # one line of many MiB.
        while (end := chunk.find(b"\n", start)) != -1:
            self._partial += chunk[start:end]
            self._emit()
            start = end + 1
        self._partial += chunk[start:]

    def finish(self) -> None:
        if self._partial:
            self._emit()

    def _emit(self) -> None:
        line = self._partial.decode("utf-8", "replace")
        self.lines.append(line.removesuffix("\r"))
        self._partial.clear()


def _close(stream: trio.abc.AsyncResource) -> None:
    """Close a pipe now. trio's `FdStream.close()` is synchronous; `aclose()` would add a
    scheduler round per pipe to every run."""
    close = getattr(stream, "close", None)
    if callable(close):
        close()


async def _read_stdout(
    stream: trio.abc.ReceiveStream, reader: _Reader, stop: trio.CancelScope
) -> None:
    try:
        while chunk := await stream.receive_some(_CHUNK):
            reader.total += len(chunk)
            if reader.total > reader.max_output:
                reader.overflow = True
                stop.cancel()
                return
            reader.feed(chunk)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    finally:
        reader.finish()
        _close(stream)


async def _read_stderr(stream: trio.abc.ReceiveStream, tail: bytearray) -> None:
    try:
        while chunk := await stream.receive_some(_CHUNK):
            tail += chunk
            if len(tail) > 2 * STDERR_TAIL_BYTES:
                del tail[: len(tail) - STDERR_TAIL_BYTES]
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    finally:
        _close(stream)


async def _feed_stdin(stream: trio.abc.SendStream, data: bytes) -> None:
    # A CLI may exit (or never read) before taking the whole prompt: that is its business,
    # the run's result says what happened.
    try:
        if data:
            await stream.send_all(data)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    finally:
        _close(stream)  # EOF: the CLI stops reading the prompt


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


async def _stop_group(process: trio.Process, grace: float, sweep: RunSweep) -> None:
    """SIGTERM the group, wait up to `grace` for the leader, SIGKILL the group, reap.

    The run's processes are noted before the leader dies (`RunSweep.remember`: its tree shows
    even those that cleared their environment); the caller's sweep kills them.
    """
    if process.returncode is not None:
        # The leader is reaped: what is left of its group has no one to wait for it.
        _killpg(process.pid, signal.SIGKILL)
        return
    with trio.CancelScope(shield=True):
        sweep.remember()
        _killpg(process.pid, signal.SIGTERM)
        with trio.move_on_after(grace):
            await process.wait()
        if process.returncode is None:
            sweep.remember()
        _killpg(process.pid, signal.SIGKILL)
        await process.wait()


async def run_agent_process(
    argv: Sequence[str],
    *,
    stdin: str | bytes = b"",
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    # A cancel scope around the call cannot replace this: the outcome must say that the
    # run timed out, and the group must first get its SIGTERM grace period.
    timeout: float,  # noqa: ASYNC109
    grace: float = DEFAULT_GRACE,
    max_output: int = MAX_OUTPUT_BYTES,
) -> ProcessOutcome:
    """Run `argv` in its own process group, `stdin` written then closed, and collect its output.

    Returns when the leader has exited and its pipes are drained, or when `timeout` seconds
    have passed, or when stdout exceeded `max_output` bytes; in the last two cases the group
    is stopped (SIGTERM, `grace` seconds, SIGKILL) and the outcome says so. Whatever happens,
    every process still in the group is SIGKILLed before this returns and the leader is reaped.

    Raises `RunnerError` if the program cannot be started (missing, not executable, bad cwd).
    Never raises for what the program did.

    Cancellation: the group is stopped the same way (shielded, at most `grace` seconds plus
    the reap), then `trio.Cancelled` propagates.
    """
    argv = tuple(os.fspath(a) for a in argv)
    data = stdin.encode("utf-8") if isinstance(stdin, str) else bytes(stdin)
    sweep = RunSweep()
    started = trio.current_time()
    try:
        process = await trio.lowlevel.open_process(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=sweep.env(dict(os.environ if env is None else env)),
            **_own_group(),
        )
    except OSError as exc:
        why = exc.strerror or str(exc)
        # The error of a missing cwd names the program, as if the program were missing.
        if cwd is not None and not os.path.isdir(cwd):  # noqa: ASYNC240 - error path only
            why = f"working directory {os.fspath(cwd)} is missing"
        raise RunnerError(f"cannot start {argv[0]}: {why}") from exc
    sweep.started(process.pid)
    assert process.stdin is not None
    assert process.stdout is not None
    assert process.stderr is not None

    reader = _Reader(max_output)
    tail = bytearray()
    try:
        with trio.move_on_after(timeout) as deadline:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_feed_stdin, process.stdin, data)
                nursery.start_soon(_read_stdout, process.stdout, reader, nursery.cancel_scope)
                nursery.start_soon(_read_stderr, process.stderr, tail)
                await process.wait()
                # The leader is gone: kill what is left of its group and every other process
                # of the run, so that the pipes reach EOF; one that could not be found (it
                # cleared its environment and left the tree) may still hold them: bounded drain.
                _killpg(process.pid, signal.SIGKILL)
                sweep.kill()
                nursery.cancel_scope.deadline = trio.current_time() + DRAIN_AFTER_EXIT
    except BaseExceptionGroup as group:
        # The nursery wraps the Cancelled of each of its tasks in a group; callers expect the
        # plain `trio.Cancelled` to propagate.
        cancelled, rest = group.split(trio.Cancelled)
        if rest is None and cancelled is not None:
            raise _first_leaf(cancelled) from None
        raise
    finally:
        await _stop_group(process, grace, sweep)
        for stream in (process.stdin, process.stdout, process.stderr):
            _close(stream)
        with trio.CancelScope(shield=True):
            if not sweep.killed:
                sweep.kill()
            await sweep.wait()
    returncode = process.returncode
    assert returncode is not None
    return ProcessOutcome(
        argv=argv,
        lines=reader.lines,
        stderr_tail=bytes(tail[-STDERR_TAIL_BYTES:]).decode("utf-8", "replace"),
        returncode=returncode,
        timed_out=deadline.cancelled_caught and not reader.overflow,
        overflow=reader.overflow,
        duration=trio.current_time() - started,
        timeout=timeout,
    )


@attrs.frozen
class ProbeOutcome:
    """What a quick probe printed. `returncode` is None when it did not answer in time (it was
    killed with its group) or could not be started (`error` says why)."""

    returncode: int | None
    stdout: str = ""
    stderr: str = ""
    error: str = ""

    @property
    def answered(self) -> bool:
        return self.returncode is not None


def probe(
    argv: Sequence[str],
    *,
    timeout: float = 1.5,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> ProbeOutcome:
    """Run a quick command synchronously (for `usability()`), stdin `/dev/null`, bounded by
    `timeout` seconds; on timeout its whole group is killed and reaped. Never raises."""
    argv = [os.fspath(a) for a in argv]
    sweep = RunSweep()
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=sweep.env(dict(os.environ if env is None else env)),
            cwd=cwd,
            **_own_group(),
        )
    except OSError as exc:
        return ProbeOutcome(None, error=f"cannot start {argv[0]}: {exc.strerror or exc}")
    sweep.started(process.pid)
    now = time.monotonic()
    deadline = now + timeout
    try:
        while True:
            try:
                # Short slices: once the leader has exited, what still holds the pipes is a
                # leftover of the probe, killed so that reading ends at once.
                out, err = process.communicate(timeout=min(0.05, max(0.0, deadline - now)))
                break
            except subprocess.TimeoutExpired:
                now = time.monotonic()
                if process.poll() is not None and not sweep.killed:
                    _killpg(process.pid, signal.SIGKILL)
                    sweep.kill()
                    deadline = min(deadline, now + DRAIN_AFTER_EXIT)
                elif now >= deadline:
                    raise
    except subprocess.TimeoutExpired:
        if process.returncode is None:
            sweep.remember()
        _killpg(process.pid, signal.SIGKILL)
        # Someone outside the group may hold the pipes: then stop reading, just reap.
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.communicate(timeout=0.3)
        return ProbeOutcome(None, error=f"{Path(argv[0]).name} did not answer within {timeout:g} s")
    finally:
        if process.returncode is None:
            sweep.remember()
        _killpg(process.pid, signal.SIGKILL)
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
        process.wait()
        if not sweep.killed:
            sweep.kill()
        sweep.wait_sync()
    return ProbeOutcome(
        process.returncode,
        stdout=out.decode("utf-8", "replace"),
        stderr=err.decode("utf-8", "replace"),
    )


def find_binary(
    name: str,
    *,
    env: Mapping[str, str] | None = None,
    extra_dirs: Iterable[str] = (),
) -> str | None:
    """The path of executable `name`: on PATH first, then in `extra_dirs` and the usual install
    places (`DEFAULT_INSTALL_DIRS`); `~` means `env["HOME"]`. None when not found."""
    env = os.environ if env is None else env
    found = shutil.which(name, path=env.get("PATH", os.defpath))
    if found:
        return found
    home = env.get("HOME") or os.path.expanduser("~")
    for directory in (*extra_dirs, *DEFAULT_INSTALL_DIRS):
        if directory.startswith("~"):
            directory = home + directory[1:]
        candidate = Path(directory, name)
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def agent_env(
    overrides: Mapping[str, str] | None = None,
    *,
    remove: Iterable[str] = SESSION_ENV_REMOVE,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment for a background agent run: `base` (default `os.environ`) without the
    variables in `remove`, with `OX_SESSION_RECORDING=disabled` (ox must never record its own
    background runs) and `overrides` on top."""
    env = dict(os.environ if base is None else base)
    for key in remove:
        env.pop(key, None)
    env["OX_SESSION_RECORDING"] = "disabled"
    env.update(overrides or {})
    return env


class CliRunnerOptions(pydantic.BaseModel):
    """Options of a CLI runner (`[runners.<name>]` in the config)."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    timeout: float = pydantic.Field(
        DEFAULT_RUN_TIMEOUT, gt=0, description="Seconds a run may take when the request sets none."
    )
    grace: float = pydantic.Field(
        DEFAULT_GRACE,
        ge=0,
        description="Seconds from SIGTERM to SIGKILL when a run is stopped.",
    )
    model: str | None = pydantic.Field(
        None, description="Model passed to the CLI when the request names none (None: its default)."
    )
    env: dict[str, str] = pydantic.Field(
        default_factory=dict, description="Extra environment variables for the CLI."
    )
    extra_args: list[str] = pydantic.Field(
        default_factory=list, description="Extra command-line arguments for the CLI."
    )


class CliRunner(Runner):
    """Base of the runners that drive a vendor CLI through `run_agent_process`.

    A subclass sets `name`, `priority`, `executable` (and `install_dirs`, places beyond the
    usual ones to look for it) and implements `command`, `parse` and `authentication`.

    `binary`: the CLI's path; None looks for `executable` on PATH, then in `install_dirs` and
    `DEFAULT_INSTALL_DIRS`, each time it is needed (an install after start is picked up).
    `options`: see `CliRunnerOptions` (or the subclass's `Options`); an unknown or invalid
    option raises `ConfigError`.
    """

    executable: ClassVar[str]
    install_dirs: ClassVar[tuple[str, ...]] = ()
    auth_env: ClassVar[tuple[str, ...]] = ()
    """Environment variables any of which, set, authenticates the CLI without a login."""
    env_remove: ClassVar[tuple[str, ...]] = SESSION_ENV_REMOVE
    Options: ClassVar[type[CliRunnerOptions]] = CliRunnerOptions

    def __init__(self, binary: str | os.PathLike[str] | None = None, **options: Any) -> None:
        self._binary = os.fspath(binary) if binary is not None else None
        self._env: Mapping[str, str] | None = None
        try:
            self.options = self.Options(**options)
        except pydantic.ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'options'}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(f"runner {self.name}: invalid options: {problems}") from None

    def env(self) -> Mapping[str, str]:
        """The environment the CLI runs in (see `agent_env`), with the `env` option on top.

        Built from `os.environ` once, at the first call: the daemon's environment does not
        change while it runs, and copying `os.environ` costs more than the rest of a run's
        bookkeeping. Read-only.
        """
        if self._env is None:
            self._env = MappingProxyType(agent_env(self.options.env, remove=self.env_remove))
        return self._env

    def binary(self) -> str | None:
        """The CLI's path, or None when it is not installed."""
        if self._binary is not None:
            return self._binary
        return find_binary(self.executable, env=self.env(), extra_dirs=self.install_dirs)

    def available(self) -> bool:
        binary = self.binary()
        return binary is not None and os.path.isfile(binary) and os.access(binary, os.X_OK)

    def usability(self) -> AgentUsability:
        """Installed, authenticated (`authentication`), detail. Answers within 2 s."""
        if not self.available():
            where = self._binary or f"PATH or the usual install places ({self.executable})"
            return AgentUsability(False, False, f"{self.executable} not found: {where}")
        binary = self.binary()
        assert binary is not None
        env = self.env()
        for key in self.auth_env:
            if env.get(key):
                return AgentUsability(True, True, f"{key} is set")
        try:
            authenticated, detail = self.authentication(binary, env)
        except Exception as exc:  # a broken check means "unknown", never a crash
            return AgentUsability(True, False, f"authentication check failed: {exc!r}")
        return AgentUsability(True, authenticated, detail)

    @abc.abstractmethod
    def authentication(self, binary: str, env: Mapping[str, str]) -> tuple[bool, str]:
        """Whether the CLI is authenticated, and how (or why not), when no `auth_env` variable
        is set. Within 1.5 s (use `probe`)."""

    @abc.abstractmethod
    def command(self, binary: str, request: RunRequest) -> list[str]:
        """The argv of a headless run; the prompt goes on stdin."""

    @abc.abstractmethod
    def parse(self, outcome: ProcessOutcome) -> RunResult:
        """The run's result from what the CLI printed. Must not raise (a bug here is caught
        and reported as the run's error, but the answer would be lost)."""

    async def prepare(self, binary: str) -> None:
        """Called before each run (e.g. to check once which flags the CLI knows)."""

    async def interpret(self, binary: str, outcome: ProcessOutcome) -> RunResult:
        """The run's result; by default `parse(outcome)`. Override to ask the CLI something
        more before deciding (e.g. whether unexpected output is an older version's format)."""
        return self.parse(outcome)

    async def run(self, request: RunRequest) -> RunResult:
        """Run the CLI on `request.prompt`; see `Runner.run`. Never raises but `Cancelled`."""
        binary = self.binary()
        if binary is None or not self.available():
            return RunResult(exit_code=127, error=self.usability().auth_detail)
        timeout = request.timeout_override or self.options.timeout
        try:
            await self.prepare(binary)
            outcome = await run_agent_process(
                self.command(binary, request),
                stdin=request.prompt,
                cwd=request.work_dir,
                env=self.env(),
                timeout=timeout,
                grace=self.options.grace,
            )
        except RunnerError as exc:
            return RunResult(exit_code=127, error=str(exc))
        if outcome.overflow:
            # A runaway: whatever it printed is no answer (and its exit status may still be 0
            # when it had finished writing into the pipe before it was stopped).
            return RunResult(
                exit_code=outcome.returncode or 1,
                error=outcome.failure(self.name),
                duration=outcome.duration,
            )
        try:
            result = await self.interpret(binary, outcome)
        except Exception as exc:
            result = RunResult(
                exit_code=outcome.returncode or 1,
                error=with_stderr(
                    f"{self.name}: could not read the output ({exc!r})", outcome.stderr_tail
                ),
            )
        return attrs.evolve(result, duration=outcome.duration)


def json_event(line: str) -> dict[str, Any] | None:
    """The JSON object on one line of a CLI's JSONL output, or None for anything else
    (prose, a JSON array, a truncated line): runners keep such lines as diagnostics."""
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def int_field(value: object) -> int:
    """A token count from a CLI's JSON: the int itself, else 0 (booleans are not counts)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
