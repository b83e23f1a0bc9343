"""Runs `codex` headless."""

from __future__ import annotations

import os
import shutil

from ox_core import AgentUsability, Runner, RunRequest, RunResult


class CodexRunner(Runner):
    name = "codex"
    priority = 20

    def __init__(self, binary: str | os.PathLike[str] | None = None) -> None:
        self.binary = os.fspath(binary) if binary is not None else shutil.which("codex")

    def available(self) -> bool:
        return self.binary is not None and os.access(self.binary, os.X_OK)

    def usability(self) -> AgentUsability:
        return AgentUsability(installed=self.available(), authenticated=False, auth_detail="")

    async def run(self, request: RunRequest) -> RunResult:
        return RunResult(exit_code=1, error="codex runner: not implemented yet")
