"""The adapters on session files the real CLIs wrote, two versions of each (recorded by
`scripts/record-sessions` against the scripted fake model API; see `data/recorded/`).

Each file goes through a real recording (the tail, the journal, redaction) and the entries
in `raw.jsonl` must equal a list written by hand from the scenario's script: what the person
typed, what the model answered, every tool call in order and every result with its failure
flag. No secret of the prompt, a tool input or a tool output may reach `raw.jsonl`.
"""

from __future__ import annotations

import gzip
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ox_session_capture.adapters import load_adapter
from ox_session_capture.raw_lines import UNKNOWN_KEY
from ox_session_capture.recording import create_recording, stop_recording
from ox_session_capture.records import RAW, RawEntry, read_marker
from ox_session_capture.tail import SourceTail
from ox_session_capture.testing.recorded import (
    SECRETS,
    Fixture,
    fixtures,
    record_fixture,
    session_path,
    transcript,
)

FIXTURES = fixtures()
Row = tuple[str, str | None, bool | None]

# ---------------------------------------------------------------- the expected entries

U: Row = ("user", None, None)
A: Row = ("assistant", None, None)
S: Row = ("system", None, None)


def call(name: str) -> Row:
    return ("call", name, None)


def ok(name: str) -> Row:
    return ("result", name, False)


def failed(name: str) -> Row:
    return ("result", name, True)


def step(name: str, *, fails: bool = False) -> list[Row]:
    return [call(name), failed(name) if fails else ok(name)]


def tools_session(write: str, shell: str, edit: str, *, preamble: bool) -> list[Row]:
    """The `tools` scenario: prompt; write a file; a command that fails; a command with
    secrets; an edit; the long unicode reply; then the resume: prompt, a command, reply."""
    return [
        *([S] if preamble else []),
        U,
        *step(write),
        *step(shell, fails=True),
        *step(shell),
        *step(edit),
        A,
        U,
        *step(shell),
        A,
    ]


EXPECTED: dict[str, list[Row]] = {
    "claude/tools": tools_session("Write", "Bash", "Edit", preamble=False),
    "claude/kill": [U, call("Bash")],
    # Code mode: every call goes through the JavaScript `exec` tool (a patch too).
    "codex/tools": tools_session("exec", "exec", "exec", preamble=True),
    "codex/kill": [S, U, call("exec")],
    # Classic tools, no resume; this model gets no patch tool, so it edits with the shell.
    "codex/classic": [
        S,
        U,
        *step("exec_command"),
        *step("exec_command", fails=True),
        *step("exec_command"),
        *step("exec_command"),
        A,
    ],
    "gemini/tools": tools_session("write_file", "run_shell_command", "replace", preamble=True),
    # gemini writes a tool call only once it has finished: a kill mid-tool leaves none.
    "gemini/kill": [S, U],
    # Four identical calls, then the CLI's own loop warning (a system entry, not the user's).
    "gemini/loop": [S, U, *step("run_shell_command") * 4, S],
}


def rows(entries: list[RawEntry]) -> list[Row]:
    out: list[Row] = []
    for e in entries:
        if e.type != "tool":
            out.append((e.type, None, None))
        elif e.tool_input is not None:
            out.append(("call", e.tool_name, None))
        else:
            out.append(("result", e.tool_name, e.is_error))
    return out


def counts(table: list[Row]) -> dict[str, int]:
    found: dict[str, int] = {}
    for kind, _, _ in table:
        found[kind] = found.get(kind, 0) + 1
    return found


def test_every_cli_has_two_versions_and_every_scenario() -> None:
    seen: dict[str, set[str]] = {}
    for f in FIXTURES:
        seen.setdefault(f.cli, set()).add(f.version)
        assert f"{f.cli}/{f.scenario}" in EXPECTED, f.path
    assert {cli: len(v) for cli, v in seen.items()} == {"claude": 2, "codex": 2, "gemini": 2}
    for key in EXPECTED:
        cli, scenario = key.split("/")
        assert len([f for f in FIXTURES if (f.cli, f.scenario) == (cli, scenario)]) == 2, key
    assert sum(f.path.stat().st_size for f in FIXTURES) < 400_000


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.id)
def test_recorded_session_gives_the_expected_entries_and_no_secret(
    fixture: Fixture, ledger: Path, home: Path
) -> None:
    session_dir = record_fixture(ledger, home, fixture)
    entries = transcript(session_dir).entries
    expected = EXPECTED[f"{fixture.cli}/{fixture.scenario}"]
    assert counts(rows(entries)) == counts(expected)
    assert rows(entries) == expected
    # Every result is joined to its call; failures carry their exit code.
    calls = {e.call_id: e.tool_name for e in entries if e.type == "tool" and e.tool_input}
    for e in entries:
        if e.type == "tool" and e.tool_input is None:
            assert calls[e.call_id] == e.tool_name
            assert e.content == ""
    raw = (session_dir / RAW).read_bytes()
    for secret in SECRETS:
        assert secret.encode() not in raw
    marker = read_marker(session_dir)
    assert (marker.model_extra or {}).get(UNKNOWN_KEY) is None


def _tools(cli: str) -> list[Fixture]:
    return [f for f in FIXTURES if (f.cli, f.scenario) == (cli, "tools")]


# How each CLI reports the failing command of the `tools` scenario (`ls no-such-dir`, exit 2):
# claude flags it (`is_error`); codex in code mode returns a *list* of `input_text` items that
# begins "Script failed"; gemini calls it a success with "Exit Code: 2" in the text.
FAILURES = {
    "claude": ("Bash", "Exit code 2"),
    "codex": ("exec", "Script failed"),
    "gemini": ("run_shell_command", "Exit Code: 2"),
}


