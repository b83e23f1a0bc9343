"""Finalization checks what a work item says against the folder it names, and writes the
summary that marks a session done last: an enqueued item (its payload is outside input)
published and deleted a recording still being written, published a session its summary kept
local or one never summarised; an export interrupted before `meta.json` published a session
kept local; a session whose agent worked (tool calls) under short prompts was discarded as
brief, unsummarised."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from ox_core import RunResult
from ox_core.contracts import HandlerContext
from ox_handler_session_finalize import ledger as ledger_module
from ox_handler_session_finalize.detect import Kind
from ox_handler_session_finalize.git import GitError
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_handler_session_finalize.payload import FinalizeError
from ox_session_capture import records

from .finalize_support import answer, commit_count, make_session, ts

NAME = "2026-11-25T12-00-dev-a1"


def _attached(handler: SessionFinalizeHandler, ledger: Path) -> list:
    queued: list = []
    handler.attach(HandlerContext(ledger=ledger, enqueue=lambda item: queued.append(item) or True))
    return queued


async def _run_payload(handler: SessionFinalizeHandler, payload: dict, output: str):
    from ox_core import WorkItem

    data = handler.validate_payload(payload)  # what `ox-core enqueue` does before queueing
    item = WorkItem(type="session-finalize", payload=data)
    request = await handler.build_prompt(item)
    return await handler.process_result(
        item, RunResult() if request.skip_llm else RunResult(output=output)
    )


# ---------------------------------------------------------------- 1. a live recording


async def test_an_enqueued_item_never_publishes_or_deletes_a_live_recording(
    handler: SessionFinalizeHandler, ledger: Path
) -> None:
    _attached(handler, ledger)
    marker = {"session_file": "", "parent_pid": os.getpid(), "started_at": ts(5)}
    folder = make_session(records.ledger_cache_sessions(ledger), NAME, marker=marker)
    assert await handler.detect(ledger) == []  # detection: live, left alone
    before = commit_count(ledger)
    payload = {"name": NAME, "path": str(folder), "place": "ledger-cache", "kind": "full"}
    await _run_payload(handler, payload, answer())  # nothing to do while it records
    # The recording is still being written by the watcher: it must be neither deleted
    # nor published half-written.
    assert (folder / records.MARKER).exists()
    assert (folder / records.RAW).exists()
    assert commit_count(ledger) == before


# ---------------------------------------------------------------- 2. upload-only of kept sessions


async def test_an_enqueued_upload_only_never_publishes_a_session_kept_back(
    handler: SessionFinalizeHandler, ledger: Path
) -> None:
    category = "local_only"
    _attached(handler, ledger)
    folder = make_session(records.ledger_cache_sessions(ledger), NAME)
    [item] = await handler.detect(ledger)
    await handler.build_prompt(item)
    await handler.process_result(item, RunResult(output=answer(quality_category=category)))
    assert folder.is_dir()
    assert await handler.detect(ledger) == []  # kept locally: detection never publishes it
    before = commit_count(ledger)
    payload = {"name": NAME, "path": str(folder), "place": "ledger-cache", "kind": "upload-only"}
    await _run_payload(handler, payload, "")  # nothing to do: detection's own rule
    assert commit_count(ledger) == before, "a session the agent kept local was published"
    assert not (ledger / "sessions" / NAME).exists()


async def test_an_enqueued_upload_only_never_publishes_an_unsummarised_session(
    handler: SessionFinalizeHandler, ledger: Path
) -> None:
    # A fresh cache session (no summary yet): `kind` upload-only from the payload publishes
    # the bare transcript (no summary, no meta.json) and deletes the cache copy, without the
    # agent being asked.
    _attached(handler, ledger)
    folder = make_session(records.ledger_cache_sessions(ledger), NAME)
    payload = {"name": NAME, "path": str(folder), "place": "ledger-cache", "kind": "upload-only"}
    await _run_payload(handler, payload, answer())
    published = ledger / "sessions" / NAME  # summarised first (as `full`), then published
    assert (published / records.SUMMARY_JSON).exists(), sorted(os.listdir(published))
    assert (published / records.META).exists()


# ---------------------------------------------------------------- 3. an export cut short


async def test_a_retry_interrupted_before_meta_never_publishes_a_session_kept_locally(
    handler: SessionFinalizeHandler, ledger: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_session(records.ledger_cache_sessions(ledger), NAME)
    # 1st attempt: the agent's answer is unusable (failure summary, disposition upload), and
    # publishing fails (remote LFS away, ledger paused...): the cache copy waits.
    real_publish = ledger_module.Ledger.publish

    async def refused(self, *a, **k):  # type: ignore[no-untyped-def]
        raise GitError("the remote is away")

    monkeypatch.setattr(ledger_module.Ledger, "publish", refused)
    [item] = await handler.detect(ledger)
    with pytest.raises(GitError):
        await handler.process_result(item, RunResult(output="not an answer"))
    monkeypatch.setattr(ledger_module.Ledger, "publish", real_publish)
    assert folder.is_dir()
    # 2nd attempt (a retry): the agent says local_only; the disk fills (or kill -9) right
    # after summary.json, before meta.json records the new disposition.
    [item] = await handler.detect(ledger)
    assert item.payload["kind"] == Kind.RETRY.value
    real_write = records.atomic_write_model

    def full_disk(path, model, *a, **k):  # type: ignore[no-untyped-def]
        if Path(path).name == records.META:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_write(path, model, *a, **k)

    monkeypatch.setattr(records, "atomic_write_model", full_disk)
    with pytest.raises(FinalizeError):
        await handler.process_result(item, RunResult(output=answer(quality_category="local_only")))
    monkeypatch.setattr(records, "atomic_write_model", real_write)
    # The next scan: whatever it does, a session the agent rated local_only must not be
    # published.
    for item in await handler.detect(ledger):
        request = await handler.build_prompt(item)
        await handler.process_result(
            item,
            RunResult()
            if request.skip_llm
            else RunResult(output=answer(quality_category="local_only")),
        )
    assert not (ledger / "sessions" / NAME).exists(), "published a session kept locally"


# ---------------------------------------------------------------- 4. brief by rule


def _work_session(user: str, *, assistant_text: bool = True) -> list[dict]:
    lines: list[dict] = [{"ts": ts(30), "type": "user", "content": user}]
    for i in range(30):
        lines.append(
            {
                "ts": ts(29),
                "type": "tool",
                "tool_name": "Edit",
                "tool_input": json.dumps(
                    {"file_path": f"src/mod{i}.py", "old_string": "a", "new_string": "b"}
                ),
                "call_id": f"c{i}",
            }
        )
        lines.append({"ts": ts(29), "type": "tool", "call_id": f"c{i}", "tool_output": "ok"})
    if assistant_text:
        lines.append({"ts": ts(1), "type": "assistant", "content": "Fixed the 30 failing modules."})
    return lines


@pytest.mark.parametrize(
    ("user", "assistant_text"),
    [("continue", True), ("fix the failing tests", True), ("x" * 200, False)],
)
async def test_a_session_that_edited_thirty_files_is_never_discarded_as_brief(
    handler: SessionFinalizeHandler, ledger: Path, user: str, assistant_text: bool
) -> None:
    folder = make_session(
        records.ledger_cache_sessions(ledger),
        NAME,
        _work_session(user, assistant_text=assistant_text),
    )
    [item] = await handler.detect(ledger)
    request = await handler.build_prompt(item)
    outcome = await handler.process_result(
        item, RunResult() if request.skip_llm else RunResult(output=answer())
    )
    assert not outcome.kind.startswith("discarded"), outcome
    assert folder.exists() or (ledger / "sessions" / NAME).exists()
