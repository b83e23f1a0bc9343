"""A hostile answer to the summary prompt (the transcript it summarises may hold a prompt
injection, so the answer may be anything the model can print), taken through the real handler,
a real ledger and a real bare remote: what reaches the remote must be valid, redacted, inside
the session's folder, and the session must never be lost or retried for ever."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ox_core import RunResult
from ox_handler_session_finalize.export import write_artifacts
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_handler_session_finalize.llm_output import parse_summary
from ox_session_capture import records, transcript

from .finalize_support import answer, clone, finalize_one, git, make_session

NAME = "2026-11-25T11-00-dev-r1"
GITHUB_TOKEN = "ghp_" + "Zq7" * 12
AWS_KEY = "AKIA" + "QX7R2M9KPL4TZ8WN"


def _no_constants(name: str) -> Any:
    raise AssertionError(f"{name} in an exported JSON file")


def strict_json(data: bytes) -> Any:
    """`data` decoded as JSON that any parser reads: UTF-8, no NaN or Infinity."""
    return json.loads(data.decode("utf-8"), parse_constant=_no_constants)


async def publish(handler: SessionFinalizeHandler, ledger: Path, output: str) -> str:
    make_session(records.ledger_cache_sessions(ledger), NAME)
    outcome = await finalize_one(handler, ledger, output)
    return outcome.kind


def published(remote: Path, tmp_path: Path, tag: str = "check") -> dict[str, bytes]:
    """The files of every path the remote's branch holds, checked out in a fresh clone."""
    check = clone(remote, tmp_path / tag)
    paths = git(check, "ls-files", "-z").split("\0")
    return {p: (check / p).read_bytes() for p in paths if p}


def session_files(files: dict[str, bytes]) -> dict[str, bytes]:
    prefix = f"sessions/{NAME}/"
    return {p[len(prefix) :]: data for p, data in files.items() if p.startswith(prefix)}


def assert_valid_exports(files: dict[str, bytes]) -> dict[str, Any]:
    """The session's JSON files parse strictly, its markdown is UTF-8; the summary."""
    ours = session_files(files)
    assert {"summary.json", "summary.md", "session.md", "meta.json", "raw.jsonl"} <= set(ours)
    strict_json(ours["meta.json"])
    ours["summary.md"].decode("utf-8")
    ours["session.md"].decode("utf-8")
    summary: dict[str, Any] = strict_json(ours["summary.json"])
    return summary


def tree(root: Path) -> dict[Path, bytes]:
    """Every regular file under `root`, with its bytes."""
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and not p.is_symlink()}


def deep(n: int) -> str:
    return "[" * n + "]" * n


# ------------------------------------------------------------------ values JSON allows


