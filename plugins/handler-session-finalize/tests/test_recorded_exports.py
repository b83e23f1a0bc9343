"""`session.md`, `summary.md` and the summary prompt of sessions the real CLIs wrote (the
recorded fixtures of the session-capture tests, two versions of each CLI), recorded through
the real tail and stopped: the model, the files touched, every tool call once, and no secret
of the prompt, a tool input or a tool output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ox_handler_session_finalize.export import write_artifacts
from ox_handler_session_finalize.llm_output import parse_summary
from ox_handler_session_finalize.prompt import build_summary_prompt
from ox_handler_session_finalize.steps import steps
from ox_session_capture.recording import stop_recording
from ox_session_capture.records import SESSION_MD, SUMMARY_JSON, SUMMARY_MD
from ox_session_capture.testing.recorded import SECRETS, Fixture, fixtures, record_fixture
from ox_session_capture.transcript import read_raw

FIXTURES = fixtures()

# The model each CLI wrote in its session file (its default model in these recordings).
MODELS = {
    ("claude", "2.1.330"): "claude-opus-5-5",
    ("claude", "2.1.226"): "claude-opus-5",
    ("codex", "0.169.0"): "gpt-6.1-sol",
    ("codex", "0.147.0"): "gpt-5.6-sol",
    ("gemini", "0.61.0"): "gemini-3.8-flash",
    ("gemini", "0.55.1"): "gemini-3.5-flash",
}
# The `tools` scenario writes notes.txt and edits it (Write/Edit, apply_patch inside codex's
# exec, write_file/replace); the classic codex run edits through the shell: nothing to derive.
TOUCHED = {"tools": ["notes.txt"], "classic": [], "kill": [], "loop": []}


def answer(step_count: int) -> str:
    return json.dumps(
        {
            "title": "Set up notes and check a deploy key",
            "summary": "The user had notes.txt created and edited and a key checked; one "
            "command failed because a folder was missing.",
            "agent_summary": "notes.txt starts with beta; the deploy check is not done.",
            "chapter_titles": ["Setting up notes", "  ", "Checking the key"],
            "aha_moments": [
                {"seq": 2, "role": "tool", "type": "insight", "highlight": "the folder is "
                 "missing", "why": "explains the failure"},
                {"seq": step_count + 5, "role": "user", "highlight": "out of range"},
            ],
            "key_actions": ["Wrote notes.txt", "Edited notes.txt"],
            "outcome": "partial",
            "topics_found": ["notes"],
            "files_modified": ["made-up.txt"],
            "quality_category": "share",
            "quality_score": 0.6,
            "score_reason": "A small but complete task.",
        }
    )  # fmt: skip


def model_of(fixture: Fixture) -> str:
    if fixture.scenario == "classic":
        return "gpt-5-codex"  # asked for on the command line
    return MODELS[(fixture.cli, fixture.version)]


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.id)
def test_exports_of_a_recorded_session(fixture: Fixture, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    session_dir = record_fixture(tmp_path / "ledger", home, fixture)
    stop_recording(session_dir)
    transcript = read_raw(session_dir / "raw.jsonl")
    entries = transcript.entries
    shown = steps(entries)
    calls = [e for e in entries if e.type == "tool" and e.tool_input is not None]

    prompt = build_summary_prompt(entries, session_name="s")
    parsed = parse_summary(answer(len(shown)), steps=len(shown))
    assert parsed.summary is not None, parsed.error
    write_artifacts(session_dir, "s", parsed.summary, transcript, disposition="upload")
    session_md = (session_dir / SESSION_MD).read_text()
    summary_md = (session_dir / SUMMARY_MD).read_text()
    summary = json.loads((session_dir / SUMMARY_JSON).read_text())

    for secret in SECRETS:
        for text in (prompt, session_md, summary_md):
            assert secret not in text
    model = model_of(fixture)
    assert f"| Model | {model} |" in session_md
    assert f"- **Model:** {model}" in summary_md
    touched = TOUCHED[fixture.scenario]
    assert summary["files_modified"] == (touched or ["made-up.txt"])
    if touched:
        assert f"| Files touched | {', '.join(touched)} |" in session_md
        assert "## Files touched\n\n- `notes.txt`\n" in summary_md
    # Every tool call is one section, named once, with its result inside it.
    headings = re.findall(r"^### \d+\. tool: (.+?)(?: · .*)?$", session_md, re.M)
    assert headings == [c.tool_name for c in calls]
    assert session_md.count("\n### ") == len(shown)
    results = [s.result for s in shown if s.result is not None]
    assert session_md.count("Output (failed") == sum(1 for r in results if r.is_error)
    for call in calls:
        section = session_md.split(f"tool: {call.tool_name}", 1)[1].split("\n### ", 1)[0]
        assert f"\n{call.tool_name}\n" not in section  # no trailing repeat of the name
    # The prompt shows the same steps, numbered alike, and the files touched.
    assert prompt.count("<entry seq=") == len(shown)
    assert "<files_touched>\n" + "".join(f"{t}\n" for t in touched) + "</files_touched>" in prompt
    # Chapters and notable moments: blanks and moments outside the transcript dropped.
    assert "## Chapters\n\n1. Setting up notes\n2. Checking the key\n" in summary_md
    assert "## Notable moments\n\n- #2 tool (insight): “the folder is missing”" in summary_md
    assert "out of range" not in summary_md
    assert "## For the next agent" in summary_md


@pytest.mark.parametrize(
    "fixture", [f for f in FIXTURES if f.scenario == "kill"], ids=lambda f: f.id
)
def test_a_recording_caught_up_without_a_footer_still_shows_its_model(
    fixture: Fixture, tmp_path: Path
) -> None:
    # The agent was killed: the recording is caught up as a stale one, never stopped, so its
    # raw file has no footer; the marker noted the model.
    home = tmp_path / "home"
    home.mkdir()
    session_dir = record_fixture(tmp_path / "ledger", home, fixture)
    transcript = read_raw(session_dir / "raw.jsonl")
    assert transcript.footer is None
    summary = parse_summary(answer(3), steps=3).summary
    assert summary is not None
    write_artifacts(session_dir, "s", summary, transcript, disposition="upload")
    assert f"| Model | {model_of(fixture)} |" in (session_dir / SESSION_MD).read_text()
    meta = json.loads((session_dir / "meta.json").read_text())
    assert meta["model"] == model_of(fixture)


def test_each_file_is_redacted_once_and_again_only_when_it_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`write_artifacts` redacts each file once, as it is uploaded; `upload_files` reuses that
    while the file holds the same bytes, and redacts a file changed since (or one it never
    saw) again."""
    from ox_handler_session_finalize import export

    fixture = next(f for f in FIXTURES if f.scenario == "tools")
    home = tmp_path / "home"
    home.mkdir()
    session_dir = record_fixture(tmp_path / "ledger", home, fixture)
    stop_recording(session_dir)
    transcript = read_raw(session_dir / "raw.jsonl")
    summary = parse_summary(answer(3), steps=3).summary
    assert summary is not None
    calls: list[str] = []
    real = export.redact_file_bytes

    def counted(name: str, data: bytes, rules: object = ()) -> bytes:
        calls.append(name)
        return real(name, data, rules)  # type: ignore[arg-type]

    monkeypatch.setattr(export, "redact_file_bytes", counted)
    redacted = export.Redacted()
    meta = write_artifacts(
        session_dir, "s", summary, transcript, disposition="upload", redacted=redacted
    )
    assert sorted(calls) == [SESSION_MD, SUMMARY_JSON, SUMMARY_MD]
    calls.clear()
    files = export.upload_files(session_dir, (), redacted)
    assert sorted(calls) == ["meta.json"]  # the only file write_artifacts did not redact
    for name in (SESSION_MD, SUMMARY_JSON, SUMMARY_MD, "raw.jsonl"):
        assert meta.files[name]["size"] == len(files[name])
    assert files == export.upload_files(session_dir)  # same bytes as redacting them all anew

    # A file changed after write_artifacts (here: a secret appended) is redacted again.
    calls.clear()
    leaked = "\n\nexport AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
    with open(session_dir / SESSION_MD, "a") as f:
        f.write(leaked)
    again = export.upload_files(session_dir, (), redacted)
    assert SESSION_MD in calls
    assert "wJalrXUtnFEMI" not in again[SESSION_MD].decode()
