"""The one subprocess primitive of ox: agent CLIs, git, any helper whose run must be bounded.

`run_agent_process` starts the program as the leader of its own process group (and, when ox
has a controlling terminal, of a new session without one), writes the prompt to its stdin and
closes it, streams stdout line by line with no line-length cap (only a total cap), keeps the
last few KiB of stderr, and makes sure nothing it started outlives it: on timeout, output
overflow or cancellation the whole group gets SIGTERM, a grace period, then SIGKILL; and a
group SIGKILL is sent unconditionally at the end, because once the leader has exited a
grandchild that ignores SIGTERM would otherwise survive. What left the group (a `setsid`
helper, a double-forked daemon) is found through `/proc` by the run's token and killed and
reaped too (`ox_core.sweep.RunSweep`), unless the caller turns that sweep off (git: its
detached `gc --auto` must outlive the command that started it).

`probe` is the synchronous counterpart for the quick checks of `Runner.usability()` (bounded
by a timeout, killed with its group). Binary lookup and the agents' environment live in
`ox_core.environment`, the runner base class in `ox_core.cli_runner`, JSONL reading in
`ox_core.jsonl`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import selectors
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import trio

from ox_core import pipes, proc
from ox_core.errors import RunnerError
from ox_core.jsonl import json_event
from ox_core.sweep import RunSweep

MAX_OUTPUT_BYTES = 8 * 1024 * 1024
"""stdout beyond this is a runaway agent: the run is stopped and reported as an error."""

STDERR_TAIL_BYTES = 4096
"""How much of the end of stderr is kept for the failure detail."""

DEFAULT_GRACE = 2.0
"""Seconds between SIGTERM and SIGKILL of the group (kept short: shutdown must be prompt)."""

REMEMBER_EVERY = 0.02
"""Seconds between two looks at the tree of a program shutting down after SIGTERM (a look
reads `/proc`: about a millisecond)."""

PROBE_OUTPUT_BYTES = 64 * 1024
"""What a probe keeps of each of stdout and stderr (its answer is a line or two)."""

DRAIN_AFTER_EXIT = 1.0
"""Seconds to finish reading pipes after the leader exited and its group was killed (a
process that escaped the group may hold them open)."""

HOLDER_WAIT = 0.1
"""Seconds after the leader exited (and the sweep killed what it found) for every writer of
its stdout and stderr to be gone; past it, the processes still holding them are the run's
too, and are killed (`_stop_pipe_holders`)."""


def split_lines(data: bytes) -> list[str]:
    """`data` split on newlines, each line decoded as UTF-8 (undecodable bytes replaced) with a
    trailing `\\r` removed; no empty last line for a final newline."""
    lines = data.split(b"\n")
    if not lines[-1]:
        lines.pop()
    return [line.decode("utf-8", "replace").removesuffix("\r") for line in lines]


@attrs.frozen
class ProcessOutcome:
    """What a process did.

    `stdout`: what it printed, up to the output cap; `lines`: the same split on newlines
    (`split_lines`). `stderr_tail`: the last bytes of stderr (`STDERR_TAIL_BYTES` unless the
    run asked for more), decoded. `returncode`: the leader's exit status (negative: killed by
    that signal). `timed_out`: the timeout fired, or the run was silent for its `stall` limit
    (`stalled` then), and the group was killed. `overflow`: stdout exceeded the output cap and
    the group was killed. `duration`: seconds from spawn to the end of the run.
    """

    argv: tuple[str, ...]
    stdout: bytes
    stderr_tail: str
    returncode: int
    timed_out: bool
    overflow: bool
    duration: float
    timeout: float
    stalled: bool = False
    stall: float | None = None

    @functools.cached_property
    def lines(self) -> list[str]:
        """stdout split into lines (see `split_lines`). Split once per outcome."""
        return split_lines(self.stdout)

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
        if self.stalled:
            head = f"{what} printed nothing for {self.stall:g} s (stuck) and was killed"
        elif self.timed_out:
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


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


async def _stop_group(process: trio.Process, grace: float, sweep: RunSweep) -> None:
    """SIGTERM the group, wait up to `grace` for the leader, SIGKILL the group, reap.

    The run's processes are noted before the leader dies (`RunSweep.remember`: its tree shows
    even those that cleared their environment); the caller's sweep kills them.
    """
    if process.returncode is not None:
        # The leader is reaped: what is left of its group has no one to wait for it (unless
        # the caller keeps what the program left on purpose: an inactive sweep).
        if sweep.active:
            _killpg(process.pid, signal.SIGKILL)
        return
    with trio.CancelScope(shield=True):
        sweep.remember()
        _killpg(process.pid, signal.SIGTERM)
        with trio.move_on_after(grace):
            # What it starts while it shuts down shows in its tree only while it lives (a
            # helper that left the group and cleared its environment): note it as it comes.
            while process.returncode is None:
                with trio.move_on_after(REMEMBER_EVERY):
                    await process.wait()
                if process.returncode is None:
                    sweep.remember()
        if process.returncode is None:
            sweep.remember()
        _killpg(process.pid, signal.SIGKILL)
        await process.wait()


async def run_process(
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
    stderr_limit: int = STDERR_TAIL_BYTES,
    sweep: bool = True,
    stall: float | None = None,
) -> ProcessOutcome:
    """Run `argv` in its own process group, `stdin` written then closed, and collect its output.

    `stderr_limit`: how much of the end of stderr the outcome keeps. `sweep=False`: what the
    program leaves running when it exits on its own is left alone (no group kill at its exit,
    no search outside the group), for a program whose helpers are meant to outlive it (git's
    detached `gc --auto`, a credential cache daemon); a run that is stopped (timeout,
    overflow, cancellation) still has its whole group killed.

    Returns when the leader has exited and its pipes are drained, or when `timeout` seconds
    have passed, or (with `stall`) when it printed nothing on stdout or stderr for `stall`
    seconds, or when stdout exceeded `max_output` bytes; in the last three cases the group is
    stopped (SIGTERM, `grace` seconds, SIGKILL) and the outcome says so. `stall` is for work
    whose length nobody can know but that shows its progress (a transfer printing it): slow
    and moving goes on up to `timeout`, stuck is stopped early. Whatever happens
    (with `sweep`), every process still in the group is SIGKILLed before this returns and the
    leader is reaped.

    Raises `RunnerError` if the program cannot be started (missing, not executable, bad cwd).
    Never raises for what the program did.

    Cancellation: the group is stopped the same way (shielded, at most `grace` seconds plus
    the reap), then `trio.Cancelled` propagates.
    """
    argv = tuple(os.fspath(a) for a in argv)
    data = stdin.encode("utf-8") if isinstance(stdin, str) else bytes(stdin)
    leftovers = RunSweep(active=sweep)
    started = trio.current_time()
    try:
        process = await trio.lowlevel.open_process(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=leftovers.env(dict(os.environ if env is None else env)),
            **_own_group(),
        )
    except OSError as exc:
        why = exc.strerror or str(exc)
        # The error of a missing cwd names the program, as if the program were missing.
        if cwd is not None and not os.path.isdir(cwd):  # noqa: ASYNC240 - error path only
            why = f"working directory {os.fspath(cwd)} is missing"
        raise RunnerError(f"cannot start {argv[0]}: {why}") from exc
    leftovers.started(process.pid)
    assert process.stdin is not None
    assert process.stdout is not None
    assert process.stderr is not None

    out = pipes.Capped(max_output)
    tail = bytearray()
    heard = pipes.Heard()
    watch = trio.CancelScope()
    try:
        with trio.move_on_after(timeout) as deadline:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(pipes.feed, process.stdin, data)
                nursery.start_soon(
                    pipes.read_capped, process.stdout, out, nursery.cancel_scope, heard
                )
                nursery.start_soon(pipes.read_tail, process.stderr, tail, stderr_limit, heard)
                if stall is not None:
                    nursery.start_soon(_stop_when_silent, heard, stall, deadline, watch)
                await process.wait()
                watch.cancel()
                # The leader is gone: kill what is left of its group and every other process
                # of the run, so that the pipes reach EOF; one that could not be found (it
                # cleared its environment and left the tree) may still hold them: bounded drain.
                if sweep:
                    _killpg(process.pid, signal.SIGKILL)
                    leftovers.kill()
                    nursery.start_soon(_stop_pipe_holders, process, leftovers)
                nursery.cancel_scope.deadline = trio.current_time() + DRAIN_AFTER_EXIT
    except BaseExceptionGroup as group:
        # The nursery wraps the Cancelled of each of its tasks in a group; callers expect the
        # plain `trio.Cancelled` to propagate.
        cancelled, rest = group.split(trio.Cancelled)
        if rest is None and cancelled is not None:
            raise _first_leaf(cancelled) from None
        raise
    finally:
        await _stop_group(process, grace, leftovers)
        for stream in (process.stdin, process.stdout, process.stderr):
            pipes.close_now(stream)
        with trio.CancelScope(shield=True):
            if not leftovers.killed:
                leftovers.kill()
            await leftovers.wait()
    returncode = process.returncode
    assert returncode is not None
    return ProcessOutcome(
        argv=argv,
        stdout=bytes(out.data),
        stderr_tail=bytes(tail[-stderr_limit:]).decode("utf-8", "replace"),
        returncode=returncode,
        timed_out=deadline.cancelled_caught and not out.overflow,
        overflow=out.overflow,
        duration=trio.current_time() - started,
        timeout=timeout,
        stalled=heard.silent,
        stall=stall,
    )


async def _stop_pipe_holders(process: trio.Process, sweep: RunSweep) -> None:
    """Kill (through `sweep`) the processes that still hold the run's stdout or stderr open
    `HOLDER_WAIT` seconds after its leader exited, with what they started.

    A helper that left the group and cleared its environment before the leader exited on its
    own is found neither by group nor by token, and its tree was never noted (`remember` runs
    only when a run is stopped): holding the run's pipe, it would outlive the run (and keep
    it draining for `DRAIN_AFTER_EXIT`). The pipe names it as one of the run's. Nothing is
    looked for when every writer is gone already: the usual run pays one `poll`."""
    leader = sweep.leader
    pipes_out = [
        s for s in (process.stdout, process.stderr) if isinstance(s, trio.lowlevel.FdStream)
    ]
    if leader is None or not pipes_out:
        return
    poller = select.poll()
    for stream in pipes_out:
        # Reported once no writer is left, whatever the mask (and whether data is pending).
        poller.register(stream.fileno(), select.POLLHUP)
    end = trio.current_time() + HOLDER_WAIT
    while len(poller.poll(0)) < len(pipes_out):
        if trio.current_time() >= end:
            break
        await trio.sleep(REMEMBER_EVERY)
    else:
        return  # every writer is gone: nothing holds the pipes
    paths = {proc.opened_path(stream.fileno()) for stream in pipes_out}
    held = proc.holding(frozenset(p for p in paths if p), leader.start, proc.scan())
    if held:
        # Noted as `remember` notes what it sees (the sweep then freezes them, their
        # descendants with them, kills them all, and reaps them in `run_process`'s finally).
        sweep.note(held)
        sweep.kill()


async def _stop_when_silent(
    heard: pipes.Heard, stall: float, run: trio.CancelScope, watch: trio.CancelScope
) -> None:
    """Cancel `run` once nothing was heard for `stall` seconds (`heard.silent` set then)."""
    with watch:
        # A deadline that each byte heard moves on: no event to wait for.
        while (due := heard.at + stall) > trio.current_time():  # noqa: ASYNC110
            await trio.sleep_until(due)
        heard.silent = True
        run.cancel()


run_agent_process = run_process
"""The name runners use (an agent CLI is what most runs are)."""


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


def _read_probe(
    process: subprocess.Popen[bytes], sweep: RunSweep, deadline: float
) -> tuple[bytes, bytes]:
    """A probe's stdout and stderr, each kept up to `PROBE_OUTPUT_BYTES` (the rest is read
    and dropped: a probe spewing output would otherwise fill memory for its whole timeout),
    once both have ended and the probe has exited. `subprocess.TimeoutExpired` at
    `deadline` (`time.monotonic()`)."""
    assert process.stdout is not None
    assert process.stderr is not None
    out, err = process.stdout.fileno(), process.stderr.fileno()
    kept = {out: bytearray(), err: bytearray()}
    with selectors.DefaultSelector() as selector:
        for fd in kept:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map() or process.poll() is None:
            now = time.monotonic()
            if process.poll() is not None and not sweep.killed:
                # What still holds the pipes is a leftover of the probe, killed so that
                # reading ends at once.
                _killpg(process.pid, signal.SIGKILL)
                sweep.kill()
                deadline = min(deadline, now + DRAIN_AFTER_EXIT)
            if now >= deadline:
                raise subprocess.TimeoutExpired(process.args, 0)
            if not selector.get_map():  # it closed its pipes but lives on
                process.wait(timeout=deadline - now)
                continue
            for key, _ in selector.select(min(0.05, deadline - now)):
                chunk = os.read(key.fd, pipes.CHUNK)
                if not chunk:
                    selector.unregister(key.fd)
                kept[key.fd] += chunk[: max(0, PROBE_OUTPUT_BYTES - len(kept[key.fd]))]
    return bytes(kept[out]), bytes(kept[err])


def probe(
    argv: Sequence[str],
    *,
    timeout: float = 1.5,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> ProbeOutcome:
    """Run a quick command synchronously (for `usability()`), stdin `/dev/null`, bounded by
    `timeout` seconds; on timeout its whole group is killed and reaped. Of its stdout and
    stderr the first `PROBE_OUTPUT_BYTES` each are kept. Never raises."""
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
    try:
        out, err = _read_probe(process, sweep, time.monotonic() + timeout)
    except subprocess.TimeoutExpired:
        if process.returncode is None:
            sweep.remember()
        # Reaped below, once the group is killed and the pipes closed: someone outside the
        # group may hold them, so they are not read any more.
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
