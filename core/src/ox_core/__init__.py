"""ox-core: the work queue, rate limiter, plugin contracts and manager of the ox daemon.

Names are imported lazily (PEP 562) so that `ox-core --help` does not pay for trio,
pydantic or cattrs.
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
}

__all__ = [
    "AgentUsability",
    "HandlerContext",
    "LedgerBlockedError",
    "LoadedPlugins",
    "MockRunner",
    "OxError",
    "PluginLoadError",
    "QueueStatistics",
    "Quota",
    "RateLimiter",
    "RunRequest",
    "RunResult",
    "Runner",
    "RunnerError",
    "WorkHandler",
    "WorkItem",
    "WorkQueue",
    "hookimpl",
    "load_plugins",
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
    from ox_core.contracts import (
        AgentUsability,
        HandlerContext,
        Quota,
        Runner,
        RunRequest,
        RunResult,
        WorkHandler,
    )
    from ox_core.errors import LedgerBlockedError, OxError, RunnerError
    from ox_core.hookspecs import hookimpl
    from ox_core.mock import MockRunner
    from ox_core.plugins import LoadedPlugins, PluginLoadError, load_plugins
    from ox_core.queue import QueueStatistics, WorkQueue
    from ox_core.ratelimit import RateLimiter
    from ox_core.work import WorkItem
