"""Example ox runner: drives `ox-echo-agent`, a fake agent CLI that echoes the prompt."""

from ox_runner_echo.runner import EchoOptions, EchoRunner

__all__ = ["EchoOptions", "EchoRunner"]
