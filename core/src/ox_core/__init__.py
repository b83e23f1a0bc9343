"""ox-core: the work queue, rate limiter, plugin contracts and manager of the ox daemon.

Names are imported lazily (PEP 562) so that `ox-core --help` does not pay for trio or pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "WorkItem": "ox_core.work",
    "WorkQueue": "ox_core.queue",
    "QueueStatistics": "ox_core.queue",
    "RateLimiter": "ox_core.ratelimit",
    "AgentUsability": "ox_core.contracts",
    "Outcome": "ox_core.contracts",
    "Quota": "ox_core.contracts",
    "RunRequest": "ox_core.contracts",
    "RunResult": "ox_core.contracts",
    "Runner": "ox_core.contracts",
    "WorkHandler": "ox_core.contracts",
    "HandlerContext": "ox_core.contracts",
    "MockRunner": "ox_core.mock",
    "load_plugins": "ox_core.plugins",
    "LoadedPlugins": "ox_core.plugins",
    "PluginLoadError": "ox_core.plugins",
    "hookimpl": "ox_core.hookspecs",
    "OxError": "ox_core.errors",
    "LedgerBlockedError": "ox_core.errors",
    "RunnerError": "ox_core.errors",
    "Manager": "ox_core.manager",
    "SyncSignal": "ox_core.manager",
    "AgentWorkerConfig": "ox_core.config",
    "AgentWorkStatus": "ox_core.status",
    "AgentProcess": "ox_core.status",
    "WorkResult": "ox_core.status",
    "resolve_agent": "ox_core.agents",
    "check_agent_usability": "ox_core.agents",
}

__all__ = [
    "AgentProcess",
    "AgentUsability",
    "AgentWorkStatus",
    "AgentWorkerConfig",
    "HandlerContext",
    "LedgerBlockedError",
    "LoadedPlugins",
    "Manager",
    "MockRunner",
    "Outcome",
    "OxError",
    "PluginLoadError",
    "QueueStatistics",
    "Quota",
    "RateLimiter",
    "RunRequest",
    "RunResult",
    "Runner",
    "RunnerError",
    "SyncSignal",
    "WorkHandler",
    "WorkItem",
    "WorkQueue",
    "WorkResult",
    "check_agent_usability",
    "hookimpl",
    "load_plugins",
    "resolve_agent",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ox_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


if TYPE_CHECKING:
    from ox_core.agents import check_agent_usability, resolve_agent
    from ox_core.config import AgentWorkerConfig
    from ox_core.contracts import (
        AgentUsability,
        HandlerContext,
        Outcome,
        Quota,
        Runner,
        RunRequest,
        RunResult,
        WorkHandler,
    )
    from ox_core.errors import LedgerBlockedError, OxError, RunnerError
    from ox_core.hookspecs import hookimpl
    from ox_core.manager import Manager, SyncSignal
    from ox_core.mock import MockRunner
    from ox_core.plugins import LoadedPlugins, PluginLoadError, load_plugins
    from ox_core.queue import QueueStatistics, WorkQueue
    from ox_core.ratelimit import RateLimiter
    from ox_core.status import AgentProcess, AgentWorkStatus, WorkResult
    from ox_core.work import WorkItem
