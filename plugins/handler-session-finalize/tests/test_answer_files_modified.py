"""the answer's `files_modified` (a key the prompt never asks for) reaches
summary.json / summary.md unbounded and multi-line when no tool input names a file."""

from __future__ import annotations

import json
from pathlib import Path

from ox_handler_session_finalize.export import write_artifacts
from ox_handler_session_finalize.llm_output import parse_summary
from ox_session_capture import records, transcript

from .finalize_support import answer, make_session

NAME = "2026-11-25T11-00-dev-r1"
INJECTED = "x`\n\n---\n# Injected heading\n<script>alert(1)</script>\n<<<<<<< HEAD\n"


def _write(tmp_path: Path, text: str) -> tuple[dict, str]:
    folder = make_session(tmp_path, NAME)  # its Edit calls name no file path key
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
    return (json.loads((folder / "summary.json").read_text()), (folder / "summary.md").read_text())


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
