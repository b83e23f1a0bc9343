"""The plugin contracts: what a runner and a work handler provide, and what they exchange.

A *runner* drives one agent CLI headless (`claude`, `codex`, ...). A *work handler* finds one
kind of background work in the ledger, turns an item into a prompt and acts on the answer.
Plugins subclass `Runner` / `WorkHandler` and register the classes through the hooks in
`ox_core.hookspecs`. docs/api.md is the plugin author's one-screen guide.

Cancellation, as trio states it: every `async` method here is a *checkpoint* and may be
cancelled at any await inside it (the daemon shutting down, a timeout). On
cancellation it must leave nothing half-done that the next call cannot finish (write to a
temporary file and rename, commit or not at all) and let `trio.Cancelled` propagate: never
catch it without re-raising. The synchronous methods are never cancelled; they must be quick,
since they block the daemon's event loop.
"""

from __future__ import annotations

import abc
import builtins
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import attrs
import pydantic
import trio

from ox_core.sync_signal import SyncConfig, SyncSignal
from ox_core.work import WorkItem

DEFAULT_RUN_TIMEOUT = 300.0


@attrs.frozen
class AgentUsability:
    """Whether an agent CLI can be used now: installed, authenticated, and why (`auth_detail`)."""

    installed: bool
    authenticated: bool
    auth_detail: str = ""

    @property
    def usable(self) -> bool:
        return self.installed and self.authenticated


@attrs.frozen
class RunRequest:
    """What a handler asks of an agent.

    `prompt` goes to the agent on stdin. `work_dir` is the directory it runs in (None: the
    runner's choice). `timeout_override` (seconds) replaces the configured timeout.
    `skip_llm`: no agent run is needed; the manager calls `process_result` with an empty
    `RunResult` at once. `model`: a model name for the CLI, or None for its default.
    `prefer_fast`: background work (a summary) that a cheaper, faster model does well: a
    runner may then use the summary model it declares, unless `model` or the user's
    configuration names one.
    """

    prompt: str = ""
    work_dir: Path | None = None
    timeout_override: float | None = None
    skip_llm: bool = False
    model: str | None = None
    prefer_fast: bool = False


@attrs.frozen
class Quota:
    """The agent reported a rate limit or quota: no LLM work until `reset_at` (UTC).

    `reset_at` is None when the agent did not say; the manager then waits its default (1 h).
    `basis` says what `reset_at` was read from (`"try again in 2 minutes"`, `"per-minute
    limit"`), empty when nothing was said; `status` shows it next to the pause.
    """

    message: str
    reset_at: datetime | None = None
    basis: str = ""


@attrs.frozen
class Outcome:
    """What a handler did with an item, for `status` (`process_result` may return one;
    None means plain `completed`).

    `kind` is a short word a person reads in the result column, e.g. `published`,
    `published without summary`, `discarded`, `kept locally`, `nothing to do`. `reason` says
    why when the kind alone does not (the summary was not JSON, the session was brief).
    """

    kind: str
    reason: str = ""


@attrs.frozen
class Diagnosis:
    """One check a handler adds to `ox-core doctor` (`WorkHandler.diagnose`): `name` (what was
    checked, e.g. `git identity`), `ok`, `detail` (what was found; when not ok, the fix).
    `warning`: shown as a warning and `doctor` still passes."""

    name: str
    ok: bool
    detail: str = ""
    warning: bool = False


@attrs.frozen
class RunResult:
    """What an agent run produced.

    `output` is the agent's final answer text. `duration` in seconds. `tokens_in`/`tokens_out`
    as the agent's structured output reports them (0 when it does not). `error` is empty on
    success, else one readable paragraph saying what went wrong (including the tail of stderr).
    `quota` is set when the agent hit a rate limit or quota. `runaway`: the agent printed more
    than the runner keeps and was stopped (a failed run: `error` says so); it answered, but
    nothing of the answer is usable, and the same prompt tends to give the same runaway.
    """

    output: str = ""
    duration: float = 0.0
    exit_code: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    error: str = ""
    quota: Quota | None = None
    runaway: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.error and self.quota is None


