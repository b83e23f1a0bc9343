"""ox runner plugin for `claude`."""

from ox_runner_claude.runner import ClaudeRunner

__all__ = ["ClaudeRunner"]
