"""A ledger the original (Go) daemon wrote (the fixture `data/original_ledger`, built from its
formats): detected and read, its sessions published as they are, never finalized again or
rewritten; its cache never committed; its redaction rules applied."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ox_core import RunResult
from ox_core.render.status import status_screen
from ox_handler_session_finalize.compat import FileEntry, file_entries, file_entry
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_handler_session_finalize.ledger_setup import ensure_ignore_lines
from ox_handler_session_finalize.sync_service import LedgerSyncer
from ox_handler_session_finalize.testing import finished_session
from ox_session_capture import records, transcript
from ox_session_capture.redact import RedactRulesError, load_ledger_rules
from ox_session_capture.redact.original_rules import parse_original_rules

from .finalize_support import clone, git

FIXTURE = Path(__file__).parent / "data" / "original_ledger"
ANN = "2026-03-02T09-15-ann-Oxa7b3"
BOB = "2025-11-20T16-40-bob-Oxk2q9"


@pytest.fixture
def original(tmp_path: Path, git_env: None) -> tuple[Path, Path]:
    """The fixture as a team's remote and a clone of it: (ledger, remote)."""
    remote = tmp_path / "team.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    seed = tmp_path / "seed"
    shutil.copytree(FIXTURE, seed)
    shutil.rmtree(seed / ".sageox" / "cache")  # never committed by the original either
    git(seed, "init", "-q", "-b", "main")
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "the original daemon's ledger")
    git(seed, "push", "-q", str(remote), "HEAD:main")
    ledger = clone(remote, tmp_path / "ledger")
    shutil.copytree(FIXTURE / ".sageox" / "cache", ledger / ".sageox" / "cache")
    return ledger, remote


def snapshot(ledger: Path, names: tuple[str, ...] = (ANN, BOB)) -> dict[str, bytes]:
    return {
        str(p.relative_to(ledger)): p.read_bytes()
        for name in names
        for p in sorted((ledger / "sessions" / name).iterdir())
    }


async def test_the_originals_sessions_are_read_and_never_rewritten(
    handler: SessionFinalizeHandler, original: tuple[Path, Path], tmp_path: Path
) -> None:
    ledger, remote = original
    before = snapshot(ledger)
    # Detected as published: nothing to finalize, the original's recording left alone.
    assert await handler.detect(ledger) == []

    # Read: the older raw file's legacy entry types and its header line.
    old = transcript.read_raw(ledger / "sessions" / BOB / "raw.jsonl")
    assert [e.type for e in old.entries] == ["user", "tool", "assistant"]
    assert old.entries[1].content == "ls db/migrations"
    assert old.entries[2].content.startswith("There are 14 migrations")
    assert old.bad_lines == 1  # its bare metadata line, which is no entry
    # Its manifests, both generations.
    meta = json.loads((ledger / "sessions" / ANN / "meta.json").read_text())
    entries = file_entries(meta["files"])
    assert entries["raw.jsonl"].storage == "lfs"
    assert entries["summary.json"] == FileEntry(size=entries["summary.json"].size, storage="git")
    legacy = file_entries(
        json.loads((ledger / "sessions" / BOB / "meta.json").read_text())["files"]
    )
    assert {e.storage for e in legacy.values()} == {"lfs"}  # no storage: LFS, as it meant
    # Its redaction rules apply to what ox writes.
    rules = load_ledger_rules(ledger)
    text = "deploy to db01.corp.example for ACME-123456"
    for pattern in rules:
        text = pattern.sub("[REDACTED_CUSTOM]", text)
    assert text == "deploy to [REDACTED_CUSTOM] for [REDACTED_CUSTOM]"

    # ox publishes beside them; theirs stay byte for byte; its cache is never committed.
    assert await ensure_ignore_lines(handler.ledger(ledger))
    gitignore = (ledger / ".gitignore").read_text().splitlines()
    assert gitignore == [".sageox/cache/", ".ox/cache/"]
    assert not await ensure_ignore_lines(handler.ledger(ledger))  # once
    name = "2026-11-25T10-00-dev-a1"
    finished_session(records.ledger_cache_sessions(ledger), name)
    items = await handler.detect(ledger)
    assert [i.payload["name"] for i in items] == [name]
    await handler.process_result(items[0], RunResult())
    syncer = LedgerSyncer(handler.ledger(ledger))
    state = await syncer.sync_once()
    assert (state.published, state.original, state.last_error) == (3, 2, "")
    assert snapshot(ledger) == before
    check = clone(remote, tmp_path / "check")
    assert snapshot(check) == before
    assert not (check / ".sageox" / "cache").exists()
    assert (ledger / ".sageox" / "cache" / "sessions").exists()  # the original's, untouched
    assert await handler.detect(ledger) == []
    # `status` says so.
    screen = status_screen({"daemon": {}, "agent_work": {"ledger_sync": _json(state)}})
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(screen)
    assert "3 sessions published (2 by the original daemon)" in console.export_text()


