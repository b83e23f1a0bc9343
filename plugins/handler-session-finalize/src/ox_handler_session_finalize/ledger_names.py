"""Which folder of `sessions/` a published session takes (`Ledger.publish`): its own name, or
one beside a teammate's folder of that name (the same-name rule, docs/ledger-layout.md).

A folder of HEAD that holds the same recording is the session's own and is published to
again: a session published a second time (a crash before its cache copy went) never makes a
second copy. Its own folder is looked for under its name, under the names `beside_names` gives
it, and, when a teammate's folder holds its name, under the names the sync gives a session it
moves beside a teammate's (`<name>-<commit>`, `sync._keep_both`): first as the folder holding
its very `raw.jsonl` (`_Own.by_bytes`), then as one whose header names its session id
(`same_id`: only text, which a teammate could copy into a folder of theirs). Only then is the
first free name of `beside_names` taken.

What HEAD holds is asked of git, never guessed from the work tree: a person may have deleted
there a folder HEAD still holds, which a commit of the same path would replace. That costs one
`ls-tree` per batch, whatever its size; a clash (HEAD holds the name, not as this session's)
adds a listing of `sessions/`, and reads of the blobs that tell whose a folder is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import trio

from ox_handler_session_finalize.git import GitError, read_blob_head
from ox_handler_session_finalize.ledger_files import (
    beside_names,
    blob_ids,
    header_session_id,
    is_beside,
    lfs_pointer_oid,
    meta_session_id,
)
from ox_session_capture.confined import UnsafePathError

if TYPE_CHECKING:
    from ox_handler_session_finalize.ledger import Ledger

__all__ = ["MAX_MOVED", "MAX_MOVED_READ", "choose_folders", "held_folders", "same_id"]

MAX_MOVED = 1024
"""How many folders shaped like the sync's `<name>-<commit>` are looked at for a session's own
by their bytes (one `ls-tree`, no blob read). A clash leaves one; a teammate could commit
thousands to make every publish slow."""
MAX_MOVED_READ = 16
"""How many of them are read for a session id (a blob or two each)."""

MAX_HEADER_READ = 1024 * 1024
"""How much of a folder's `raw.jsonl` is read for its header line (ox's is well under 1 KiB;
an LFS pointer is about 130 bytes)."""
MAX_META_READ = 4 * 1024 * 1024
"""The largest `meta.json` read for a session id (as `compat` reads one): ox's are small."""

Held = dict[str, dict[str, str]]
"""HEAD's folders by name: the object id of each file in it, by its path in the folder."""


async def choose_folders(
    ledger: Ledger, requests: Sequence[tuple[str, Mapping[str, bytes], bool]]
) -> tuple[list[str | UnsafePathError], Held]:
    """The folder each `(name, files, replace)` of a batch is published as: its name with
    `replace` (a committed session's retry, found in that very folder), else its own folder of
    HEAD, else the first of `beside_names` that HEAD does not hold and no other session of the
    batch took. A session finding none gets an `UnsafePathError` (it fails alone). Also what
    HEAD holds of the folders looked at (none for a batch of retries only)."""
    claimed: dict[str, str | None] = {name: None for name, _, replace in requests if replace}
    asking = [(i, name, files) for i, (name, files, replace) in enumerate(requests) if not replace]
    chosen: list[str | UnsafePathError] = [name for name, _, _ in requests]
    if not asking:
        return chosen, {}
    choices = {i: beside_names(name, files) for i, name, files in asking}
    in_head = await ledger.head_session_names()
    candidates = {n for names in choices.values() for n in names if n in in_head}
    held = await held_folders(ledger, candidates) if candidates else {}
    listed: list[str] | None = None
    for i, name, files in asking:
        names = choices[i]
        # The key of "the same session": two of the batch with one key share a folder.
        key = names[1]
        own = _Own(ledger, files, held, claimed, key)
        folder = await own.by_bytes(names)
        moved: list[str] = []
        if folder is None and name in held:
            # A clash: ours may be where the sync moved it, beside the teammate's.
            if listed is None:
                listed = sorted(in_head)
            moved = sorted(n for n in listed if n not in names and is_beside(name, n))
            moved = moved[:MAX_MOVED]
            unknown = {n for n in moved if n not in held}
            if unknown:
                held.update(await held_folders(ledger, unknown))
            folder = await own.by_bytes(moved)
        if folder is None:
            folder = await own.by_id([*names, *moved[:MAX_MOVED_READ]])
        if folder is None:
            folder = next((n for n in names if n not in held and n not in claimed), None)
        if folder is None:
            chosen[i] = UnsafePathError(
                f"session {name} not published: the ledger holds other sessions under its "
                f"name and every name beside it ({', '.join(names[1:])})"
            )
            continue
        claimed[folder] = key
        chosen[i] = folder
    return chosen, held


