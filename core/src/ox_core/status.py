"""What the manager reports: `AgentWorkStatus` and the records it is made of (`AgentProcess`,
`AgentWorkStats`, `Hold`, `Problem`, `QuotaState`), and the `WorkResult` given to
`on_complete` callbacks. Every record is attrs: one type per concept, the same one the
manager's policies keep and report in their `statistics()`; `to_json()` turns a status into
JSON data with cattrs (times as ISO strings, UTC as `Z`).

`AgentWorkStatus.to_json()` always has `enabled`, `agent_type`,
`agent_available`, `queue_depth`, `active`, `recent` and `stats{total_invocations, successes,
failures}` (what every client reads); the other keys are additions.

`build_status` makes one from the frozen `statistics()` of the manager's policy objects (agent
gate, retry policy, history, standing errors).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import attrs
import cattrs
from cattrs.gen import make_dict_unstructure_fn, override

from ox_core.contracts import Outcome, RunResult
from ox_core.quota_store import QuotaPause
from ox_core.sync_signal import LedgerSyncState
from ox_core.work import WorkItem

if TYPE_CHECKING:
    from ox_core.agent_gate import AgentGateStatistics
    from ox_core.config import AgentWorkerConfig
    from ox_core.history import WorkStatistics
    from ox_core.retry import RetryStatistics
    from ox_core.sync_signal import SyncStatistics

ProcessStatus = Literal["running", "waiting", "completed", "failed"]

QuotaState = QuotaPause
"""The quota pause: until when (UTC), what the agent said (`message`), what the length was read
from (`basis`; empty when the agent did not say and the 1 h fallback applies), since when."""


@attrs.define(slots=True, kw_only=True)
class AgentProcess:
    """One piece of work the manager did: an item's attempt, or a handler's detection/cleanup.

    `pid` is the agent's process id when the runner reports one (runners do not yet: None).
    `target` is the item's dedup key (its id when it has none), or `detect`/`cleanup`.
    `duration` in seconds; `error` empty unless `status` is `failed`; `exit_code` the agent's,
    None when no agent ran (a `skip_llm` item, a handler step). `outcome`: what happened to a
    finished item in the handler's words (`published`, `published without summary`,
    `discarded` ...; `completed` when the handler did not say, `failed`, `will retry` or
    `quota` otherwise) and `reason` why, when there is one to tell. `started` is the
    manager's clock at the start (not in the JSON: `duration` says it).

    The manager updates the record while its attempt runs and never after it ends; the
    history's `statistics()` gives copies of the ones in flight.
    """

    pid: int | None = None
    item_id: str = ""
    work_type: str
    target: str
    started_at: datetime
    status: ProcessStatus = "running"
    duration: float = 0.0
    error: str = ""
    exit_code: int | None = None
    attempts: int = 0
    skip_llm: bool = False
    outcome: str = ""
    reason: str = ""
    started: float = attrs.field(default=0.0, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class AgentWorkStats:
    """Cumulative counts since the manager started. *Items* and agent *runs* are counted
    apart: one item may take several runs, and an item that needs no agent takes none.

    Runs: `total_invocations` agent runs started, of which `runs_ok` answered, `runs_failed`
    failed and `runs_quota` hit a quota or rate limit. Items: `successes` / `failures` ended
    either way (`finished` is their sum); `outcomes` counts the finished items by outcome
    (`published`, `discarded`, `failed` ...). `retries`: runner failures that requeued their item.
    `waits`: times an item needing the agent went back to the queue (quota, rate limit, no
    agent); `deferred`: times one was let go instead, as many waiting as the queue keeps for
    the agent (not finished: a scan finds it again once the agent ran). `blocked`: times a
    ledger-wide blocker paused a work type. `parks`: keys parked. `detect_errors`: detection
    or cleanup steps of a handler that raised.
    """

    total_invocations: int = 0
    successes: int = 0
    failures: int = 0
    retries: int = 0
    waits: int = 0
    deferred: int = 0
    blocked: int = 0
    parks: int = 0
    detect_errors: int = 0
    runs_ok: int = 0
    runs_failed: int = 0
    runs_quota: int = 0
    outcomes: dict[str, int] = attrs.Factory(dict)

    @property
    def finished(self) -> int:
        return self.successes + self.failures


HoldKind = Literal[
    "disabled", "no_agent", "quota", "rate_limit", "paused_type", "disabled_type", "parked"
]


@attrs.frozen(kw_only=True)
class Hold:
    """Something that holds work back now: `kind`, what it applies to (`name`: a work type, a
    dedup key, the agent), until when (`until`, UTC; None: until something changes) and why."""

    kind: HoldKind
    name: str = ""
    until: datetime | None = None
    reason: str = ""


@attrs.frozen(kw_only=True)
class Problem:
    """A failure that still stands: the last error of `target` (an item's key, or a handler
    step such as `detect`) of `work_type`, when it `first` and `last` happened (UTC) and how
    many times in a row (`count`). It goes away when that target next succeeds."""

    work_type: str
    target: str
    error: str
    first: datetime
    last: datetime
    count: int = 1


@attrs.frozen(kw_only=True)
class AgentWorkStatus:
    """A snapshot of the manager (`Manager.status()`).

    `agent_type`: the runner's name, `"none"` without one. `agent_available`: the runner was
    installed and authenticated at the last check. `queue_depth`: items waiting, of which
    `agent_waiting` wait for the agent (they have an allowance of their own, as large as the
    queue's cap: a queue may hold up to twice its cap). `active`: work in flight; `recent`:
    the last 10 finished, newest last. `quota_paused_until`: end of a quota
    pause (UTC) or None. `paused_types`: work types paused by a ledger-wide blocker, with the
    end of the pause. `parked`: dedup keys parked after repeated failures, with the end of the
    park. `rate_limit_remaining`: agent runs left in the current window.

    `holds`: everything that holds work back now, each with its end and reason (the fields
    above, plus a disabled manager or work type, no usable agent, an exhausted rate limit).
    `quota`: the quota pause with its reason. `errors`: failures that still stand (see
    `Problem`). `syncs` / `last_sync_at`: ledger syncs seen (0 / None: the daemon does not
    sync the ledger). `ledger_sync`: the syncer's last report (ahead/behind, last success,
    last error, a pause; None when nothing syncs the ledger).
    """

    enabled: bool
    agent_type: str
    agent_available: bool
    queue_depth: int
    active: list[AgentProcess] = attrs.Factory(list)
    recent: list[AgentProcess] = attrs.Factory(list)
    stats: AgentWorkStats = attrs.Factory(AgentWorkStats)
    in_progress: int = 0
    agent_waiting: int = 0
    quota_paused_until: datetime | None = None
    paused_types: dict[str, datetime] = attrs.Factory(dict)
    parked: dict[str, datetime] = attrs.Factory(dict)
    rate_limit_remaining: int = 0
    holds: list[Hold] = attrs.Factory(list)
    quota: QuotaState | None = None
    errors: list[Problem] = attrs.Factory(list)
    syncs: int = 0
    last_sync_at: datetime | None = None
    ledger_sync: LedgerSyncState | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON data (what the `status` IPC method sends as `agent_work`)."""
        data: dict[str, Any] = _converter.unstructure(self)
        return data