async def test_unknown_keys_nested_deep_in_the_answer_are_left_out(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # Nesting the JSON decoder accepts but a recursive walk of it does not: the export's
    # redaction must not fail on it (that would fail this session on every scan).
    text = answer()[:-1] + f', "x": {deep(900)}, "aha_moments": [{{"seq": 1, '
    text += f'"highlight": "found it", "y": {deep(900)}}}]}}'
    assert json.loads(text)["x"]
    assert await publish(handler, ledger, text) == "published"
    summary = assert_valid_exports(published(remote, tmp_path))
    assert "x" not in summary
    assert [set(m) for m in summary["aha_moments"]] == [{"seq", "role", "type", "highlight", "why"}]
    assert await handler.detect(ledger) == []


@pytest.mark.parametrize("score", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
async def test_a_score_that_is_not_a_finite_number_is_rejected(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path, score: str
) -> None:
    text = answer().replace('"quality_score": 0.8', f'"quality_score": {score}')
    assert score in text
    assert await publish(handler, ledger, text) == "published without summary"
    summary = assert_valid_exports(published(remote, tmp_path))
    assert summary["validation_error"] == "quality_score outside 0–1"
    assert summary["quality_score"] is None


async def test_a_lone_surrogate_in_the_answer_is_replaced(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # `\ud800` is valid JSON and decodes to a code point UTF-8 cannot hold.
    text = answer(title="Fix the parser XX", summary="A summary of the session XX here.")
    text = text.replace("XX", "\\ud800", 1).replace("XX", "\\udfff x \\ud83d\\ude00")
    assert await publish(handler, ledger, text) == "published"
    summary = assert_valid_exports(published(remote, tmp_path))
    assert summary["title"] == "Fix the parser \ufffd"
    assert summary["summary"] == "A summary of the session \ufffd x \U0001f600 here."


async def test_a_title_stays_one_line_without_control_characters(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # Newlines would end the `# title` heading of summary.md (the rest becomes a YAML-ish
    # `---` block, a closed fence, headings of the agent's choice); escapes would drive the
    # terminal of whoever reads the title.
    title = (
        "Fix it\n---\nlayout: evil\n---\n```\n# Injected\x1b]0;pwned\x07\x1b[2J\x00\x9b1m\r\tend"
    )
    body = "Line one of the summary.\nLine two\x1b[31m red\x00 and\ta tab, long enough."
    text = answer(title=title, summary=body, chapter_titles=["One\nTwo\x1b[1m"])
    assert await publish(handler, ledger, text) == "published"
    files = published(remote, tmp_path)
    summary = assert_valid_exports(files)
    assert summary["title"] == "Fix it --- layout: evil --- ``` # Injected]0;pwned[2J1m end"
    assert (
        summary["summary"] == "Line one of the summary.\nLine two[31m red and\ta tab, long enough."
    )
    assert summary["chapter_titles"] == ["One Two[1m"]
    md = session_files(files)["summary.md"].decode()
    # The title's own markup is escaped there (test_summary_md_markup.py).
    assert (
        md.splitlines()[0] == r"# Fix it --- layout: evil --- \`\`\` # Injected\]0;pwned\[2J1m end"
    )
    for data in session_files(files).values():
        assert not any(b in data for b in (b"\x1b", b"\x00", b"\x07", "\x9b".encode()))
    meta = strict_json(session_files(files)["meta.json"])
    assert meta["title"] == summary["title"]


# ------------------------------------------------------------------ where it may go


async def test_secrets_in_every_field_of_the_answer_never_reach_the_remote(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    secret = f"{GITHUB_TOKEN} and {AWS_KEY}"
    text = answer(
        title=f"Leak {GITHUB_TOKEN}",
        summary=f"The session used {secret} to deploy the service.",
        agent_summary=f"Next: reuse {secret}.",
        chapter_titles=[f"Deploy with {AWS_KEY}"],
        aha_moments=[
            {"seq": 1, "role": secret, "type": secret, "highlight": secret, "why": secret}
        ],
        key_actions=[f"Exported {secret}"],
        topics_found=[secret],
        score_reason=f"It holds {secret}.",
    )
    text = text[:-1] + f', "api_token": "{GITHUB_TOKEN}", "extra": ["{AWS_KEY}"]}}'
    assert await publish(handler, ledger, text) == "published"
    files = published(remote, tmp_path)
    summary = assert_valid_exports(files)
    assert summary["title"] == "Leak [REDACTED_GITHUB_TOKEN]"
    history = git(remote, "log", "-p", "--all", "--format=%B")
    for blob in [*files.values(), history.encode()]:
        assert GITHUB_TOKEN.encode() not in blob
        assert AWS_KEY.encode() not in blob
    # Nor in the session's cache copy, nor anywhere else in the ledger's work tree.
    for path, data in tree(ledger).items():
        if ".git" not in path.parts:
            assert GITHUB_TOKEN.encode() not in data, path


async def test_an_answer_that_names_paths_and_trailers_writes_only_its_session(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    injected = "\n\nSigned-off-by: Mallory <m@evil>\nCo-authored-by: Eve <e@evil>\n"
    text = answer(
        title="../../../../x/../.git/config",
        summary=f"finalize session other{injected}[skip ci]\n---\nsessions/other/raw.jsonl",
        key_actions=[injected, "../../escape"],
        files_modified=["../../outside.txt", "/etc/passwd"],
        topics_found=["sessions/victim/summary.json"],
    )
    before = set(tree(tmp_path))
    assert await publish(handler, ledger, text) == "published"
    files = published(remote, tmp_path)
    assert_valid_exports(files)
    assert {p for p in files if p != ".gitignore"} == {
        f"sessions/{NAME}/{f}"
        for f in ("summary.json", "summary.md", "session.md", "meta.json", "raw.jsonl")
    }
    assert git(remote, "log", "-1", "--format=%B").strip() == f"finalize session {NAME}"
    assert git(remote, "log", "-1", "--format=%(trailers)").strip() == ""
    created = set(tree(tmp_path)) - before
    outside = [p for p in created if not p.is_relative_to(ledger) and "check" not in p.parts]
    assert not [p for p in outside if "remote.git" not in p.parts], outside


# ------------------------------------------------------------------ shapes of answers


@pytest.mark.parametrize(
    ("shape", "kind"),
    [
        # Two objects: neither is "the" answer, so neither is taken.
        (lambda a: a + "\n" + a.replace("Refactor", "Other"), "published without summary"),
        (lambda a: f'```json\n{a}\n```\n```json\n{{"title": 1}}\n```', "published"),
        (lambda a: f"```json\n{a}\n```\n}} trailing junk {{ ``` ", "published"),
        (lambda a: f"```json\n{a}", "published without summary"),  # unclosed fence
        (lambda a: "\ufeff" + a, "published without summary"),
        (lambda a: "", "published without summary"),
        (lambda a: json.dumps(a), "published without summary"),  # a JSON string holding it
    ],
)
async def test_answers_of_odd_shapes_are_published_with_or_without_a_summary(
    handler: SessionFinalizeHandler,
    ledger: Path,
    remote: Path,
    tmp_path: Path,
    shape: Any,
    kind: str,
) -> None:
    assert await publish(handler, ledger, shape(answer())) == kind
    summary = assert_valid_exports(published(remote, tmp_path))
    assert summary["summary_attempts"] == 1
    if kind == "published":
        assert summary["title"] == json.loads(answer())["title"]


async def test_the_answer_cannot_set_its_own_status_or_attempts(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    text = answer(
        summary_status="unrecoverable", validation_error="forged", summary_attempts=10**40
    )
    assert await publish(handler, ledger, text) == "published"
    summary = assert_valid_exports(published(remote, tmp_path))
    assert (summary["summary_status"], summary["summary_attempts"]) == ("ok", 1)
    assert summary["validation_error"] is None


async def test_a_huge_answer_is_bounded_or_rejected_never_fatal(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # As much as a runner passes on (its output cap is 8 MiB).
    text = answer(summary="word " * 1_500_000, key_actions=["act"] * 100_000)
    kind = await publish(handler, ledger, text)
    assert kind in ("published", "published without summary")
    assert_valid_exports(published(remote, tmp_path))
    assert await handler.detect(ledger) == []


async def test_a_failed_run_that_printed_a_secret_keeps_it_out_of_the_remote(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path
) -> None:
    make_session(records.ledger_cache_sessions(ledger), NAME)
    [item] = await handler.detect(ledger)
    with pytest.raises(Exception, match="summary of"):
        await handler.process_result(
            item, RunResult(exit_code=1, error=f"claude reported an error: {GITHUB_TOKEN}")
        )
    assert GITHUB_TOKEN not in git(remote, "log", "-p", "--all")


# ------------------------------------------------------------------ any answer at all

_ANY_CHAR = st.characters(codec=None, exclude_categories=())
_HOSTILE_TEXT = st.text(_ANY_CHAR, max_size=60) | st.sampled_from(
    ["\ud800", "\x1b[2J", "\n---\n", "```", "\x00", GITHUB_TOKEN, "../../x", "\u2028"]
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    title=_HOSTILE_TEXT,
    summary=_HOSTILE_TEXT,
    extra=st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | _HOSTILE_TEXT,
        lambda c: st.lists(c, max_size=3) | st.dictionaries(_HOSTILE_TEXT, c, max_size=3),
        max_leaves=12,
    ),
)
def test_any_decoded_answer_is_written_as_valid_redacted_files(
    tmp_path_factory: pytest.TempPathFactory, title: str, summary: str, extra: Any
) -> None:
    data = json.loads(answer())
    data.update(title="Title " + title, summary="A summary long enough " + summary, extra=extra)
    data["key_actions"] = [summary or "act", title or "act"]
    parsed = parse_summary(json.dumps(data, allow_nan=True))
    if parsed.summary is None:
        return
    s = parsed.summary
    assert "\n" not in s.title
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in s.title)
    folder = make_session(tmp_path_factory.mktemp("any"), NAME)
    s.summary_attempts = 1
    write_artifacts(
        folder, NAME, s, transcript.read_raw(folder / records.RAW), disposition="upload"
    )
    for name in ("summary.json", "meta.json"):
        decoded = strict_json((folder / name).read_bytes())
        assert GITHUB_TOKEN not in json.dumps(decoded)
    for name in ("summary.md", "session.md"):
        text = (folder / name).read_bytes().decode("utf-8")
        assert GITHUB_TOKEN not in text
    assert not math.isnan(s.quality_score or 0.0)
