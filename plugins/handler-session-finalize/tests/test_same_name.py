"""Two recordings of one session name (a teammate pushed `sessions/<name>/` first): a publish
never replaces a folder that is not the session's own, yet stays idempotent for its own."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import trio

from ox_core import RunResult
from ox_handler_session_finalize.git import GIT_PROCESSES
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_handler_session_finalize.ledger import Ledger
from ox_handler_session_finalize.ledger_files import beside, beside_names, blob_ids
from ox_handler_session_finalize.sync import sync_ledger
from ox_session_capture import records

from .conftest import LfsServer
from .finalize_support import answer, clone, commit_count, git, make_session
from .test_hostile_remote import teammate_commits

NAME = "2026-11-25T10-00-dev-a1"
THEIRS = b'{"type":"user","content":"theirs"}\n'
BROKEN = '```json\n{"title": "tr'


def raw(session_id: str, content: str = "hello") -> bytes:
    """A `raw.jsonl` with ox's header naming `session_id`, and one entry."""
    header = {"_meta": {"schema_version": "1", "session_id": session_id, "agent_id": "a1"}}
    return (json.dumps(header) + "\n" + json.dumps({"type": "user", "content": content})).encode()


OURS = raw("ses_0192aaaa-0000-7000-8000-000000000001", "ours")
THEIRS_RAW = raw("ses_0192bbbb-0000-7000-8000-000000000002", "theirs")


def folders(repo: Path, ref: str = "HEAD") -> list[str]:
    """The session folders of `ref` whose name starts with NAME."""
    listed = git(repo, "ls-tree", "--name-only", ref, "sessions/").split()
    return sorted(p.removeprefix("sessions/") for p in listed if p.startswith(f"sessions/{NAME}"))


def show(repo: Path, ref: str, path: str) -> bytes:
    return git(repo, "show", f"{ref}:{path}").encode()


async def finalize_all(handler: SessionFinalizeHandler, ledger: Path, output: str) -> list[str]:
    """detect → build_prompt → process_result for every item; the outcomes' reasons."""
    reasons = []
    for item in await handler.detect(ledger):
        request = await handler.build_prompt(item)
        result = RunResult() if request.skip_llm else RunResult(output=output)
        outcome = await handler.process_result(item, result)
        reasons.append(outcome.reason if outcome is not None else "")
    return reasons


# ---------------------------------------------------------------- the ledger


