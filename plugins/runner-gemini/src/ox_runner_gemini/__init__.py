"""ox runner plugin for `gemini`."""

from ox_runner_gemini.runner import GeminiRunner

__all__ = ["GeminiRunner"]
