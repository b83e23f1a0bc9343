"""ox-core: the daemon of ox, and the API its plugins are written against.

`__all__` is the plugin author's API, on one screen in docs/api.md: the contracts a runner or
a work handler implements, `hookimpl` to register them, the errors, the process helpers, and
plugin commands. The pytest kits are the modules `ox_core.testing` (handlers) and
`ox_core.testing_runners` (runners), installed by the `ox-core[testing]` extra.

Names are imported lazily (PEP 562) so that `ox-core --help` does not pay for trio or pydantic.
The daemon's own parts (`Manager`, `WorkQueue`, ...) stay importable from here for ox's tests
but are not part of the plugin API: import them from their modules.
"""

from __future__ import annotations

import importlib

# Not `typing`'s: importing `typing` costs an agent hook (`ox-core hook ...`) several ms, and
# type checkers treat any `TYPE_CHECKING` as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # What a plugin implements and exchanges.
    "Runner": "ox_core.contracts",
    "WorkHandler": "ox_core.contracts",
    "HandlerOptions": "ox_core.contracts",
    "HandlerContext": "ox_core.contracts",
    "RunRequest": "ox_core.contracts",
    "RunResult": "ox_core.contracts",
    "Quota": "ox_core.contracts",
    "Outcome": "ox_core.contracts",
    "Diagnosis": "ox_core.contracts",
    "AgentUsability": "ox_core.contracts",
    "WorkItem": "ox_core.work",
    "hookimpl": "ox_core.hookspecs",
    "validate_options": "ox_core.config",
    # Errors (each is one line for a person; `code` for programs).
    "OxError": "ox_core.errors",
    "ConfigError": "ox_core.errors",
    "NotFoundError": "ox_core.errors",
    "RunnerError": "ox_core.errors",
    "LedgerBlockedError": "ox_core.errors",
    # Running an agent CLI.
    "CliRunner": "ox_core.cli_runner",
    "CliRunnerOptions": "ox_core.cli_runner",
    "ProcessOutcome": "ox_core.process",
    "run_agent_process": "ox_core.process",
    "probe": "ox_core.process",
    "find_binary": "ox_core.environment",
    "agent_env": "ox_core.environment",
    # Files: atomic, durable, never through a link.
    "atomic_write": "ox_core.fs",
    "fsync_dir": "ox_core.fs",
    "lock_file": "ox_core.fs",
    # Plugin commands (`ox.commands` entry points).
    "Command": "ox_core.commands",
    "CommandContext": "ox_core.commands",
    # Discovery and a runner for tests.
    "load_plugins": "ox_core.plugins",
    "LoadedPlugins": "ox_core.plugins",
    "PluginLoadError": "ox_core.plugins",
    "MockRunner": "ox_core.mock",
}

_INTERNAL: dict[str, str] = {
    "WorkQueue": "ox_core.queue",
    "QueueStatistics": "ox_core.queue",
    "RateLimiter": "ox_core.ratelimit",
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
    "AgentUsability",
    "CliRunner",
    "CliRunnerOptions",
    "Command",
    "CommandContext",
    "ConfigError",
    "Diagnosis",
    "HandlerContext",
    "HandlerOptions",
    "LedgerBlockedError",
    "LoadedPlugins",
    "MockRunner",
    "NotFoundError",
    "Outcome",
    "OxError",
    "PluginLoadError",
    "ProcessOutcome",
    "Quota",
    "RunRequest",
    "RunResult",
    "Runner",
    "RunnerError",
    "WorkHandler",
    "WorkItem",
    "agent_env",
    "atomic_write",
    "find_binary",
    "fsync_dir",
    "hookimpl",
    "load_plugins",
    "lock_file",
    "probe",
    "run_agent_process",
    "validate_options",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name) or _INTERNAL.get(name)
    if module is None:
        raise AttributeError(f"module 'ox_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


if TYPE_CHECKING:
    from ox_core.agents import check_agent_usability as check_agent_usability
    from ox_core.agents import resolve_agent as resolve_agent
    from ox_core.cli_runner import CliRunner, CliRunnerOptions
    from ox_core.commands import Command, CommandContext
    from ox_core.config import AgentWorkerConfig as AgentWorkerConfig
    from ox_core.config import validate_options
    from ox_core.contracts import (
        AgentUsability,
        Diagnosis,
        HandlerContext,
        HandlerOptions,
        Outcome,
        Quota,
        Runner,
        RunRequest,
        RunResult,
        WorkHandler,
    )
    from ox_core.environment import agent_env, find_binary
    from ox_core.errors import ConfigError, LedgerBlockedError, NotFoundError, OxError, RunnerError
    from ox_core.fs import atomic_write, fsync_dir, lock_file
    from ox_core.hookspecs import hookimpl
    from ox_core.manager import Manager as Manager
    from ox_core.manager import SyncSignal as SyncSignal
    from ox_core.mock import MockRunner
    from ox_core.plugins import LoadedPlugins, PluginLoadError, load_plugins
    from ox_core.process import ProcessOutcome, probe, run_agent_process
    from ox_core.queue import QueueStatistics as QueueStatistics
    from ox_core.queue import WorkQueue as WorkQueue
    from ox_core.ratelimit import RateLimiter as RateLimiter
    from ox_core.status import AgentProcess as AgentProcess
    from ox_core.status import AgentWorkStatus as AgentWorkStatus
    from ox_core.status import WorkResult as WorkResult
    from ox_core.work import WorkItem