@pytest.mark.parametrize(
    "fixture", [f for f in FIXTURES if f.scenario == "tools"], ids=lambda f: f.id
)
def test_the_failed_command_is_kept_flagged_and_joined_to_its_call(
    fixture: Fixture, ledger: Path, home: Path
) -> None:
    entries = transcript(record_fixture(ledger, home, fixture)).entries
    (bad,) = [e for e in entries if e.is_error]
    name, marker = FAILURES[fixture.cli]
    assert (bad.tool_name, bad.exit_code) == (name, 2)
    assert marker in (bad.tool_output or "")
    assert "no-such-dir" in (bad.tool_output or "")
    (its_call,) = [e for e in entries if e.tool_input is not None and e.call_id == bad.call_id]
    assert "no-such-dir" in (its_call.tool_input or "")


@pytest.mark.parametrize("fixture", _tools("gemini"), ids=lambda f: f.id)
def test_gemini_recording_started_at_the_resume_captures_only_the_resumed_turn(
    fixture: Fixture, ledger: Path, home: Path
) -> None:
    data = fixture.data()
    # The resume re-lists the whole conversation in one `$set` of `messages`.
    resume = data.rfind(b'{"$set":{"messages"', 0, data.find(b"Show me notes.txt"))
    assert resume > data.find(b"deploy key")
    entries = transcript(record_fixture(ledger, home, fixture, start=resume)).entries
    assert rows(entries) == [S, U, *step("run_shell_command"), A]
    assert entries[0].content.startswith("<session_context>")
    assert entries[1].content == "Show me notes.txt once more."


@pytest.mark.parametrize(
    "fixture", [f for f in FIXTURES if f.scenario == "loop"], ids=lambda f: f.id
)
def test_gemini_loop_warning_is_a_system_entry(fixture: Fixture, ledger: Path, home: Path) -> None:
    entries = transcript(record_fixture(ledger, home, fixture)).entries
    users = [e.content for e in entries if e.type == "user"]
    assert users == ["Poll the job status."]
    assert entries[-1].type == "system"
    assert entries[-1].content.startswith("System: Potential loop detected")


def test_an_unknown_line_type_in_a_real_file_is_counted_not_lost(
    ledger: Path, home: Path, tmp_path: Path
) -> None:
    (fixture,) = [f for f in _tools("claude") if f.version == "2.1.330"]
    lines = fixture.data().splitlines(keepends=True)
    # A new line type, shaped like its neighbours, from a future version of the CLI.
    novel = b'{"type":"agent-memo","sessionId":"81415769","memo":"remember the deploy"}\n'
    changed = tmp_path / "changed.jsonl.gz"
    changed.write_bytes(gzip.compress(b"".join([*lines[:10], novel, novel, *lines[10:]])))
    session_dir = record_fixture(ledger, home, Fixture("claude", "next", "tools", changed))
    assert rows(transcript(session_dir).entries) == EXPECTED["claude/tools"]
    assert (read_marker(session_dir).model_extra or {})[UNKNOWN_KEY] == {"agent-memo": 2}
    stop_recording(session_dir)
    footer = transcript(session_dir).footer
    assert footer is not None
    assert (footer.model_extra or {})[UNKNOWN_KEY] == {"agent-memo": 2}


# ---------------------------------------------------------------- chunked replay


def _entries_by_chunks(fixture: Fixture, cuts: list[int]) -> list[dict[str, object]]:
    data = fixture.data()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        source = session_path(home, fixture)
        source.write_bytes(b"")
        (Path(tmp) / "ledger").mkdir()
        rec = create_recording(
            Path(tmp) / "ledger", fixture.adapter, source, pid=os.getpid(), home=home
        )
        tail = SourceTail(rec.session_dir, load_adapter(fixture.adapter), source)
        tail.resume()
        last = 0
        for cut in [*sorted(cuts), len(data)]:
            with source.open("ab") as f:
                f.write(data[last:cut])
            last = max(last, cut)
            tail.step()
        while tail.step().progressed:
            pass
        return [e.model_dump() for e in transcript(rec.session_dir).entries]


_ONE_SHOT: dict[str, list[dict[str, object]]] = {}


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.id)
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_replay_in_random_chunks_equals_one_shot_read(
    fixture: Fixture, data: st.DataObject
) -> None:
    size = len(fixture.data())
    cuts = data.draw(st.lists(st.integers(0, size), max_size=12), label="cuts")
    if fixture.id not in _ONE_SHOT:
        _ONE_SHOT[fixture.id] = _entries_by_chunks(fixture, [])
    assert _entries_by_chunks(fixture, cuts) == _ONE_SHOT[fixture.id]


# ---------------------------------------------------------------- the recording script

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_the_recording_script_drives_the_real_cli(ledger: Path, home: Path, tmp_path: Path) -> None:
    """`scripts/record-sessions` against the pinned claude (its shortest scenario): the
    scripted fake API makes the real CLI call a tool, which runs until the script kills the
    CLI; the file it wrote gives the expected entries."""
    import runpy

    from ox_core.testing_npm import npm_cli, read_pin

    pin = read_pin(ROOT / "plugins/runner-claude/tests/real-cli.json")
    binary = npm_cli(pin)
    script = runpy.run_path(str(ROOT / "scripts/record-sessions"), run_name="record_sessions")
    script["record"]("claude", pin.version, "kill", binary, tmp_path)
    fixture = Fixture("claude", pin.version, "kill", tmp_path / "kill.jsonl.gz")
    entries = transcript(record_fixture(ledger, home, fixture)).entries
    assert rows(entries) == EXPECTED["claude/kill"]
    assert "sleep 120" in (entries[-1].tool_input or "")