async def test_a_teammates_folder_of_the_same_name_is_never_overwritten(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    teammate_commits(remote, tmp_path / "mate", {f"sessions/{NAME}/raw.jsonl": THEIRS})
    repo = Ledger(ledger)
    await sync_ledger(repo)
    result = await repo.publish(NAME, {"raw.jsonl": b'{"type":"user","content":"ours"}\n'})
    assert git(ledger, "show", f"HEAD:sessions/{NAME}/raw.jsonl").encode() == THEIRS
    # Ours is beside it, by the sync's naming rule, and the result says where.
    assert result.committed
    assert (
        result.name == beside_names(NAME, {"raw.jsonl": b'{"type":"user","content":"ours"}\n'})[1]
    )
    assert result.name.startswith(f"{NAME}-")
    assert len(result.name) == len(NAME) + 9
    assert show(ledger, "HEAD", f"sessions/{result.name}/raw.jsonl") == (
        b'{"type":"user","content":"ours"}\n'
    )
    assert git(ledger, "log", "-1", "--format=%s").strip() == f"finalize session {result.name}"
    assert git(ledger, "status", "--porcelain") == ""


async def test_the_same_session_published_again_keeps_one_folder(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    teammate_commits(remote, tmp_path / "mate", {f"sessions/{NAME}/raw.jsonl": THEIRS_RAW})
    repo = Ledger(ledger)
    await sync_ledger(repo)
    first = await repo.publish(NAME, {"raw.jsonl": OURS, "summary.json": b"{}"})
    count = commit_count(ledger)
    # A crash after the commit, before the cache copy went: the same files again.
    again = await repo.publish(NAME, {"raw.jsonl": OURS, "summary.json": b"{}"})
    assert (again.name, again.committed) == (first.name, False)
    assert commit_count(ledger) == count
    # Published again with new content (its summary retried): still its own folder.
    third = await repo.publish(NAME, {"raw.jsonl": OURS, "summary.json": b'{"ok":1}'})
    assert (third.name, third.committed) == (first.name, True)
    assert folders(ledger) == sorted([NAME, first.name])
    assert show(ledger, "HEAD", f"sessions/{NAME}/raw.jsonl") == THEIRS_RAW
    assert show(ledger, "HEAD", f"sessions/{first.name}/summary.json") == b'{"ok":1}'


async def test_its_own_folder_is_found_by_the_recordings_session_id(ledger: Path) -> None:
    repo = Ledger(ledger)
    first = await repo.publish(NAME, {"raw.jsonl": OURS})
    assert first.name == NAME
    # The same recording, its raw file redacted differently since: the header says it is ours.
    redacted = OURS.replace(b"ours", b"[REDACTED]")
    again = await repo.publish(NAME, {"raw.jsonl": redacted})
    assert (again.name, again.committed) == (NAME, True)
    assert folders(ledger) == [NAME]
    assert show(ledger, "HEAD", f"sessions/{NAME}/raw.jsonl") == redacted


async def test_two_recordings_of_one_name_in_one_batch_both_land(ledger: Path) -> None:
    repo = Ledger(ledger)
    results = {}

    async def publish(key: str, data: bytes) -> None:
        results[key] = await repo.publish(NAME, {"raw.jsonl": data})

    async with trio.open_nursery() as nursery:
        await repo.lock.acquire()
        nursery.start_soon(publish, "a", OURS)
        nursery.start_soon(publish, "b", THEIRS_RAW)
        with trio.fail_after(60):  # both wait for the lock: one batch
            while repo.lock.statistics().tasks_waiting < 2:  # noqa: ASYNC110
                await trio.sleep(0.01)
        repo.lock.release()
    assert commit_count(ledger) == 2  # the seed and the batch
    assert sorted(r.name for r in results.values()) == folders(ledger)
    assert len(folders(ledger)) == 2
    for result, data in ((results["a"], OURS), (results["b"], THEIRS_RAW)):
        assert show(ledger, "HEAD", f"sessions/{result.name}/raw.jsonl") == data


async def test_a_committed_retry_replaces_its_own_folder(ledger: Path) -> None:
    repo = Ledger(ledger)
    await repo.publish(NAME, {"raw.jsonl": OURS})
    # A committed session's retry is the folder it was found in, whatever its raw file says.
    retried = await repo.publish(NAME, {"raw.jsonl": THEIRS_RAW}, replace=True)
    assert (retried.name, retried.committed) == (NAME, True)
    assert folders(ledger) == [NAME]
    assert show(ledger, "HEAD", f"sessions/{NAME}/raw.jsonl") == THEIRS_RAW


async def test_one_git_process_learns_the_names_of_a_batch(ledger: Path) -> None:
    repo = Ledger(ledger)
    await repo.publish("warm-up", {"raw.jsonl": OURS})
    before = GIT_PROCESSES.started
    await repo.publish(NAME, {"raw.jsonl": OURS})
    fresh = GIT_PROCESSES.started - before
    before = GIT_PROCESSES.started
    await repo.publish(NAME, {"raw.jsonl": OURS})  # its own, byte for byte: no blob read
    assert GIT_PROCESSES.started - before <= fresh


def test_the_name_beside_follows_the_syncs_rule() -> None:
    assert beside(NAME, "0123abcd") == f"{NAME}-0123abcd"
    long = "é" * 127  # 254 bytes
    kept = beside(long, "0123abcd")
    assert len(kept.encode()) <= 255
    assert kept.endswith("-0123abcd")
    names = beside_names(NAME, {"raw.jsonl": OURS})
    assert names == beside_names(NAME, {"raw.jsonl": OURS.replace(b"ours", b"x")})
    assert names != beside_names(NAME, {"raw.jsonl": THEIRS_RAW})
    assert names[0] == NAME
    assert len(set(names)) == len(names)


# ---------------------------------------------------------------- through the handler


async def test_a_cache_session_lands_beside_a_teammates_of_the_same_name(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    teammate_commits(remote, tmp_path / "mate", {f"sessions/{NAME}/raw.jsonl": THEIRS_RAW})
    await sync_ledger(handler.ledger(ledger))
    folder = make_session(records.ledger_cache_sessions(ledger), NAME)
    ours = (folder / "raw.jsonl").read_bytes()
    reasons = await finalize_all(handler, ledger, answer())
    assert len(reasons) == 1
    assert f"published as sessions/{NAME}-" in reasons[0]
    assert not folder.exists()  # the cache copy went, though it was published under another name

    check = clone(remote, tmp_path / "check")
    names = folders(check)
    assert len(names) == 2
    assert NAME in names
    assert (check / "sessions" / NAME / "raw.jsonl").read_bytes() == THEIRS_RAW
    assert sorted(p.name for p in (check / "sessions" / NAME).iterdir()) == ["raw.jsonl"]
    mine = check / "sessions" / next(n for n in names if n != NAME)
    assert sorted(p.name for p in mine.iterdir()) == [
        "meta.json",
        "raw.jsonl",
        "session.md",
        "summary.json",
        "summary.md",
    ]
    assert (mine / "raw.jsonl").read_bytes() == ours
    assert json.loads((mine / "summary.json").read_text())["summary_status"] == "ok"

    # A crash after the commit, before the cache copy went: found again, published again.
    shutil.copytree(mine, folder)
    count = commit_count(ledger)
    reasons = await finalize_all(handler, ledger, answer())
    assert len(reasons) == 1
    assert commit_count(ledger) == count
    assert not folder.exists()
    assert folders(ledger) == names


async def test_a_committed_retry_beside_a_teammates_session_replaces_its_own(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    teammate_commits(remote, tmp_path / "mate", {f"sessions/{NAME}/raw.jsonl": THEIRS_RAW})
    await sync_ledger(handler.ledger(ledger))
    make_session(records.ledger_cache_sessions(ledger), NAME)
    await finalize_all(handler, ledger, BROKEN)  # published without a summary
    names = folders(ledger)
    mine = next(n for n in names if n != NAME)
    # (The teammate's folder, raw only, is an item too: committed, to summarise.)
    items = [i for i in await handler.detect(ledger) if i.payload["name"] == mine]
    assert [(i.payload["place"], i.payload["kind"]) for i in items] == [("committed", "retry")]
    await handler.process_result(items[0], RunResult(output=answer()))
    assert folders(ledger) == names
    summary = json.loads(show(ledger, "HEAD", f"sessions/{mine}/summary.json"))
    assert (summary["summary_status"], summary["summary_attempts"]) == ("ok", 2)
    assert show(ledger, "HEAD", f"sessions/{NAME}/raw.jsonl") == THEIRS_RAW


# ---------------------------------------------------------------- LFS


def pointer(data: bytes) -> bytes:
    oid = hashlib.sha256(data).hexdigest()
    return (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {len(data)}\n".encode()
    )


async def test_lfs_pointers_tell_a_teammates_folder_from_our_own(
    ledger: Path, remote: Path, lfs_server: LfsServer, tmp_path: Path
) -> None:
    git(ledger, "config", "lfs.url", lfs_server.url)
    git(ledger, "config", "lfs.locksverify", "false")
    # The teammate's folder as git-lfs commits it: a pointer, and a plain meta.json.
    theirs_meta = json.dumps({"session_id": "ses_0192bbbb-0000-7000-8000-000000000002"})
    teammate_commits(
        remote,
        tmp_path / "mate",
        {
            f"sessions/{NAME}/raw.jsonl": pointer(THEIRS_RAW),
            f"sessions/{NAME}/meta.json": theirs_meta.encode(),
        },
    )
    repo = Ledger(ledger)
    await sync_ledger(repo)
    meta = json.dumps({"session_id": "ses_0192aaaa-0000-7000-8000-000000000001"}).encode()
    first = await repo.publish(NAME, {"raw.jsonl": OURS, "meta.json": meta})
    assert first.lfs
    assert first.name != NAME
    assert show(ledger, "HEAD", f"sessions/{NAME}/raw.jsonl") == pointer(THEIRS_RAW)
    assert show(ledger, "HEAD", f"sessions/{first.name}/raw.jsonl") == pointer(OURS)
    committed = git(ledger, "rev-parse", f"HEAD:sessions/{first.name}/raw.jsonl").strip()
    assert committed in blob_ids(OURS, len(committed))  # as git-lfs commits it: no blob read
    # Again, byte for byte: its own pointer. Then redacted differently: its meta.json.
    again = await repo.publish(NAME, {"raw.jsonl": OURS, "meta.json": meta})
    assert (again.name, again.committed) == (first.name, False)
    redacted = OURS.replace(b"ours", b"[REDACTED]")
    third = await repo.publish(NAME, {"raw.jsonl": redacted, "meta.json": meta})
    assert (third.name, third.committed) == (first.name, True)
    assert show(ledger, "HEAD", f"sessions/{first.name}/raw.jsonl") == pointer(redacted)
    assert folders(ledger) == sorted([NAME, first.name])
    await sync_ledger(repo)
    assert folders(remote, "main") == folders(ledger)
    assert hashlib.sha256(redacted).hexdigest() in lfs_server.objects()
