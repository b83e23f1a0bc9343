"""What the manager reports: `AgentWorkStatus` (pydantic, JSON-ready: the IPC boundary), its
`AgentProcess` records and stats, and the `WorkResult` given to `on_complete` callbacks.

`AgentWorkStatus.model_dump(mode="json")` always has `enabled`, `agent_type`,
`agent_available`, `queue_depth`, `active`, `recent` and `stats{total_invocations, successes,
failures}` (what every client reads); the other keys are additions.

`build_status` makes one from the frozen `statistics()` of the manager's policy objects (agent
gate, retry policy, history, standing errors); their attrs records become JSON with cattrs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

import attrs
import cattrs
from pydantic import BaseModel, ConfigDict, Field

from ox_core.contracts import Outcome, RunResult
from ox_core.history import ProcessStatus
from ox_core.work import WorkItem

if TYPE_CHECKING:
    from ox_core.agent_gate import AgentGateStatistics
    from ox_core.config import AgentWorkerConfig
    from ox_core.history import WorkRecord, WorkStatistics
    from ox_core.problems import StandingError
    from ox_core.retry import RetryStatistics
    from ox_core.sync_signal import SyncStatistics

# attrs records to plain data (datetimes stay datetimes: pydantic validates them next).
_converter = cattrs.Converter()


class AgentProcess(BaseModel):
    """One piece of work the manager did: an item's run, or a handler's detection/cleanup.

    `pid` is the agent's process id when the runner reports one (runners do not yet: None).
    `target` is the item's dedup key (its id when it has none), or `detect`/`cleanup`.
    `duration` in seconds; `error` empty unless `status` is `failed`; `exit_code` the agent's,
    None when no agent ran (a `skip_llm` item, a handler step). `outcome`: what happened to a
    finished item in the handler's words (`published`, `published without summary`,
    `discarded` ...; `completed` when the handler did not say, `failed`, `waiting` or
    `retrying` otherwise) and `reason` why, when there is one to tell.
    """

    model_config = ConfigDict(frozen=True)

    pid: int | None = None
    item_id: str = ""
    work_type: str
    target: str
    started_at: datetime
    status: ProcessStatus
    duration: float = 0.0
    error: str = ""
    exit_code: int | None = None
    attempts: int = 0
    skip_llm: bool = False
    outcome: str = ""
    reason: str = ""


class AgentWorkStats(BaseModel):
    """Cumulative counts since the manager started. *Items* and agent *runs* are counted
    apart: one item may take several runs, and an item that needs no agent takes none.

    Runs: `total_invocations` agent runs started, of which `runs_ok` answered, `runs_failed`
    failed and `runs_quota` hit a quota or rate limit. Items: `successes` / `failures` ended
    either way (`finished` is their sum); `outcomes` counts the finished items by outcome
    (`published`, `discarded`, `failed` ...). `retries`: runner failures that requeued their item.
    `waits`: times an item needing the agent went back to the queue (quota, rate limit, no
    agent). `blocked`: times a ledger-wide blocker paused a work type. `parks`: keys parked.
    `detect_errors`: detection or cleanup steps of a handler that raised.
    """

    total_invocations: int = 0
    successes: int = 0
    failures: int = 0
    retries: int = 0
    waits: int = 0
    blocked: int = 0
    parks: int = 0
    detect_errors: int = 0
    runs_ok: int = 0
    runs_failed: int = 0
    runs_quota: int = 0
    outcomes: dict[str, int] = Field(default_factory=dict)

    @property
    def finished(self) -> int:
        return self.successes + self.failures


HoldKind = Literal[
    "disabled", "no_agent", "quota", "rate_limit", "paused_type", "disabled_type", "parked"
]


class Hold(BaseModel):
    """Something that holds work back now: `kind`, what it applies to (`name`: a work type, a
    dedup key, the agent), until when (`until`, UTC; None: until something changes) and why."""

    model_config = ConfigDict(frozen=True)

    kind: HoldKind
    name: str = ""
    until: datetime | None = None
    reason: str = ""


class Problem(BaseModel):
    """A failure that still stands: the last error of `target` (an item's key, or a handler
    step such as `detect`), when it `first` and `last` happened and how many times (`count`).
    It goes away when that target next succeeds."""

    model_config = ConfigDict(frozen=True)

    work_type: str
    target: str
    error: str
    first: datetime
    last: datetime
    count: int = 1


class QuotaState(BaseModel):
    """The quota pause: until when, what the agent said, what the length was read from
    (`basis`; empty when the agent did not say and the 1 h fallback applies), since when."""

    model_config = ConfigDict(frozen=True)

    until: datetime
    message: str
    basis: str = ""
    since: datetime


class AgentWorkStatus(BaseModel):
    """A snapshot of the manager (`Manager.status()`).

    `agent_type`: the runner's name, `"none"` without one. `agent_available`: the runner was
    installed and authenticated at the last check. `queue_depth`: items waiting. `active`: work
    in flight; `recent`: the last 10 finished, newest last. `quota_paused_until`: end of a quota
    pause (UTC) or None. `paused_types`: work types paused by a ledger-wide blocker, with the
    end of the pause. `parked`: dedup keys parked after repeated failures, with the end of the
    park. `rate_limit_remaining`: agent runs left in the current window.

    `holds`: everything that holds work back now, each with its end and reason (the fields
    above, plus a disabled manager or work type, no usable agent, an exhausted rate limit).
    `quota`: the quota pause with its reason. `errors`: failures that still stand (see
    `Problem`). `syncs` / `last_sync_at`: ledger syncs seen (0 / None: the daemon does not
    sync the ledger).
    """

    enabled: bool
    agent_type: str
    agent_available: bool
    queue_depth: int
    active: list[AgentProcess] = Field(default_factory=list)
    recent: list[AgentProcess] = Field(default_factory=list)
    stats: AgentWorkStats = Field(default_factory=AgentWorkStats)
    in_progress: int = 0
    quota_paused_until: datetime | None = None
    paused_types: dict[str, datetime] = Field(default_factory=dict)
    parked: dict[str, datetime] = Field(default_factory=dict)
    rate_limit_remaining: int = 0
    holds: list[Hold] = Field(default_factory=list)
    quota: QuotaState | None = None
    errors: list[Problem] = Field(default_factory=list)
    syncs: int = 0
    last_sync_at: datetime | None = None


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


def _process(record: WorkRecord, now: float) -> AgentProcess:
    data = _converter.unstructure(record)
    del data["started"]  # the manager's clock: the duration says it
    if record.status == "running":
        data["duration"] = now - record.started
    return AgentProcess.model_validate(data)


def build_status(
    *,
    config: AgentWorkerConfig,
    work_types: list[str],
    gate: AgentGateStatistics,
    retry: RetryStatistics,
    work: WorkStatistics,
    errors: tuple[StandingError, ...],
    sync: SyncStatistics,
    queue_depth: int,
    in_progress: int,
    now: float,
    wall: datetime,
) -> AgentWorkStatus:
    """The manager's status from its policies' statistics. `now` is the policies' clock and
    `wall` the UTC time at that moment (clock deadlines are told as UTC times)."""

    def at(deadline: float) -> datetime:
        return wall + timedelta(seconds=deadline - now)

    quota = None
    if gate.quota is not None:
        quota = QuotaState.model_validate(_converter.unstructure(gate.quota))
    return AgentWorkStatus(
        enabled=config.enabled,
        agent_type=gate.agent or "none",
        agent_available=gate.available,
        queue_depth=queue_depth,
        active=[_process(r, now) for r in work.active],
        recent=[_process(r, now) for r in work.recent],
        stats=AgentWorkStats(**_converter.unstructure(work.counts), parks=retry.parks),
        in_progress=in_progress,
        quota_paused_until=quota.until if quota is not None else None,
        paused_types={held.name: at(held.until) for held in retry.paused},
        parked={held.name: at(held.until) for held in retry.parked},
        rate_limit_remaining=gate.rate.remaining,
        holds=_holds(config, work_types, gate, retry, quota, at),
        quota=quota,
        errors=[Problem.model_validate(_converter.unstructure(e)) for e in errors],
        syncs=sync.fired,
        last_sync_at=sync.last_fired,
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
