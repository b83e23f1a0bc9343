"""Logging set-up: readable lines for a person, or one JSON object a line for machines."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

LogFormat = Literal["text", "json"]

# Attributes every LogRecord has; anything else was passed through `extra=` and is kept.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def escape_controls(text: str) -> str:
    """`text` with every control or invisible character written as its escape (`\\x1b`),
    newlines and tabs kept: what a remote, an agent or a teammate wrote, shown in a log line
    or on a terminal, is read there and never acted on."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in "\n\t" else ascii(c)[1:-1] for c in text)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: `ts` (RFC 3339 UTC), `level`, `logger`, `msg`, extras, `exc`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`HH:MM:SS level  message` on a terminal; full dates and the logger name otherwise."""

    def __init__(self, *, terminal: bool) -> None:
        if terminal:
            super().__init__("%(asctime)s %(levelname)-7s %(message)s", datefmt="%H:%M:%S")
        else:
            super().__init__(
                "%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%Y-%m-%dT%H:%M:%S%z"
            )

    def format(self, record: logging.LogRecord) -> str:
        # Values in a message come from outside (a file's name, a remote's or an agent's
        # words): a newline in one must not start what reads as a line of the daemon's own,
        # nor an escape act on the terminal. Continuation lines (a traceback's too) are
        # indented, so only the daemon's lines start at column 0.
        text = escape_controls(super().format(record))
        return text.replace("\n", "\n    ") if "\n" in text else text


def setup_logging(
    fmt: LogFormat = "text", level: str | int = "INFO", stream: TextIO | None = None
) -> logging.Handler:
    """Send the `ox` loggers (and plugins' loggers) to `stream` (stderr) in format `fmt`.

    Replaces handlers installed by an earlier call, so calling it twice is harmless.
    Returns the handler installed.
    """
    stream = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(stream)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        isatty = getattr(stream, "isatty", None)
        handler.setFormatter(TextFormatter(terminal=bool(isatty and isatty())))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_ox", False)]:
        root.removeHandler(old)
    handler._ox = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return handler