@attrs.frozen
class WorkResult:
    """How one work item ended, given to every `Manager.on_complete` callback.

    `result` is the agent's `RunResult` (an empty one for a `skip_llm` item; None when no run
    happened, e.g. `build_prompt` failed). `error` is empty on success. `duration` in seconds,
    from the start of the item's last attempt. (attrs, not pydantic: it carries attrs records
    and is made once per item on the hot path.) `outcome`: what the handler said it did
    (None: plain completed, or the item failed).
    """

    item: WorkItem
    result: RunResult | None
    error: str
    duration: float
    outcome: Outcome | None = None

    @property
    def ok(self) -> bool:
        return not self.error


def _utc(when: datetime) -> str:
    text = when.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


_converter = cattrs.Converter()
_converter.register_unstructure_hook(datetime, _utc)
_converter.register_unstructure_hook(
    AgentProcess,
    make_dict_unstructure_fn(AgentProcess, _converter, started=override(omit=True)),
)


def build_status(
    *,
    config: AgentWorkerConfig,
    work_types: list[str],
    gate: AgentGateStatistics,
    retry: RetryStatistics,
    work: WorkStatistics,
    errors: tuple[Problem, ...],
    sync: SyncStatistics,
    queue_depth: int,
    agent_waiting: int,
    in_progress: int,
    now: float,
    wall: datetime,
) -> AgentWorkStatus:
    """The manager's status from its policies' statistics. `now` is the policies' clock and
    `wall` the UTC time at that moment (clock deadlines are told as UTC times)."""

    def at(deadline: float) -> datetime:
        return wall + timedelta(seconds=deadline - now)

    quota = gate.quota
    return AgentWorkStatus(
        enabled=config.enabled,
        agent_type=gate.agent or "none",
        agent_available=gate.available,
        queue_depth=queue_depth,
        active=list(work.active),
        recent=list(work.recent),
        stats=work.counts,
        in_progress=in_progress,
        agent_waiting=agent_waiting,
        quota_paused_until=quota.until if quota is not None else None,
        paused_types={held.name: at(held.until) for held in retry.paused},
        parked={held.name: at(held.until) for held in retry.parked},
        rate_limit_remaining=gate.rate.remaining,
        holds=_holds(config, work_types, gate, retry, quota, at),
        quota=quota,
        errors=list(errors),
        syncs=sync.fired,
        last_sync_at=sync.last_fired,
        ledger_sync=sync.state,
    )