class Runner(abc.ABC):
    """Runs one agent CLI headless. Subclasses set `name` and `priority` (lower is preferred
    by auto-detection; ox's own runners use 10, 20 and 30).

    A runner must never raise for something the agent did (non-zero exit, garbage output,
    timeout, quota): it returns a `RunResult` with `error` / `quota` set. Runs are independent
    and may happen concurrently.
    """

    name: ClassVar[str]
    priority: ClassVar[int] = 100

    @abc.abstractmethod
    def available(self) -> bool:
        """Whether the CLI binary can be found. Fast (no subprocess)."""

    @abc.abstractmethod
    def usability(self) -> AgentUsability:
        """Installed / authenticated / detail. Blocking, but answers within 2 s."""

    @abc.abstractmethod
    async def run(self, request: RunRequest) -> RunResult:
        """Run the agent on `request.prompt` and return what it answered.

        Never outlives its timeout. On cancellation the agent's whole process group is killed
        before the `trio.Cancelled` propagates.
        """


IpcMethod = Callable[[dict[str, Any]], Awaitable[Any]]
Publish = Callable[[str, Mapping[str, Any]], Awaitable[None]]


async def _publish_nowhere(event: str, data: Mapping[str, Any]) -> None:
    """No daemon (a command run in-process): nobody listens; the next daemon's detection
    finds whatever the event would have announced."""


@attrs.frozen
class HandlerContext:
    """What the daemon gives a handler when it attaches it (`WorkHandler.attach`).

    `ledger`: the ledger's path. `enqueue`: queue a work item now and wake the manager
    (returns False for a duplicate key or a full queue; raises `OxError` with code `starting`
    or `shutting_down` when the daemon takes no work now). `publish(event, data)`: announce an
    event to every attached handler (their `on_event`), so one plugin can prompt another
    without importing it; see `WorkHandler.on_event` for the rules. `sync_signal`: for the
    plugin that syncs the ledger with its remote: `fire()` after each integration (the
    manager drains its queue then), `report(LedgerSyncState)` for `status` (None: no
    daemon). `sync_config()`: the current `[sync]` table (re-read after config edits).
    """

    ledger: Path
    enqueue: Callable[[WorkItem], bool]
    publish: Publish = _publish_nowhere
    sync_signal: SyncSignal | None = None
    sync_config: Callable[[], SyncConfig] = SyncConfig


class HandlerOptions(pydantic.BaseModel):
    """Base of a handler's typed options, read from `[handlers.<type>]` in the config file
    (or the `OX_HANDLERS` JSON variable) and validated when the daemon loads the handler.

    Subclass it with pydantic fields (type, default, `description=`), set it as the handler's
    `Options`, and receive an instance in `WorkHandler.configure`. Unknown keys are refused;
    an invalid value is one line naming the key (`handlers.<type>.<key>: ...`), and the
    handler does not start until it is fixed. `ox-core config --show` lists every field.
    """

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


