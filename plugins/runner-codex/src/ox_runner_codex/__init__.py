"""ox runner plugin for `codex`."""

from ox_runner_codex.runner import CodexRunner

__all__ = ["CodexRunner"]
