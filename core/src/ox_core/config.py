"""The manager's configuration, `AgentWorkerConfig`, and `validate_options` for plugins' own.

The daemon builds an `AgentWorkerConfig` from its settings (TOML file + `OX_*` environment)
and hands the manager a *provider* callable returning the current value, so config edits
apply without a restart. A plugin's options (`[runners.<name>]`, `[handlers.<type>]`) are the
plugin's own pydantic model, checked by `validate_options` when the plugin is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ox_core.errors import ConfigError

M = TypeVar("M", bound=BaseModel)

DEFAULT_MAX_CONCURRENT = 4
DEFAULT_RATE_LIMIT_RUNS = 60
DEFAULT_RATE_LIMIT_WINDOW = 3600.0
DEFAULT_TIMEOUT = 300.0
MAX_RUN_TIMEOUT = 86400.0
"""The longest an agent run may be allowed, a day: `inf` or `1e308` would never stop a hung
agent (its item, and every item behind it in its slot, would wait for ever)."""

MAX_RATE_LIMIT_WINDOW = 366 * 86400.0
"""The longest rate-limit window, a year: `status` tells when a window refills as a date (an
`inf` or `1e12` window is no date)."""


class RateLimitConfig(BaseModel):
    """At most `runs` agent runs per `window` seconds (a token bucket, see `RateLimiter`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    runs: int = Field(
        DEFAULT_RATE_LIMIT_RUNS, ge=0, description="Agent runs allowed per window (0: none)."
    )
    window: float = Field(
        DEFAULT_RATE_LIMIT_WINDOW,
        gt=0,
        le=MAX_RATE_LIMIT_WINDOW,
        description="Length of the rate-limit window, seconds (at most a year).",
    )


class AgentWorkerConfig(BaseModel):
    """What the manager reads on every cycle.

    Each field describes itself (`model_json_schema()` lists type, default and description), so
    `ox-core config --show` can print them. Unknown keys are refused.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="Run background agent work at all.")
    agent: str = Field(
        "",
        description='Runner name to use (see `ox-core doctor`); "" picks the first usable '
        "runner by priority.",
    )
    max_concurrent: int = Field(
        DEFAULT_MAX_CONCURRENT, ge=1, le=64, description="Work items processed at once."
    )
    rate_limit: RateLimitConfig = Field(
        default_factory=RateLimitConfig, description="Agent runs allowed per time window."
    )
    timeout: float = Field(
        DEFAULT_TIMEOUT,
        gt=0,
        le=MAX_RUN_TIMEOUT,
        description="Seconds an agent run may take, unless the handler asks for another value "
        "(at most a day).",
    )
    disabled_types: frozenset[str] = Field(
        frozenset(), description="Work types not to detect or run (their items stay queued)."
    )

    def type_enabled(self, work_type: str) -> bool:
        """Whether items of `work_type` may be detected and run under this config."""
        return work_type not in self.disabled_types


def validate_options(model: type[M], raw: Mapping[str, Any], where: str) -> M:
    """`raw` (a plugin's table from the config) validated as `model`.

    Raises `ConfigError` with one line naming each bad key under `where` and where its value
    came from, e.g. `invalid settings: handlers.example.limit: Input should be less than or
    equal to 1 (from file /home/ann/.config/ox/config.toml)`.
    """
    try:
        return model.model_validate(dict(raw))
    except ValidationError as exc:
        problems = describe_errors(exc, where, sources=where)
        raise ConfigError(f"invalid settings: {problems}") from None
    except TypeError as exc:  # a table that is not a table (`OX_HANDLERS='{"x": 1}'`)
        raise ConfigError(f"invalid settings: {where}: {exc}") from None


def describe_errors(exc: ValidationError, where: str = "", *, sources: str | None = None) -> str:
    """Each error of `exc` as `where.key: message`, joined by `; ` (one line). With `sources`
    (the table the keys are in, as dotted names: `runners.claude`), each is followed by where
    its value came from (`(from env OX_…)`, `(from file …)`) when the config file or the
    environment set it."""
    from ox_core.settings import source_of  # settings imports this module

    table = tuple(p for p in (sources or "").split(".") if p)
    problems = []
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"])
        key = ".".join(p for p in (where, *loc) if p)
        message = str(err["msg"]).removeprefix("Value error, ")
        problem = f"{key or 'options'}: {message}"
        if sources is not None and (source := source_of((*table, *loc))):
            problem += f" (from {source})"
        problems.append(problem)
    return " ".join("; ".join(problems).split())