@dataclass
class _Own:
    """Finding a session's own folder of HEAD (`held`) among candidate names. Bytes first:
    a folder holding our very `raw.jsonl` is ours whatever another claims, and a session id
    is only text a teammate can copy into a folder of theirs."""

    ledger: Ledger
    files: Mapping[str, bytes]
    held: Held
    claimed: Mapping[str, str | None]
    key: str
    _ids: dict[int, frozenset[str]] = field(default_factory=dict)

    async def by_bytes(self, candidates: Sequence[str]) -> str | None:
        """The first candidate this session took in this batch, or holding its `raw.jsonl`
        byte for byte, plain or as an LFS pointer (without one of ours: exactly its files).
        No git process; our file is hashed once."""
        ours = self.files.get("raw.jsonl")
        for candidate in candidates:
            if candidate in self.claimed:
                if self.claimed[candidate] == self.key:
                    return candidate
                continue
            held = self.held.get(candidate)
            if held is None:
                continue
            if ours is None:
                if set(held) == set(self.files) and all(
                    oid in blob_ids(self.files[f], len(oid)) for f, oid in held.items()
                ):
                    return candidate
                continue
            theirs = held.get("raw.jsonl")
            if theirs is None:
                continue
            if len(theirs) not in self._ids:
                self._ids[len(theirs)] = await trio.to_thread.run_sync(blob_ids, ours, len(theirs))
            if theirs in self._ids[len(theirs)]:
                return candidate
        return None

    async def by_id(self, candidates: Sequence[str]) -> str | None:
        """The first candidate holding this recording by its session id (`same_id`)."""
        for candidate in candidates:
            if candidate in self.claimed or candidate not in self.held:
                continue
            if await same_id(self.ledger, self.held[candidate], self.files):
                return candidate
        return None


async def held_folders(ledger: Ledger, names: set[str]) -> Held:
    """Which of the folders `sessions/<name>` HEAD holds: by name, the object id of each file
    in it, by its path in the folder ("" for a file or link where the folder would be). One
    git process (two in a repository without a commit)."""
    specs = sorted(f"sessions/{n}" for n in names)
    listed = await ledger.git(
        "--literal-pathspecs", "ls-tree", "-r", "-z", "HEAD", "--", *specs, check=False
    )
    if not listed.ok:
        if not (await ledger.git("rev-parse", "-q", "--verify", "HEAD", check=False)).ok:
            return {}  # no commit yet: nothing to clash with
        raise GitError(listed.failure(), returncode=listed.returncode, stderr=listed.stderr)
    held: Held = {}
    for record in filter(None, listed.stdout.split("\0")):
        meta, _, path = record.partition("\t")
        parts = path.split("/", 2)
        if len(parts) < 2 or parts[0] != "sessions" or parts[1] not in names:
            continue  # ls-tree's pathspecs match loosely: only the names asked
        held.setdefault(parts[1], {})[parts[2] if len(parts) == 3 else ""] = meta.split()[-1]
    return held


async def same_id(ledger: Ledger, held: Mapping[str, str], files: Mapping[str, bytes]) -> bool:
    """Whether a folder of HEAD's `raw.jsonl` header names our session id (`_meta.session_id`,
    unique to a recording). When it is an LFS pointer (the content is on the LFS server, not
    here), the session id is read from `meta.json`, which ox writes from that header and
    never routes through LFS. Reads the head of one or two blobs: a teammate's can be of any
    size, and only its first line (or a `meta.json` of ox's size) tells."""
    sid = header_session_id(files.get("raw.jsonl", b""))
    theirs = held.get("raw.jsonl")
    if not sid or theirs is None:
        return False
    head, _ = await read_blob_head(ledger.path, theirs, MAX_HEADER_READ)
    if not lfs_pointer_oid(head):
        return header_session_id(head) == sid
    meta = held.get("meta.json")
    if meta is None:
        return False
    text, whole = await read_blob_head(ledger.path, meta, MAX_META_READ)
    return whole and meta_session_id(text) == sid