class WorkHandler(abc.ABC):
    """Finds and processes one kind of background work. Subclasses set `type` (and `Options`
    for options of their own).

    All methods may raise: the manager records the error against the item (or the detection
    cycle) and carries on. Raise `ox_core.errors.LedgerBlockedError` when the whole ledger is
    blocked (e.g. unresolved merge conflicts): the manager pauses this work type.

    Cancellation: see the module docstring. `detect`, `build_prompt`, `process_result` and
    `cleanup` run in the manager's workers and are cancelled when the daemon stops (an item
    whose `process_result` was cancelled is found again by the next `detect`); `serve` runs
    until cancelled, which is its normal end.
    """

    type: ClassVar[str]
    # `builtins.type`: inside this class `type` is the work type attribute.
    Options: ClassVar[builtins.type[HandlerOptions]] = HandlerOptions
    takes_runaway_answers: ClassVar[bool] = False
    """True: a run stopped for runaway output (`RunResult.runaway`) goes to `process_result`
    like an answer (which the handler refuses, and counts as an attempt of its own) instead
    of being retried as a failed run. A prompt that steers the agent into printing without
    end would otherwise be run again and again, and its item never done."""
    context: HandlerContext | None = None

    def attach(self, context: HandlerContext) -> None:
        """Called once by the daemon before `serve`. Default: keep it in `self.context`.

        Synchronous, never cancelled; run in the daemon's start-up thread (with the plugins'
        constructors), so it calls no trio function."""
        self.context = context

    @abc.abstractmethod
    async def detect(self, ledger: Path) -> list[WorkItem]:
        """Scan `ledger` and return the items that need work (the manager dedups by key).

        Cancellable at any checkpoint; a cancelled scan returns nothing and is simply run
        again at the next detection, so it must not change the ledger.
        """

    @abc.abstractmethod
    async def build_prompt(self, item: WorkItem) -> RunRequest:
        """The request for the agent; `skip_llm=True` when no agent run is needed.

        Cancellable at any checkpoint; the item stays queued or is found again by `detect`,
        so it must have no effect beyond the returned request.
        """

    @abc.abstractmethod
    async def process_result(self, item: WorkItem, result: RunResult) -> Outcome | None:
        """Act on the agent's answer (write, commit, push ...).

        May return an `Outcome` saying what happened (published, discarded and why ...), which
        `status` shows for the item; None means plain `completed`.

        Cancellable at any checkpoint: each step must be atomic (temp file + rename, one git
        commit) so a cancelled call leaves the item as before or done, and the next `detect`
        finds what is left. Shield (`trio.CancelScope(shield=True)`) only a short final step
        that must not be cut, never a network call.
        """

    def validate_payload(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Check the payload of an item of this type before it is queued (`ox-core enqueue`,
        IPC `enqueue`) and return it, possibly normalised. Everything in a payload from
        outside is hostile: paths must lie where this handler works, names must be single
        path components, the ledger is the daemon's (`self.context.ledger`).

        Raise `ox_core.errors.OxError`, `ValueError` or a pydantic `ValidationError` with a
        clear message: the request gets it as its error and nothing is queued. Check again
        in `build_prompt` / `process_result` (items from `detect` skip this call). Default:
        the payload unchanged. Synchronous and quick (a few `stat`s at most); never cancelled.
        """
        return payload

    def doctor_checks(self) -> list[dict[str, Any]]:
        """What `ox-core doctor` shows for this handler besides its state: rows
        `{"check": str, "ok": bool, "detail": str}` (e.g. per installed agent, whether its
        hooks are in place). Called in the doctor's process, never in the daemon; blocking and
        quick (reads a few files); synchronous, so never cancelled. Default: none. An exception
        is shown as a failed check."""
        return []

    async def cleanup(self, ledger: Path) -> None:  # noqa: B027 - optional hook, no-op by default
        """Remove leftovers (run before each detection). Default: nothing.

        Cancellable at any checkpoint; removing one leftover at a time keeps a cancelled
        cleanup harmless (the rest goes next time).
        """

    async def serve(
        self, ledger: Path, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Long-running services of this handler, run in the daemon's nursery until cancelled.

        Call `task_status.started()` when ready. Default: no service. Cancellation is the
        normal way it ends (daemon shutdown): clean up in `finally` blocks or `async with`,
        and let `trio.Cancelled` propagate. An exception other than cancellation is logged
        and the service restarted with backoff.
        """
        task_status.started()

    def diagnose(self, ledger: Path) -> list[Diagnosis]:
        """Checks of what this handler needs, for `ox-core doctor` (which runs them outside
        the daemon; blocking is fine, each should answer within seconds). Default: none.
        An exception is shown as a failed check. Synchronous, never cancelled."""
        return []

    def configure(self, options: Any) -> None:  # noqa: B027 - optional hook
        """Apply this handler's options: an instance of `type(self).Options`, already
        validated. Called once before `attach`, and again with the new options whenever the
        config file changes (an invalid edit is logged and the old options stay). Default:
        none. Synchronous, never cancelled; keep it quick.
        """

    async def on_event(self, event: str, data: Mapping[str, Any]) -> None:  # noqa: B027
        """An event another plugin published (`HandlerContext.publish`). Default: ignore it.

        Events are named `<plugin>.<what-happened>` (e.g. `session.recording-stopped`) by the
        plugin that publishes them, which documents the event and its `data` (JSON-like, from
        another plugin: validate it). Awaited in the publisher's task, one handler after the
        other: return quickly (queue work with `context.enqueue`, do not do it here). An
        exception is logged against this handler and never reaches the publisher.

        Cancellation: cancelled with the publisher's task (daemon shutdown included) at any
        `await`; leave nothing half-done and let `trio.Cancelled` propagate.
        """

    def ipc_methods(self) -> Mapping[str, IpcMethod]:
        """Extra IPC methods this handler serves (e.g. `session_watch_start`), by name.

        Each takes the request's `params` dict and returns something JSON-serialisable; raise
        `ox_core.errors.OxError` for a clear error reply (its `code` is the reply's, see
        `ox_core.protocol.ErrorCode`). Default: none. A method is cancelled when the daemon
        stops or the client's connection is closed; the client then sees no reply.
        """
        return {}
