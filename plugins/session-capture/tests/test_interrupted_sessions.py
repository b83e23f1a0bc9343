"""An interrupted tool, as the real CLIs write it (not a SIGKILL: the person stops the tool and
the session goes on). Recorded against the scripted fake model API, with the real CLIs
installed like the runner tests' ones: claude driven with `--input-format stream-json` and
an `interrupt` control request while its command runs, codex `exec` sent SIGINT while its
command runs and then resumed (also with classic function tools). Each then got one more
prompt and a reply.

Every user, assistant and tool entry of the file is captured once, in order, each result
with its call's tool name; the stopped tool is a failed result (as claude flags it, and as
gemini's `cancelled` status is), and the CLI's own note of the interruption is a system
entry, not words of the person."""

from __future__ import annotations

from pathlib import Path

import pytest

from ox_session_capture.records import RawEntry
from ox_session_capture.testing.recorded import Fixture, record_fixture, transcript

DATA = Path(__file__).parent / "data" / "sessions"
Row = tuple[str, str | None, bool | None, str]


def interrupted(cli: str, version: str, scenario: str = "interrupt") -> Fixture:
    return Fixture(cli, version, scenario, DATA / f"{cli}-{version}-{scenario}.jsonl.gz")


def rows(entries: list[RawEntry]) -> list[Row]:
    """(kind, tool name, failed, the start of its text) of each entry."""
    out: list[Row] = []
    for e in entries:
        if e.type != "tool":
            out.append((e.type, None, None, e.content[:42]))
        elif e.tool_input is not None:
            out.append(("call", e.tool_name, None, ""))
        else:
            out.append(("result", e.tool_name, e.is_error, (e.tool_output or "")[:20]))
    return out


AFTER = [("user", None, None, "Now run it again, quickly."),
         ("assistant", None, None, "Stopped as you asked.")]  # fmt: skip

EXPECTED: dict[str, list[Row]] = {
    "claude": [
        ("user", None, None, "Run the long job."),
        ("call", "Bash", None, ""),
        ("result", "Bash", True, "The user doesn't wan"),
        ("system", None, None, "[Request interrupted by user for tool use]"),
        *AFTER,
    ],
    "codex": [
        ("system", None, None, "<environment_context>\n  <cwd>/tmp/ox-rec/w"),
        ("user", None, None, "Run the long job."),
        ("call", "exec", None, ""),
        ("result", "exec", True, "aborted by user afte"),
        *AFTER,
    ],
    # With classic function tools the stopped command's output has its wall time first, and
    # codex tells the model in a `<turn_aborted>` message of its own.
    "codex/interrupt-classic": [
        ("system", None, None, "<environment_context>\n  <cwd>/tmp/ox-rec/w"),
        ("user", None, None, "Run the long job."),
        ("call", "exec_command", None, ""),
        ("result", "exec_command", True, "Wall time: 1.1 secon"),
        ("system", None, None, "<turn_aborted>\nThe user interrupted the pr"),
        *AFTER,
    ],
}


@pytest.mark.parametrize(
    "fixture",
    [
        interrupted("claude", "2.1.330"),
        interrupted("claude", "2.1.226"),
        interrupted("codex", "0.169.0"),
        interrupted("codex", "0.147.0"),
        interrupted("codex", "0.169.0", "interrupt-classic"),
    ],
    ids=lambda f: f.id,
)
def test_an_interrupted_tool_is_a_failed_result_and_the_cli_note_is_system(
    fixture: Fixture, ledger: Path, home: Path
) -> None:
    entries = transcript(record_fixture(ledger, home, fixture)).entries
    assert rows(entries) == EXPECTED.get(f"{fixture.cli}/{fixture.scenario}", EXPECTED[fixture.cli])
    (call,) = [e for e in entries if e.tool_input is not None]
    (result,) = [e for e in entries if e.tool_output is not None]
    assert result.call_id == call.call_id
    assert "sleep 60" in (call.tool_input or "")


def test_only_the_whole_interruption_note_is_the_cli_s() -> None:
    from ox_session_capture.adapters import load_adapter
    from ox_session_capture.testing import claude_user

    claude = load_adapter("claude-code")
    lines = [
        claude_user("u1", "[Request interrupted by user]"),  # stopped while the model wrote
        claude_user("u2", [{"type": "text", "text": "[Request interrupted by user]"}]),
        claude_user("u3", "[Request interrupted by user] and then I said: go on"),
    ]
    out = [e for line in lines for e in claude.parse_line(line.rstrip(b"\n"))]
    assert [e.type for e in out] == ["system", "system", "user"]