def _holds(
    config: AgentWorkerConfig,
    work_types: list[str],
    gate: AgentGateStatistics,
    retry: RetryStatistics,
    quota: QuotaState | None,
    at: Callable[[float], datetime],
) -> list[Hold]:
    """Everything that holds work back now, for `status`."""
    holds: list[Hold] = []
    if not config.enabled:
        holds.append(Hold(kind="disabled", reason="agent work is disabled (enabled = false)"))
    if not gate.agent:
        holds.append(
            Hold(
                kind="no_agent",
                reason="no agent CLI is installed and logged in (see `ox-core doctor`): "
                "sessions are recorded, summaries wait",
            )
        )
    elif not gate.available:
        holds.append(Hold(kind="no_agent", name=gate.agent, reason=gate.detail or "not usable"))
    if quota is not None:
        said = f"read from {quota.basis!r}" if quota.basis else "no time given: 1 h fallback"
        reason = f"{quota.message} ({said})"
        holds.append(Hold(kind="quota", name=gate.agent, until=quota.until, reason=reason))
    rate = gate.rate
    if rate.remaining == 0:
        holds.append(
            Hold(
                kind="rate_limit",
                until=at(gate.rate_refill) if gate.rate_refill is not None else None,
                reason=f"all {rate.max_tokens} agent runs of the {rate.window:.0f} s window "
                "are used",
            )
        )
    for held in retry.paused:
        until = at(held.until)
        holds.append(Hold(kind="paused_type", name=held.name, until=until, reason=held.reason))
    for name in sorted({*work_types, *config.disabled_types}):
        if not config.type_enabled(name):
            # Not in `disabled_types`: a switch of the type's own (its handler's options).
            where = "disabled_types" if name in config.disabled_types else f"{name} options"
            reason = f"turned off in the config ({where})"
            holds.append(Hold(kind="disabled_type", name=name, reason=reason))
    for held in retry.parked:
        last = held.reason
        reason = f"{held.failures} failures in a row; last: {last}" if last else ""
        holds.append(Hold(kind="parked", name=held.name, until=at(held.until), reason=reason))
    return holds
