"""What ox keeps of a ledger's git state between its own commits (`ledger_state`): it saves the
conflict check and HEAD's listing per batch, and is dropped the moment anyone else's git
changes the index or moves HEAD. Real git, a person's commands run between ox's publishes."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ox_core.errors import LedgerBlockedError
from ox_handler_session_finalize.git import GIT_PROCESSES
from ox_handler_session_finalize.ledger import Ledger
from ox_handler_session_finalize.ledger_state import KnownState

from .finalize_support import git

RAW = b'{"type":"user","content":"ours"}\n'


async def test_consecutive_publishes_ask_git_only_to_add_diff_and_commit(ledger: Path) -> None:
    repo = Ledger(ledger)
    await repo.publish("s-1", {"raw.jsonl": RAW})
    before = GIT_PROCESSES.started
    await repo.publish("s-2", {"raw.jsonl": RAW + b"2"})
    assert GIT_PROCESSES.started - before == 3
    assert await repo.head_session_names() == {"s-1", "s-2"}
    assert GIT_PROCESSES.started - before == 3  # known from the commit, not listed


async def test_a_persons_commit_between_publishes_is_seen(ledger: Path) -> None:
    repo = Ledger(ledger)
    await repo.publish("s-1", {"raw.jsonl": RAW})
    (ledger / "sessions" / "theirs").mkdir()
    (ledger / "sessions" / "theirs" / "raw.jsonl").write_bytes(b'{"type":"user"}\n')
    git(ledger, "add", "sessions/theirs")
    git(ledger, "commit", "-q", "-m", "by hand")
    assert await repo.head_session_names() == {"s-1", "theirs"}
    # And the same-name rule holds with it: ours goes beside theirs.
    result = await repo.publish("theirs", {"raw.jsonl": RAW})
    assert result.name != "theirs"
    assert git(ledger, "show", "HEAD:sessions/theirs/raw.jsonl") == '{"type":"user"}\n'


@pytest.mark.parametrize("how", ["reset", "pull"])
async def test_head_moved_back_or_by_a_pull_is_listed_again(
    ledger: Path, remote: Path, tmp_path: Path, how: str
) -> None:
    repo = Ledger(ledger)
    await repo.publish("s-1", {"raw.jsonl": RAW})
    if how == "reset":
        git(ledger, "reset", "-q", "--hard", "HEAD~1")
        assert await repo.head_session_names() == set()
    else:
        mate = tmp_path / "mate"
        git(tmp_path, "clone", "-q", str(remote), str(mate))
        (mate / "sessions" / "m").mkdir(parents=True)
        (mate / "sessions" / "m" / "raw.jsonl").write_bytes(b"{}\n")
        git(mate, "add", "sessions")
        git(mate, "commit", "-q", "-m", "mate")
        git(mate, "push", "-q", "origin", "HEAD:main")
        git(ledger, "pull", "-q", "--rebase")
        assert await repo.head_session_names() == {"s-1", "m"}


async def test_a_conflict_left_in_the_index_after_a_clean_commit_still_blocks(
    ledger: Path,
) -> None:
    repo = Ledger(ledger)
    await repo.publish("s-1", {"raw.jsonl": RAW})
    # A person's `git stash pop` (or any merge) that conflicted: unmerged entries, no
    # MERGE_HEAD. Made directly, as git would leave them.
    blob = git(ledger, "rev-parse", "HEAD:sessions/s-1/raw.jsonl").strip()
    entries = "".join(f"100644 {blob} {stage}\tnotes.txt\n" for stage in (1, 2, 3))
    _update_index(ledger, entries)
    with pytest.raises(LedgerBlockedError, match=r"notes\.txt"):
        await repo.publish("s-2", {"raw.jsonl": RAW + b"2"})


def _update_index(ledger: Path, entries: str) -> None:
    subprocess.run(
        ["git", "-C", str(ledger), "update-index", "--index-info"],
        input=entries,
        text=True,
        check=True,
    )


# ---------------------------------------------------------------- the record alone

STAMPS = st.one_of(st.none(), st.tuples(st.integers(0, 3), st.just(0), st.just(41)))
HEADS = st.one_of(st.none(), st.tuples(STAMPS, STAMPS))
NAMES = st.frozensets(st.sampled_from(["a", "b", "c"]))


@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("listed"), HEADS, NAMES),
            st.tuples(st.just("committed"), HEADS, HEADS, STAMPS, NAMES),
            st.tuples(st.just("ask"), HEADS, STAMPS),
        )
    )
)
def test_the_record_answers_only_for_the_stamp_it_was_taken_at(ops: list[tuple[Any, ...]]) -> None:
    known = KnownState()
    truth: dict[object, frozenset[str]] = {}  # what HEAD held, by its stamp, as far as told
    clean: set[object] = set()
    for op, *args in ops:
        if op == "listed":
            head, names = args
            known.listed(head, names)
            truth = {head: names} if head is not None else {}
        elif op == "committed":
            before, after, index, folders = args
            base = truth.get(before) if before is not None else None
            known.committed(before, after, index, folders)
            truth = {after: base | folders} if base is not None and after is not None else {}
            clean = {index} if index is not None else set()
        else:
            head, index = args
            assert known.names_if_known(head) == (truth.get(head) if head is not None else None)
            assert known.clean(index) == (index in clean)
