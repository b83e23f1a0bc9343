"""The echo runner: a `CliRunner` with options of its own (`[runners.echo]`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import ClassVar

import pydantic

from ox_core import CliRunner, CliRunnerOptions, ProcessOutcome, RunRequest, RunResult


class EchoOptions(CliRunnerOptions):
    """`[runners.echo]`: every CLI runner's options plus the echo agent's prefix."""

    prefix: str = pydantic.Field(
        "echo: ", max_length=100, description="What the fake agent puts before the prompt."
    )


class EchoRunner(CliRunner):
    """Drives `ox-echo-agent`. Lowest priority: auto-detection prefers any real agent."""

    name = "echo"
    priority = 90
    executable = "ox-echo-agent"
    # The fake agent is a console script of this distribution: next to the python running ox.
    install_dirs: ClassVar[tuple[str, ...]] = (os.path.dirname(sys.executable),)
    Options: ClassVar[type[CliRunnerOptions]] = EchoOptions

    @property
    def echo_options(self) -> EchoOptions:
        assert isinstance(self.options, EchoOptions)
        return self.options

    def authentication(self, binary: str, env: Mapping[str, str]) -> tuple[bool, str]:
        return True, "no login needed (a fake agent)"

    def command(self, binary: str, request: RunRequest) -> list[str]:
        argv = [binary, "--prefix", self.echo_options.prefix]
        model = request.model or self.options.model
        if model:
            argv += ["--model", model]
        return [*argv, *self.options.extra_args]

    def parse(self, outcome: ProcessOutcome) -> RunResult:
        failure = outcome.failure(self.name)
        if failure:
            return RunResult(exit_code=outcome.returncode or 1, error=failure)
        events, other = outcome.json_lines
        result = next((e for e in events if e.get("type") == "result"), None)
        if result is None or not isinstance(result.get("result"), str):
            shown = " | ".join(other)[:200]
            return RunResult(exit_code=1, error=f"echo: no result line in the output ({shown})")
        usage = result.get("usage")
        if not isinstance(usage, dict):
            usage = {}
        return RunResult(
            output=result["result"],
            tokens_in=int(usage.get("input_tokens") or 0),
            tokens_out=int(usage.get("output_tokens") or 0),
        )
