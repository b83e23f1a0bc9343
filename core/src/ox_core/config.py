"""The manager's configuration: `AgentWorkerConfig`, a pydantic model read on every cycle.

The daemon builds one from its settings (TOML file + `OX_*` environment) and hands the manager
a *provider* callable returning the current value, so config edits apply without a restart.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_MAX_CONCURRENT = 4
DEFAULT_RATE_LIMIT_RUNS = 60
DEFAULT_RATE_LIMIT_WINDOW = 3600.0
DEFAULT_TIMEOUT = 300.0


class RateLimitConfig(BaseModel):
    """At most `runs` agent runs per `window` seconds (a token bucket, see `RateLimiter`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    runs: int = Field(
        DEFAULT_RATE_LIMIT_RUNS, ge=0, description="Agent runs allowed per window (0: none)."
    )
    window: float = Field(
        DEFAULT_RATE_LIMIT_WINDOW, gt=0, description="Length of the rate-limit window, seconds."
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
        description='Runner name to use (e.g. "claude"); "" picks the first usable runner '
        "by priority.",
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
        description="Seconds an agent run may take, unless the handler asks for another value.",
    )
    quality_upload: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Sessions scoring at least this are uploaded to the ledger.",
    )
    quality_discard: float = Field(
        0.1, ge=0, le=1, description="Sessions scoring below this are discarded."
    )
    session_finalize: bool = Field(
        True, description="Finalize recorded sessions (work type `session-finalize`)."
    )
    disabled_types: frozenset[str] = Field(
        frozenset(), description="Work types not to detect or run (their items stay queued)."
    )

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> AgentWorkerConfig:
        if self.quality_discard > self.quality_upload:
            raise ValueError(
                f"quality_discard ({self.quality_discard}) must not exceed "
                f"quality_upload ({self.quality_upload})"
            )
        return self

    def type_enabled(self, work_type: str) -> bool:
        """Whether items of `work_type` may be detected and run under this config."""
        if work_type in self.disabled_types:
            return False
        return self.session_finalize or work_type != "session-finalize"
