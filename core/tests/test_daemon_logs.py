"""Log lines: readable text for a person, one JSON object a line with `--log-format json`."""

from __future__ import annotations

import io
import json
import logging

from ox_core.logs import setup_logging


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_json_lines_carry_extras_and_tracebacks() -> None:
    out = io.StringIO()
    setup_logging("json", "INFO", out)
    log = logging.getLogger("ox_core.test")
    log.info("session %s queued", "s1", extra={"session": "s1"})
    log.debug("not shown at INFO")
    try:
        raise ValueError("bad input")
    except ValueError:
        log.exception("it failed")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 2
    assert lines[0]["msg"] == "session s1 queued"
    assert lines[0]["level"] == "info"
    assert lines[0]["logger"] == "ox_core.test"
    assert lines[0]["session"] == "s1"
    assert lines[0]["ts"].endswith("+00:00")
    assert lines[1]["level"] == "error"
    assert "ValueError: bad input" in lines[1]["exc"]


def test_text_lines_short_on_a_terminal_full_in_a_file() -> None:
    tty = Tty()
    setup_logging("text", "INFO", tty)
    logging.getLogger("ox_core.daemon").warning("no usable agent")
    line = tty.getvalue().strip()
    assert line.endswith("WARNING no usable agent")
    assert len(line.split()[0]) == len("12:00:00")

    plain = io.StringIO()
    setup_logging("text", "INFO", plain)  # replaces the first handler
    logging.getLogger("ox_core.daemon").warning("again")
    assert tty.getvalue().count("\n") == 1
    assert "WARNING ox_core.daemon: again" in plain.getvalue()


FORGED = "x.jsonl\n2026-12-03T10:00:00+0000 INFO    ox_core.daemon: all sessions published"


def test_a_hostile_value_cannot_forge_a_text_line_or_drive_the_terminal() -> None:
    # A session file's name, a remote's message or an agent's output logged as a value:
    # every line a reader sees at column 0 is one the daemon wrote, and no escape reaches
    # the terminal.
    for stream in (Tty(), io.StringIO()):
        setup_logging("text", "INFO", stream)
        log = logging.getLogger("ox_core.daemon")
        log.warning("source %s; re-reading it", FORGED + "\x1b]52;c;ZXZpbA==\x07\r")
        try:
            raise ValueError(FORGED)
        except ValueError:
            log.exception("step failed")
        lines = stream.getvalue().splitlines()
        starts = [line for line in lines if not line.startswith(" ")]
        assert len(starts) == 2, lines
        assert starts[0].endswith("source x.jsonl")
        assert starts[1].endswith("step failed")
        assert lines[1].startswith(" ")
        assert "all sessions published" in lines[1]
        assert lines[1].endswith("\\x1b]52;c;ZXZpbA==\\x07\\r; re-reading it")
        assert not any(c in stream.getvalue() for c in "\x1b\x07\r")
        assert any("ValueError: x.jsonl" in line for line in lines)  # the traceback is kept
