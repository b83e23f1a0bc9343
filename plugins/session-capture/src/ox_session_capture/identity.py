"""One ledger session per agent session: which recording an agent's session id belongs to,
where a new part starts, and which folder names are taken.

An agent session (adapter + the agent's own session id) is recorded as one or more *parts*:
the first from the first byte of the agent's file; each resume after a part was stopped
becomes a new part that starts where the file ends, names the part before it
(`previous_part` in its marker) and drops the agent messages the earlier parts already hold
(their ids, `prior_source_ids`, so gemini's re-listing of a resumed chat is not captured
twice). A resume while a part still records continues that part.

The index of parts lives in the ledger cache, one small JSON file per agent session
(`.ox/cache/agent-sessions/<adapter>-<hash>.json`), written atomically under a lock.

Folder names: a new recording never takes a name that exists in the ledger cache, the user
cache, the ledger's committed `sessions/`, or the remote's `sessions/` as last fetched (the
remote-tracking branches), so two recordings can never publish into one folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import stat
import subprocess
from collections.abc import Iterable
from pathlib import Path

import attrs

from ox_core.errors import OxError
from ox_core.fs import UnsafePathError, atomic_write, lock_file, read_regular
from ox_core.ledger_setup import git_command
from ox_session_capture.confined import make_dirs
from ox_session_capture.raw_lines import captured_ids, ledger_of
from ox_session_capture.records import (
    RAW,
    RecordError,
    RecordingMarker,
    committed_sessions,
    ledger_cache_sessions,
    read_marker,
    user_cache_sessions,
)

log = logging.getLogger(__name__)

INDEX_DIR = "agent-sessions"
MAX_INDEX = 4 * 1024 * 1024
"""The largest index file read (a part list and message ids; a real one is kilobytes)."""
MAX_PARTS = 1000
GIT_TIMEOUT = 10.0


def index_path(ledger: Path, adapter: str, agent_session_id: str) -> Path:
    """The index file of one agent session (its id hashed: it is the agent's, not ours)."""
    digest = hashlib.sha256(f"{adapter}\0{agent_session_id}".encode()).hexdigest()[:24]
    return ledger / ".ox" / "cache" / INDEX_DIR / f"{adapter}-{digest}.json"


@attrs.frozen
class AgentSession:
    """What the index knows of one agent session: its parts, oldest first, and the agent
    message ids the stopped parts hold."""

    adapter: str
    agent_session_id: str
    parts: tuple[str, ...] = ()
    source_ids: frozenset[str] = frozenset()
    end: tuple[str, int] | None = None
    """(the agent's file, the byte) where the last stopped part stopped reading."""


def read_index(ledger: Path, adapter: str, agent_session_id: str) -> AgentSession:
    """The index of an agent session; an empty one when there is none or it is unreadable
    (a damaged index only loses the link to earlier parts, never a recording)."""
    empty = AgentSession(adapter, agent_session_id)
    try:
        data = json.loads(read_regular(index_path(ledger, adapter, agent_session_id), MAX_INDEX))
    except FileNotFoundError:
        return empty
    except (OSError, ValueError, UnsafePathError, RecursionError) as exc:  # nested beyond reason
        log.warning("agent session index of %s %s unreadable: %s", adapter, agent_session_id, exc)
        return empty
    if not isinstance(data, dict) or data.get("agent_session_id") != agent_session_id:
        return empty
    parts = data.get("parts")
    ids = data.get("source_ids")
    end = data.get("end")
    if not (
        isinstance(end, list)
        and len(end) == 2
        and isinstance(end[0], str)
        and isinstance(end[1], int)
        and end[1] >= 0
    ):
        end = None
    parts = [p for p in parts if isinstance(p, str)] if isinstance(parts, list) else []
    ids = [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []
    return AgentSession(
        adapter,
        agent_session_id,
        tuple(parts[-MAX_PARTS:]),
        frozenset(ids),
        (end[0], end[1]) if end else None,
    )


def _write_index(ledger: Path, session: AgentSession) -> None:
    path = index_path(ledger, session.adapter, session.agent_session_id)
    data = {
        "adapter": session.adapter,
        "agent_session_id": session.agent_session_id,
        "parts": list(session.parts),
        "source_ids": sorted(session.source_ids),
        "end": list(session.end) if session.end else None,
    }
    atomic_write(path, json.dumps(data, indent=1).encode() + b"\n")


def _index_lock(ledger: Path) -> Path:
    # Folder by folder, refusing a link on the way (a teammate may commit `.ox` as one).
    return make_dirs(ledger, ledger / ".ox" / "cache" / INDEX_DIR) / ".lock"


def add_part(ledger: Path, adapter: str, agent_session_id: str, name: str) -> None:
    """Note `name` as the newest part of the agent session. Blocking."""
    with lock_file(_index_lock(ledger)):
        session = read_index(ledger, adapter, agent_session_id)
        if name not in session.parts:
            _write_index(ledger, attrs.evolve(session, parts=(*session.parts, name)))


def part_stopped(
    ledger: Path, session_dir: Path, marker: RecordingMarker, ids: Iterable[str] | None = None
) -> None:
    """Remember where a stopped part stopped reading and the agent message ids it holds, for
    the parts after it: `ids` when the caller knows them (the stop's tail, which read them
    already), else read from its raw file. Blocking; never raises for a missing raw file."""
    adapter, agent_session_id = marker.adapter_name, marker.agent_session_id
    if not agent_session_id:
        return
    ids = set(ids) if ids is not None else captured_ids(session_dir / RAW)
    with lock_file(_index_lock(ledger)):
        session = read_index(ledger, adapter, agent_session_id)
        parts = session.parts
        if session_dir.name not in parts:
            parts = (*parts, session_dir.name)
        ids |= session.source_ids
        end = (marker.session_file, marker.source_offset)
        _write_index(ledger, attrs.evolve(session, parts=parts, source_ids=frozenset(ids), end=end))


def note_part_stopped(
    session_dir: Path, marker: RecordingMarker, ids: Iterable[str] | None = None
) -> None:
    """`part_stopped` for a recording of a ledger's cache (nothing elsewhere: no hook records
    there); a failure loses only the link to a later part, and is logged."""
    ledger = ledger_of(session_dir)
    if ledger is None:
        return
    try:
        part_stopped(ledger, session_dir, marker, ids)
    except (OSError, OxError) as exc:
        log.warning("%s: agent session index not updated: %s", session_dir.name, exc)


def live_part(ledger: Path, adapter: str, agent_session_id: str) -> str | None:
    """The part of the agent session that still records (a marker, not stopped), if any."""
    cache = ledger_cache_sessions(ledger)
    session = read_index(ledger, adapter, agent_session_id)
    candidates: Iterable[str] = reversed(session.parts)
    for name in candidates:
        with contextlib.suppress(FileNotFoundError, NotADirectoryError, RecordError, OSError):
            marker = read_marker(cache / name)
            if (
                marker.stopped_at is None
                and marker.adapter_name == adapter
                and marker.agent_session_id == agent_session_id
            ):
                return name
    return None


def unfinished_parts(ledger: Path, adapter: str, agent_session_id: str) -> list[str]:
    """The parts of the agent session whose stop did not finish (`stopped_at` set, the marker
    still there: the drain or the footer could not be written), oldest first."""
    cache = ledger_cache_sessions(ledger)
    found = []
    for name in read_index(ledger, adapter, agent_session_id).parts:
        with contextlib.suppress(FileNotFoundError, NotADirectoryError, RecordError, OSError):
            marker = read_marker(cache / name)
            if (
                marker.stopped_at is not None
                and marker.adapter_name == adapter
                and marker.agent_session_id == agent_session_id
            ):
                found.append(name)
    return found


def next_part(
    ledger: Path, adapter: str, agent_session_id: str, session_file: str, *, resumed: bool
) -> tuple[str, int | None, str, frozenset[str]]:
    """Where a new recording of the agent session starts: (the file to follow, offset,
    previous part, agent message ids the earlier parts hold). A first recording of a new
    session starts at byte 0 (the file may not exist yet); one of a resumed session that ox
    never recorded, at the file's end (only what is new); a later part, where the part before
    it stopped reading, so every line is recorded exactly once.

    A resume follows the file the session was last recorded from while that file is still
    there, whatever file the hook names: the agents continue a resumed conversation in its
    own file (gemini's hook names a fresh, abandoned file when the minute in its name has
    changed since the session began)."""
    session = read_index(ledger, adapter, agent_session_id)
    if not session.parts:
        return session_file, (None if resumed else 0), "", frozenset()
    ids = set(session.source_ids)
    cache = ledger_cache_sessions(ledger)
    for name in session.parts:  # parts not yet stopped through `part_stopped`
        with contextlib.suppress(OSError, UnsafePathError):
            ids |= captured_ids(cache / name / RAW)
    follow, offset = session_file, None
    if session.end is not None:
        last_file, last_offset = session.end
        if _names_file(session_file, last_file) or (resumed and _is_regular(last_file)):
            follow, offset = last_file, last_offset
    return follow, offset, session.parts[-1], frozenset(ids)


def _names_file(given: str, recorded: str) -> bool:
    """Whether the path a hook gave names the file a part recorded: the records keep the
    resolved path, a hook may name it through a link (`$HOME` itself often is one)."""
    if given == recorded:
        return True
    try:
        return str(Path(given).resolve()) == recorded
    except (OSError, RuntimeError, ValueError):  # a loop, a lone surrogate: not that file
        return False


def _is_regular(path: str) -> bool:
    """Whether `path` is a regular file (not through a link at its end)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except (OSError, ValueError):
        return False


# ------------------------------------------------------------------ names


MAX_TREES = 256
_TREES: dict[tuple[str, str, str], frozenset[str]] = {}
"""(ledger, ref, commit) → the folder names under its `sessions/` (a commit never changes)."""


def _git(ledger: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return git_command(ledger, "-c", "core.quotePath=false", *args, timeout=GIT_TIMEOUT)


def remote_refs(ledger: Path) -> dict[str, str]:
    """The remote-tracking branches of the ledger and their commits (no `HEAD` alias): read
    from `.git/packed-refs` and `.git/refs/remotes/` (no git process on the hook's path),
    through `git for-each-ref` when `.git` is not a plain folder."""
    git_dir = ledger / ".git"
    if not git_dir.is_dir() or git_dir.is_symlink():
        out = _git(ledger, "for-each-ref", "--format=%(objectname) %(refname)", "refs/remotes/")
        pairs = [line.split(" ", 1) for line in out.stdout.splitlines() if " " in line]
        return {ref: sha for sha, ref in pairs if not ref.endswith("/HEAD")}
    refs: dict[str, str] = {}
    with contextlib.suppress(OSError, UnsafePathError):
        for line in read_regular(git_dir / "packed-refs", MAX_INDEX).decode().splitlines():
            sha, _, ref = line.partition(" ")
            if ref.startswith("refs/remotes/") and len(sha) >= 40:
                refs[ref] = sha
    root = git_dir / "refs" / "remotes"
    for folder, _dirs, files in os.walk(root):  # never follows a link to a folder
        for name in files:
            path = Path(folder) / name
            with contextlib.suppress(OSError, UnsafePathError, UnicodeDecodeError):
                sha = read_regular(path, 4096).decode().strip()
                if len(sha) >= 40 and not sha.startswith("ref:"):
                    refs[f"refs/remotes/{path.relative_to(root).as_posix()}"] = sha
    return {ref: sha for ref, sha in refs.items() if not ref.endswith("/HEAD")}


def remote_session_names(ledger: Path) -> set[str]:
    """The folder names under `sessions/` on every remote-tracking branch of the ledger (the
    remote as last fetched), each commit's listing read once. Empty when the ledger is no
    git repository or git fails."""
    if not (ledger / ".git").exists():
        return set()
    names: set[str] = set()
    try:
        for ref, sha in remote_refs(ledger).items():
            key = (str(ledger), ref, sha)
            listed = _TREES.get(key)
            if listed is None:
                out = _git(ledger, "ls-tree", "-d", "--name-only", f"{sha}:sessions")
                listed = frozenset(n for n in out.stdout.splitlines() if n)
                if out.returncode == 0 or "Not a valid object name" in out.stderr:
                    if len(_TREES) >= MAX_TREES:  # old commits of past fetches
                        _TREES.clear()
                    _TREES[key] = listed  # a commit without `sessions/` is final too
            names |= listed
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("cannot list the remote's sessions of %s: %s", ledger, exc)
    return names


def taken_names(ledger: Path, base: str) -> set[str]:
    """The names starting with `base` that a new recording must not take: in the ledger
    cache, the user cache, the committed `sessions/` and the remote's `sessions/`."""
    found: set[str] = set()
    places = [ledger_cache_sessions(ledger), committed_sessions(ledger)]
    with contextlib.suppress(Exception):  # no user cache dir resolvable: nothing there
        places.append(user_cache_sessions(ledger))
    for place in places:
        with contextlib.suppress(OSError):
            found.update(n for n in os.listdir(place) if n.startswith(base))
    found.update(n for n in remote_session_names(ledger) if n.startswith(base))
    return found


def free_name(base: str, taken: set[str]) -> str:
    """`base`, else `base-2`, `base-3`, ... : the first not in `taken`."""
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