def _json(state: Any) -> dict[str, Any]:
    import attrs

    data: dict[str, Any] = attrs.asdict(state)
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}


def test_redact_md_that_is_broken_or_a_link_is_refused(tmp_path: Path) -> None:
    rules = tmp_path / ".sageox" / "REDACT.md"
    rules.parent.mkdir()
    rules.write_text('```redact\nregex "ACME-[" -> [X]\n```\n')
    with pytest.raises(RedactRulesError, match="invalid pattern"):
        load_ledger_rules(tmp_path)
    rules.write_text("```redact\nreplace everything\n```\n")
    with pytest.raises(RedactRulesError, match=r"REDACT\.md:2: not a rule"):
        load_ledger_rules(tmp_path)
    rules.write_text('```redact\nliteral "a\\qb" -> [X]\n```\n')
    with pytest.raises(RedactRulesError, match="unknown escape"):
        load_ledger_rules(tmp_path)
    secret = tmp_path / "private.md"
    secret.write_text('```redact\nliteral "x" -> [X]\n```\n')
    rules.unlink()
    rules.symlink_to(secret)
    with pytest.raises(RedactRulesError, match="link"):
        load_ledger_rules(tmp_path)


def test_redact_md_outside_its_blocks_is_prose() -> None:
    text = (
        'literal "not a rule" -> [X]\n```python\nliteral "nor this" -> [X]\n```\n'
        '```redact\nliteral "a.b\\"c" -> [X]\n\n# a comment\nregex "k[0-9]+" -> [Y]\n```\n'
    )
    assert parse_original_rules(text) == [re.escape('a.b"c'), "k[0-9]+"]


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=80),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=20), _VALUES, max_size=6) | _VALUES)
def test_any_manifest_is_read_without_error(files: Any) -> None:
    entries = file_entries(files)
    for name, entry in entries.items():
        assert name
        assert "/" not in name
        assert name not in (".", "..")
        assert entry.size >= 0
        assert entry.storage in ("", "lfs", "git")
        assert entry.sha256 == "" or len(entry.sha256) == 64


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"size": 5, "sha256": "a" * 64}, FileEntry(5, "a" * 64)),
        ({"storage": "lfs", "oid": "sha256:" + "b" * 64, "size": 7}, FileEntry(7, "b" * 64, "lfs")),
        ({"oid": "sha256:" + "c" * 64, "size": 1}, FileEntry(1, "c" * 64, "lfs")),
        ({"storage": "git", "size": 3}, FileEntry(3, "", "git")),
        ({"storage": "s3", "size": 3}, None),
        ({"storage": "lfs", "oid": "sha256:../../etc", "size": 3}, None),
        ({"size": -1}, None),
        ({"size": True}, None),
        ("raw.jsonl", None),
    ],
)
def test_manifest_entries_of_both_formats(value: object, expected: FileEntry | None) -> None:
    assert file_entry(value) == expected


async def test_session_names_in_the_ledger_and_on_the_remote(
    original: tuple[Path, Path], tmp_path: Path
) -> None:
    from ox_handler_session_finalize.compat import committed_names
    from ox_handler_session_finalize.ledger import Ledger
    from ox_handler_session_finalize.sync import sync_ledger

    ledger, remote = original
    assert committed_names(ledger) == {ANN, BOB}
    teammate = Ledger(clone(remote, tmp_path / "teammate"))
    await teammate.publish("2026-11-25T10-00-eve-a9", {"raw.jsonl": b'{"type":"user"}\n'})
    await sync_ledger(teammate)
    mine = Ledger(ledger)
    assert await mine.remote_session_names() == {ANN, BOB}  # as last fetched
    await sync_ledger(mine)
    assert await mine.remote_session_names() == {ANN, BOB, "2026-11-25T10-00-eve-a9"}
    (ledger / "sessions" / "linked").symlink_to(tmp_path)
    assert "linked" not in committed_names(ledger)
