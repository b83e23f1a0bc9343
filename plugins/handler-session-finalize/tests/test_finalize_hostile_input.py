"""Finalizing what a session's content or a crash can make of it: runs of backticks in a tool
input, a summary prompt for a very long session, a discarded session left behind by a crash.
Real ledger, real bare remote, the real handler."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from ox_core import Outcome, RunResult
from ox_handler_session_finalize.detect import Found, Kind, Place
from ox_handler_session_finalize.export import write_artifacts
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_handler_session_finalize.llm_output import parse_summary
from ox_handler_session_finalize.payload import FinalizeError, make_item
from ox_handler_session_finalize.prompt import MAX_FILES_CHARS, build_summary_prompt
from ox_session_capture import records, transcript
from ox_session_capture.records import RawEntry

from .finalize_support import (
    answer,
    commit_count,
    entries,
    finalize_one,
    git,
    make_session,
    write_raw,
)

NAME = "2026-11-25T09-00-dev-h1"


async def test_a_long_run_of_backticks_in_a_tool_input_is_fenced_at_once(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path
) -> None:
    # A file the agent wrote holding a long run of backticks (a hostile page it copied, a
    # generated fixture): `session.md` fences it in one pass over the text, not one pass
    # per backtick (150,000 of them took 18 s; a few MB, hours in a worker thread). A
    # million of them, an hour or more in quadratic time, leave a generous bound for a loaded
    # machine (speed itself is not asserted).
    run = "`" * 1_000_000
    write = {
        "type": "tool",
        "tool_name": "Write",
        "tool_input": json.dumps({"file_path": "fixture.md", "content": run}),
        "call_id": "call_w",
    }
    make_session(records.ledger_cache_sessions(ledger), NAME, [*entries(), write])
    before = commit_count(remote)
    started = time.monotonic()
    assert await finalize_one(handler, ledger, answer()) == Outcome("published", "")
    assert time.monotonic() - started < 120
    assert commit_count(remote) == before + 1
    text = (records.committed_sessions(ledger) / NAME / records.SESSION_MD).read_text()
    # The fence is one backtick longer than the longest run inside, so the block holds.
    longest = max(len(m) for m in re.findall(r"`+", text))
    assert longest == len(run) + 1
    assert text.count("`" * longest) == 2


async def test_the_summary_prompt_of_a_very_long_session_is_bounded(
    handler: SessionFinalizeHandler, ledger: Path
) -> None:
    # 1,500 exchanges of long prompts and answers: over 800 steps only user and assistant
    # entries are kept, which alone made a 7.5-million-character prompt, past any model's
    # context (the agent fails it at every attempt and the session waits for ever), sent
    # on stdin each time. The beginning and the end are kept, the middle left out, said so.
    lines: list[dict[str, object]] = []
    for i in range(1500):
        lines.append({"type": "user", "content": f"prompt {i} " + "p" * 2000})
        lines.append({"type": "assistant", "content": f"answer {i} " + "a" * 3000})
    make_session(records.ledger_cache_sessions(ledger), NAME, lines)
    [item] = await handler.detect(ledger)
    request = await handler.build_prompt(item)
    prompt = request.prompt
    assert prompt is not None
    assert len(prompt) < 450_000
    assert '<entry seq="1" role="user">prompt 0 ' in prompt
    assert '<entry seq="3000" role="assistant">answer 1499 ' in prompt
    assert re.search(r"<omitted entries=\"\d+\"/>", prompt)
    assert prompt.rstrip().endswith("Reply with the JSON object only.")


def test_the_files_touched_of_a_prompt_are_bounded() -> None:
    # 200 files of 4,000-character paths were 800,000 characters before the transcript.
    writes = [
        RawEntry(
            type="tool",
            tool_name="Write",
            tool_input=json.dumps({"file_path": f"{i:03d}" + "d/" * 2000, "content": "x"}),
            call_id=f"c{i}",
        )
        for i in range(200)
    ]
    prompt = build_summary_prompt(writes)
    files = prompt.split("<files_touched>\n", 1)[1].split("\n</files_touched>", 1)[0]
    assert len(files) <= MAX_FILES_CHARS + 100
    assert files.startswith("000d/d/")
    assert re.search(r"\n… and \d+ more$", files)


def discarded_leftover(root: Path, *, header: bool = True) -> Path:
    """A cache session as a crash right after its artifacts were written leaves it when the
    agent rated it 'skip': summary, exports and `meta.json` (`disposition: discard`) beside
    the raw file, the cache copy not yet removed."""
    folder = root / NAME
    write_raw(folder, entries(), header=header)
    summary = parse_summary(answer(quality_category="skip")).summary
    assert summary is not None
    summary.summary_attempts = 1
    raw = transcript.read_raw(folder / records.RAW)
    write_artifacts(folder, NAME, summary, raw, disposition="discard")
    return folder


async def test_a_discarded_session_left_by_a_crash_is_removed_never_published(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path
) -> None:
    # Killed between writing a discarded session's artifacts and removing its cache copy:
    # its summary is done, so the next scan made it an upload-only item and published what
    # the agent said to discard.
    folder = discarded_leftover(records.ledger_cache_sessions(ledger))
    before = commit_count(ledger)
    await handler.cleanup(ledger)
    assert await handler.detect(ledger) == []
    assert not folder.exists()
    assert commit_count(ledger) == before


async def test_a_discarded_session_ox_may_not_delete_stays_unpublished(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path
) -> None:
    # A session of an older setup in the per-user cache (its raw file has no ox header):
    # discarded, but not proven ox's, so its cache copy is kept; the next scan published it.
    assert handler.user_cache_dir is not None
    root = records.user_cache_sessions(ledger, handler.user_cache_dir)
    write_raw(root / NAME, entries(), header=False)
    before = commit_count(ledger)
    skip = answer(quality_category="skip", score_reason="Nothing of value.")
    assert await finalize_one(handler, ledger, skip) == Outcome(
        "discarded", "the agent rated it 'skip': Nothing of value."
    )
    assert (root / NAME / records.RAW).exists()
    for _ in range(2):
        await handler.cleanup(ledger)
        assert await handler.detect(ledger) == []
    assert (root / NAME / records.RAW).exists()
    assert commit_count(ledger) == before


def teammates_session(ledger: Path, name: str, lines: list[dict[str, object]]) -> Path:
    """A session a teammate committed without its summary (`.needs-summary`): any member's
    ox summarises it again."""
    folder = make_session(records.committed_sessions(ledger), name, lines)
    (folder / records.NEEDS_SUMMARY).touch()
    git(ledger, "add", "-f", "--", f"sessions/{name}")
    git(ledger, "commit", "-q", "-m", f"session {name}")
    return folder


async def test_a_teammates_session_too_large_to_summarise_again_is_left_alone(
    handler: SessionFinalizeHandler, ledger: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 60,000 tiny entries (2 MB, a few kB in git) made ox parse, redact and render every one
    # (about 60 times the file's size in memory, minutes of work: 50 MB would take
    # gigabytes) for a session anyone may commit; a sparse raw file claiming gigabytes was
    # read whole. Both are left as committed; a session of ordinary size is still retried.
    tiny = [{"type": "user", "content": "x"}] * 60_000
    teammates_session(ledger, "2026-11-25T09-00-mate-lines", [*entries(), *tiny])
    sparse = teammates_session(ledger, "2026-11-25T09-00-mate-sparse", entries())
    ordinary = teammates_session(ledger, "2026-11-25T09-00-mate-fine", entries())
    with (sparse / records.RAW).open("r+b") as f:
        f.truncate(8 * 1024**3)  # as 8 GB of zeros (8 MB in git) would be checked out
    before = commit_count(ledger)
    items = await handler.detect(ledger)
    assert [item.payload["name"] for item in items] == [ordinary.name]

    # Queued by hand (`ox-core enqueue`), each is refused in one line before it is read
    # (checked by reading failing the test, not by a wall-clock bound a loaded machine breaks).
    def never_read(path: Path) -> object:
        raise AssertionError(f"{path} was read")

    monkeypatch.setattr(transcript, "read_raw", never_read)
    for name, why in (
        ("2026-11-25T09-00-mate-lines", "lines"),
        ("2026-11-25T09-00-mate-sparse", "bytes"),
    ):
        found = Found(name, records.committed_sessions(ledger) / name, Place.COMMITTED, Kind.FULL)
        item = make_item(found)
        item.payload["ledger"] = str(ledger)
        with pytest.raises(FinalizeError, match=rf"not summarised again: .*{why}"):
            await handler.build_prompt(item)
        with pytest.raises(FinalizeError, match=rf"not summarised again: .*{why}"):
            await handler.process_result(item, RunResult(output=answer()))
    monkeypatch.undo()
    assert commit_count(ledger) == before
    for folder in (sparse, sparse.parent / "2026-11-25T09-00-mate-lines"):
        assert sorted(p.name for p in folder.iterdir()) == [records.NEEDS_SUMMARY, records.RAW]
