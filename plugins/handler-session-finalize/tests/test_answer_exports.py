"""What the answer puts in summary.json and summary.md. List items of summary.md were not kept
to one line (the code's own rule, `llm_output.one_line`: "a title or a list item of
summary.md must not start lines of its own"): the notable moments of the answer (role, type,
highlight, why), the paths of the files touched (from the hostile transcript's tool inputs),
and the answer's `files_modified` (a key the prompt never asks for), which was also
unbounded."""

from __future__ import annotations

import json
from pathlib import Path

from ox_handler_session_finalize.export import write_artifacts
from ox_handler_session_finalize.llm_output import parse_summary
from ox_session_capture import records, transcript

from .finalize_support import answer, entries, make_session

NAME = "2026-11-25T11-00-dev-r1"
EVIL = "x\n\n---\n# Injected heading\n<script>alert(1)</script>\n<<<<<<< HEAD\n"
BAD_LINES = {"# Injected heading", "<script>alert(1)</script>", "<<<<<<< HEAD", "---"}


def _summary_md(folder: Path, text: str) -> str:
    parsed = parse_summary(text)
    assert parsed.summary is not None, parsed.error
    parsed.summary.summary_attempts = 1
    write_artifacts(
        folder,
        NAME,
        parsed.summary,
        transcript.read_raw(folder / records.RAW),
        disposition="upload",
    )
    return (folder / "summary.md").read_text()


def test_notable_moments_of_the_answer_stay_one_line(tmp_path: Path) -> None:
    moment = {"seq": 1, "role": "user", "type": EVIL, "highlight": EVIL, "why": EVIL}
    md = _summary_md(make_session(tmp_path, NAME), answer(aha_moments=[moment]))
    assert not BAD_LINES & set(md.splitlines()), md


def test_a_touched_path_from_the_transcript_stays_one_line(tmp_path: Path) -> None:
    lines = entries()
    lines.append(
        {
            "type": "tool",
            "tool_name": "Write",
            "call_id": "w1",
            "tool_input": json.dumps({"file_path": "notes.txt" + EVIL, "content": "x"}),
        }
    )
    md = _summary_md(make_session(tmp_path, NAME, lines), answer())
    assert "## Files touched" in md
    assert not BAD_LINES & set(md.splitlines()), md


def test_a_touched_path_with_a_backtick_stays_inside_its_code_span(tmp_path: Path) -> None:
    lines = entries()
    lines.append(
        {
            "type": "tool",
            "tool_name": "Write",
            "call_id": "w1",
            "tool_input": json.dumps({"file_path": "a` <img src=x onerror=alert(1)> `b"}),
        }
    )
    md = _summary_md(make_session(tmp_path, NAME, lines), answer())
    [item] = [line for line in md.splitlines() if "onerror" in line]
    # A single-backtick span ends at the path's own backtick: the HTML is then live markdown.
    assert item.startswith("- ``"), item


def test_a_brief_sessions_quoted_prompt_stays_one_line() -> None:
    # keep_brief: a brief session is published with its user prompts quoted as key actions
    # (under 80 characters of user text: enough for a heading and a script).
    from ox_handler_session_finalize.export import render_summary_md
    from ox_handler_session_finalize.prompt import brief_summary, is_brief
    from ox_session_capture.records import RawEntry

    entries_ = [
        RawEntry(type="user", content="hi\n# Injected heading\n<script>alert(1)</script>"),
        RawEntry(type="assistant", content="ok"),
    ]
    assert is_brief(entries_)
    md = render_summary_md(NAME, brief_summary(entries_, keep=True), None, 2)
    assert not BAD_LINES & set(md.splitlines()), md


def _write(tmp_path: Path, text: str) -> tuple[dict, str]:
    """summary.json and summary.md of a session whose Edit calls name no file path key."""
    folder = make_session(tmp_path, NAME)
    md = _summary_md(folder, text)
    return json.loads((folder / "summary.json").read_text()), md


INJECTED = "x`\n\n---\n# Injected heading\n<script>alert(1)</script>\n<<<<<<< HEAD\n"


def test_files_modified_from_the_answer_cannot_start_lines_of_summary_md(tmp_path: Path) -> None:
    _, md = _write(tmp_path, answer(files_modified=[INJECTED, "/root/.ssh/id_rsa"]))
    assert "# Injected heading" not in md.splitlines()
    assert "<script>alert(1)</script>" not in md.splitlines()
    assert "<<<<<<< HEAD" not in md.splitlines()


def test_files_modified_from_the_answer_is_bounded(tmp_path: Path) -> None:
    many = ["p" * 4000 + str(i) for i in range(1500)]  # 6 MB: fits a runner's 8 MiB output
    summary, md = _write(tmp_path, answer(files_modified=many))
    assert len(summary["files_modified"]) <= 200  # files_touched's own limit
    assert len(md) < 1_000_000, len(md)
