"""`CliRunner`: the scaffolding of a runner plugin that drives a vendor CLI.

Options (`CliRunnerOptions`, `[runners.<name>]` in the config), binary lookup, environment,
the usability answer and the run wrapper around `ox_core.process.run_agent_process`, so that
a plugin holds only what differs between CLIs: arguments, parsing, the authentication check,
and what its CLI must not inherit (`env_remove`). See docs/writing-a-runner.md.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar

import attrs
import pydantic

from ox_core.config import MAX_RUN_TIMEOUT, describe_errors
from ox_core.contracts import (
    DEFAULT_RUN_TIMEOUT,
    AgentUsability,
    Quota,
    Runner,
    RunRequest,
    RunResult,
)
from ox_core.environment import agent_env, find_binary
from ox_core.errors import ConfigError, RunnerError
from ox_core.process import DEFAULT_GRACE, ProcessOutcome, run_agent_process, with_stderr
from ox_core.quota import COMMON_WORDING, QuotaWording, find_quota

MAX_ERROR = 4000
"""The most characters a run's error keeps (its start and its end): the text is the CLI's or
the model's (an error event may carry megabytes), and it is logged, kept for `status` with
each failed item's problem, and sent in each `status` reply."""

MAX_GRACE = 60.0
"""The longest wait from SIGTERM to SIGKILL: a stop of the daemon waits for it (`inf` would
never end a stop with a run in flight)."""


class CliRunnerOptions(pydantic.BaseModel):
    """Options of a CLI runner (`[runners.<name>]` in the config)."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    binary: str | None = pydantic.Field(
        None,
        description="The CLI's path (None: found on PATH and the usual install places).",
    )
    timeout: float = pydantic.Field(
        DEFAULT_RUN_TIMEOUT,
        gt=0,
        le=MAX_RUN_TIMEOUT,
        description="Seconds a run may take when the request sets none (at most a day).",
    )
    grace: float = pydantic.Field(
        DEFAULT_GRACE,
        ge=0,
        le=MAX_GRACE,
        description="Seconds from SIGTERM to SIGKILL when a run is stopped (at most 60).",
    )
    model: str | None = pydantic.Field(
        None, description="Model passed to the CLI when the request names none (None: its default)."
    )
    summary_model: str | None = pydantic.Field(
        None,
        description=(
            "Model for background work that asks for a fast one (summaries) when neither the "
            "request nor `model` names one. None: the runner's own choice (a cheaper model, "
            "for some runners); an empty string: the CLI's default."
        ),
    )
    env: dict[str, str] = pydantic.Field(
        default_factory=dict, description="Extra environment variables for the CLI."
    )
    extra_args: list[str] = pydantic.Field(
        default_factory=list, description="Extra command-line arguments for the CLI."
    )

    # No process can be started with these: refused here, they name their key and where they
    # were set, rather than failing every run (and the usability probe) with a bare ValueError.
    @pydantic.field_validator("binary", "model", "summary_model")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        if value is not None and "\x00" in value:
            raise ValueError("holds a NUL byte")
        return value

    @pydantic.field_validator("extra_args")
    @classmethod
    def _no_nul_arg(cls, value: list[str]) -> list[str]:
        if any("\x00" in arg for arg in value):
            raise ValueError("an argument holds a NUL byte")
        return value

    @pydantic.field_validator("env")
    @classmethod
    def _valid_env(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not name or "=" in name or "\x00" in name:
                raise ValueError(f"{name!r} is no variable name (empty, or holds '=' or NUL)")
            if "\x00" in text:
                raise ValueError(f"the value of {name} holds a NUL byte")
        return value


class CliRunner(Runner):
    """Base of the runners that drive a vendor CLI through `run_agent_process`.

    A subclass sets `name`, `priority`, `executable` (and `install_dirs`, places beyond the
    usual ones to look for it) and implements `command`, `parse` and `authentication`.

    `binary`: the CLI's path; None looks for `executable` on PATH, then in `install_dirs` and
    `ox_core.environment.DEFAULT_INSTALL_DIRS`, each time it is needed (an install after start
    is picked up).
    `options`: see `CliRunnerOptions` (or the subclass's `Options`); an unknown or invalid
    option raises `ConfigError`.
    """

    executable: ClassVar[str]
    install_dirs: ClassVar[tuple[str, ...]] = ()
    auth_env: ClassVar[tuple[str, ...]] = ()
    """Environment variables any of which, set, authenticates the CLI without a login."""
    env_remove: ClassVar[tuple[str, ...]] = ()
    """Inherited variables the CLI must not see (e.g. those that make it believe it runs
    inside another agent session, which changes how it behaves)."""
    quota_wording: ClassVar[QuotaWording] = COMMON_WORDING
    """How the CLI words a quota error beyond the common wording (see `ox_core.quota`)."""
    Options: ClassVar[type[CliRunnerOptions]] = CliRunnerOptions
    summary_model: ClassVar[str | None] = None
    """A cheaper, faster model of this CLI for `prefer_fast` requests (None: the default)."""

    def __init__(self, binary: str | os.PathLike[str] | None = None, **options: Any) -> None:
        self._env: Mapping[str, str] | None = None
        if binary is not None:
            # Validated with the other options: a bad `binary` in the config names its key.
            options["binary"] = os.fspath(binary) if isinstance(binary, os.PathLike) else binary
        try:
            self.options = self.Options(**options)
        except pydantic.ValidationError as exc:
            problems = describe_errors(exc, sources=f"runners.{self.name}")
            raise ConfigError(f"runner {self.name}: invalid options: {problems}") from None
        self._binary = self.options.binary

    def model_for(self, request: RunRequest) -> str | None:
        """The model to pass to the CLI: the request's, else the configured `model`, else
        for a `prefer_fast` request the `summary_model` option or the runner's own
        `summary_model`; None (or empty): the CLI's default."""
        model = request.model or self.options.model
        if model or not request.prefer_fast:
            return model
        if self.options.summary_model is not None:
            return self.options.summary_model or None
        return self.summary_model

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

    def find_quota(self, text: str, now: datetime | None = None) -> Quota | None:
        """The quota condition that error text `text` reports (the common wording and this
        CLI's `quota_wording`), or None. For `parse`: apply it to error text only."""
        return find_quota(text, now=now, wording=self.quota_wording)

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
                error=bounded_error(outcome.failure(self.name)),
                duration=outcome.duration,
                runaway=True,
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
        return attrs.evolve(result, duration=outcome.duration, error=bounded_error(result.error))


def bounded_error(error: str) -> str:
    """`error` cut to `MAX_ERROR` characters in its middle: its start says what failed, its
    end holds the stderr tail."""
    if len(error) <= MAX_ERROR:
        return error
    half = (MAX_ERROR - 3) // 2
    return f"{error[:half]} … {error[-half:]}"
