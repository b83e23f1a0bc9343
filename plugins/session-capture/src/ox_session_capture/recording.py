"""Creating and stopping a tail recording, usable without a running daemon.

`create_recording` makes the session folder in the ledger cache with the `raw.jsonl` header
and the marker (`watch_mode: tail`, `start_offset` = the source's current size, so what the
agent wrote before is not captured). Finding the live recording of a file and creating one
happen under `creation_lock`, across processes: two hooks of one session (or a hook and a
`session watch`, in the daemon or in a CLI without one) never make two recordings of it.

`stop_recording` catches the recording up with the file, then sets `stopped_at`, drains what
the agent wrote since, writes a footer (with the `model` and `agent_version` the adapter saw)
and removes the marker — all under the raw file's lock, inside the creation lock (a start hook
of the agent session never finds it half stopped).
"""

from __future__ import annotations

import contextlib
import getpass
import json
import logging
import os
import re
import shutil
import stat
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path, PurePath

import attrs

from ox_core.errors import OxError
from ox_core.fs import LockTimeout
from ox_core.fs import lock_file as fs_lock_file
from ox_core.ids import uuid7
from ox_core.paths import home_dir as user_home
from ox_session_capture.adapters import AdapterError, SessionAdapter, load_adapter
from ox_session_capture.commit_slots import SLOTS, open_slots
from ox_session_capture.confined import (
    UnsafePathError,
    check_dirs,
    check_owner,
    make_dirs,
    open_regular,
)
from ox_session_capture.identity import add_part, free_name, note_part_stopped, taken_names
from ox_session_capture.journal import (
    committed_size,
    set_committed,
    settle_locked,
    uncommitted_cut,
    write_durably,
)
from ox_session_capture.liveness import name_agent
from ox_session_capture.raw_lines import (
    SESSION_INFO_KEYS,
    UNKNOWN_KEY,
    Redactor,
    fingerprint,
    ledger_of,
    merge_counts,
)
from ox_session_capture.records import (
    MARKER,
    PRIOR_IDS,
    RAW,
    RawFooter,
    RawHeader,
    RawHeaderMeta,
    RecordError,
    RecordingMarker,
    atomic_write_bytes,
    atomic_write_model,
    dump_line,
    fsync_dir,
    ledger_cache_sessions,
    lock_file,
    now_utc,
    read_marker,
    remove_marker,
    session_name,
    update_marker,
)
from ox_session_capture.recover import catch_up_tail, drain
from ox_session_capture.redact import make_redactor
from ox_session_capture.tail import SourceTail, WriteFailed

log = logging.getLogger(__name__)


class RecordingRejected(OxError):
    """A recording or watch request that cannot be honoured (the message says why)."""


CREATION_LOCK = ".recordings.lock"
"""In `<ledger>/.ox/cache/`: held while deciding which recording a file or an agent session
goes to and creating it."""
CREATION_LOCK_TIMEOUT = 60.0
"""Seconds a creation waits for another one (which scans the ledger's recordings and may ask
git for the remote's session names, each bounded): then it is refused, never left hanging."""


@contextlib.contextmanager
def creation_lock(ledger: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the ledger's creation lock (an flock: across processes, and across threads of one
    process). Not re-entrant: under it, call `create_recording(..., locked=True)`. Raises
    `RecordingRejected` when the cache cannot hold the lock file (a link or a file on the way)
    or the lock is not free within `timeout` seconds (default `CREATION_LOCK_TIMEOUT`)."""
    wait = CREATION_LOCK_TIMEOUT if timeout is None else timeout
    try:
        folder = make_dirs(ledger, ledger / ".ox" / "cache")  # refuses a link on the way
        with fs_lock_file(folder / CREATION_LOCK, timeout=wait):
            yield
    except LockTimeout as exc:
        raise RecordingRejected(f"cannot record now: {exc}") from None
    except UnsafePathError as exc:
        raise RecordingRejected(f"cannot record in {ledger}: {exc}") from None
    except OSError as exc:  # a read-only ledger, `.ox` a file, a full disk
        where = exc.filename or ledger
        raise RecordingRejected(f"cannot record into {where}: {exc.strerror}") from None


@contextlib.contextmanager
def creation_lock_of(session_dir: Path, timeout: float | None = None) -> Iterator[None]:
    """`creation_lock` of the ledger whose cache holds `session_dir`; nothing for a folder
    elsewhere (a per-user cache of an older setup, which no hook records into)."""
    ledger = ledger_of(session_dir)
    with contextlib.nullcontext() if ledger is None else creation_lock(ledger, timeout):
        yield


@attrs.frozen
class Recording:
    """A recording's name and folder (`<ledger>/.ox/cache/sessions/<name>`)."""

    name: str
    session_dir: Path
    start_offset: int = attrs.field(default=0, eq=False)
    """The byte of the agent's file the recording starts at (0: from its first byte)."""
    continued: bool = attrs.field(default=False, eq=False)
    """True when an existing live recording was returned (the agent resumed into it)."""


def resolve_adapter(name: str) -> SessionAdapter:
    """The adapter called `name`; `RecordingRejected` when none is installed under it."""
    try:
        return load_adapter(name)
    except AdapterError as exc:
        raise RecordingRejected(str(exc)) from exc


def check_source(
    adapter: SessionAdapter, session_file: str | Path, home: Path | None = None
) -> Path:
    """The resolved path of `session_file` once it passes the watcher's rules.

    Rejects (`RecordingRejected`) a relative path, a path that, after resolving symlinks,
    is not under one of the adapter's roots in `$HOME` (read at call time; `home` overrides),
    a file that exists but is not a regular file (a FIFO would block its reader, a device
    never ends), and one another user owns (linked or put there: no session of this user's
    agent). A missing file is accepted: the agent may create it later.
    """
    path = Path(session_file)
    if "\x00" in str(path):
        raise RecordingRejected("session file path holds a NUL byte")
    if not path.is_absolute():
        raise RecordingRejected(f"session file must be an absolute path, got {str(path)!r}")
    home = home if home is not None else Path(user_home())
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise RecordingRejected(f"cannot resolve {path}: {exc}") from None
    except ValueError:  # a lone surrogate that is no file system byte
        resolved = path
    # The records name the file in JSON, which holds UTF-8 text only (a name of other bytes
    # comes as `\udcXX` escapes; no agent makes one).
    if not _is_utf8(str(path)) or not _is_utf8(str(resolved)):
        raise RecordingRejected(f"session file path {str(path)!r} is not valid UTF-8 text")
    roots = [(home / root).resolve() for root in agent_folders(adapter)]
    if not any(resolved.is_relative_to(root) for root in roots):
        where = ", ".join(str(r) for r in roots)
        raise RecordingRejected(f"{path} is not under the {adapter.name} session folders ({where})")
    try:
        st = os.lstat(resolved)
    except FileNotFoundError:
        return resolved
    except OSError as exc:
        raise RecordingRejected(f"cannot read {path}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a FIFO" if stat.S_ISFIFO(st.st_mode) else "not a regular file"
        raise RecordingRejected(f"session file {path} is {kind}; refused")
    try:
        check_owner(st, path)
    except UnsafePathError as exc:
        raise RecordingRejected(str(exc)) from None
    return resolved


def agent_folders(adapter: SessionAdapter) -> list[str]:
    """The adapter's `roots` that name a folder inside `$HOME`: a third party's adapter may
    name `/`, `..`, `$HOME` itself (`""`, `.`) or an absolute folder, and each would admit
    files that are no session of the user's agent. Those are left out (and logged)."""
    roots = getattr(adapter, "roots", ())
    roots = (roots,) if isinstance(roots, str) else roots
    kept: list[str] = []
    for root in roots if isinstance(roots, tuple | list) else ():
        if _inside_home(root):
            kept.append(root)
        else:
            log.warning("adapter %s: root %r is no folder inside $HOME; ignored",
                        adapter.name, root)  # fmt: skip
    return kept


def _inside_home(root: object) -> bool:
    if not isinstance(root, str) or "\x00" in root:
        return False
    path = PurePath(root)
    return bool(path.parts) and not path.is_absolute() and ".." not in path.parts


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _clean_id(value: str) -> str:
    return "".join(c for c in value if c.isalnum()) or value


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def agent_session_id_of(session_file: Path) -> str:
    """The agent's own session id from its file name (the UUID in it, else the stem)."""
    match = _UUID.search(session_file.stem)
    return match.group(0) if match else session_file.stem


def _find_active(cache: Path, session_file: Path) -> Recording | None:
    if not cache.is_dir():
        return None
    for folder in sorted(cache.iterdir()):
        try:
            marker = read_marker(folder)
        except (FileNotFoundError, NotADirectoryError, RecordError):
            continue
        if marker.stopped_at is None and marker.session_file == str(session_file):
            return Recording(folder.name, folder)
    return None


@attrs.frozen
class PartOf:
    """Where a new recording stands in its agent session (see `identity`): start at byte
    `offset` of the agent's file (None: at its current end; an offset past the end counts as
    the end), the part it continues from and the agent message ids the earlier parts hold
    (not captured again)."""

    offset: int | None = None
    previous_part: str = ""
    prior_source_ids: frozenset[str] = frozenset()
    pid_start: int | None = None
    """The agent process's start time (clock ticks since boot), kept as `parent_start`."""


def create_recording(
    ledger: Path,
    adapter: str,
    session_file: str | Path,
    *,
    pid: int | None = None,
    agent_id: str | None = None,
    agent_session_id: str | None = None,
    part: PartOf | None = None,
    username: str | None = None,
    workspace_path: str = "",
    home: Path | None = None,
    now: datetime | None = None,
    locked: bool = False,
) -> Recording:
    """Create the recording of `session_file` in the ledger cache (or return the live one that
    already records that file: idempotent, across processes: see `creation_lock`).

    `pid`: the agent's process (`parent_pid`); None means this process's parent.
    `agent_session_id`: the agent's own session id (default: the UUID in the file name).
    `agent_id` defaults to its first 8 characters. `part`: where the recording starts (default:
    at the file's current end). The name is one no folder of the ledger (cache, committed,
    remote) has (`identity.taken_names`). `locked`: the caller holds `creation_lock(ledger)`
    (and decided under it, e.g. that the agent session has no live part). Raises
    `RecordingRejected` for an unknown adapter or a path the watcher would reject. Blocking.
    """
    impl = resolve_adapter(adapter)
    source = check_source(impl, session_file, home)
    cache = ledger_cache_sessions(ledger)
    try:
        check_dirs(ledger, cache, missing_ok=True)
    except UnsafePathError as exc:
        raise RecordingRejected(f"cannot record {source}: {exc}") from None
    # Checked before the lock: a refused request makes no folder.
    with contextlib.nullcontext() if locked else creation_lock(ledger):
        existing = _find_active(cache, source)
        if existing is not None:
            return attrs.evolve(existing, continued=True)
        started = now or now_utc()
        agent_session_id = agent_session_id or agent_session_id_of(source)
        agent_id = agent_id if agent_id is not None else _clean_id(agent_session_id)[:8]
        if username is None:
            try:
                username = getpass.getuser()
            except (KeyError, OSError):
                username = ""
        # A `$USER` that is not UTF-8 comes as lone surrogates, which no record can hold.
        username = username.encode("utf-8", "replace").decode("utf-8")
        base = session_name(started, username, agent_id)
        try:
            return _create(ledger, cache, base, impl, source, started, agent_id,
                           agent_session_id, username, pid, workspace_path,
                           part or PartOf())  # fmt: skip
        except UnsafePathError as exc:
            raise RecordingRejected(f"cannot record {source}: {exc}") from None
        except OSError as exc:  # a read-only ledger, `.ox/cache` a file, a full disk
            where = exc.filename or cache
            raise RecordingRejected(f"cannot record into {where}: {exc.strerror}") from None


def _create(
    ledger: Path,
    cache: Path,
    base: str,
    impl: SessionAdapter,
    source: Path,
    started: datetime,
    agent_id: str,
    agent_session_id: str,
    username: str,
    pid: int | None,
    workspace_path: str,
    part: PartOf,
) -> Recording:
    make_dirs(ledger, cache)  # refuses a link or a file at `.ox`, `.ox/cache`, `sessions`
    taken = taken_names(ledger, base)
    for _ in range(1000):
        name = free_name(base, taken)
        try:
            (cache / name).mkdir(mode=0o700)
            break
        except FileExistsError:  # made meanwhile by another recording
            taken.add(name)
    else:
        raise RecordingRejected(f"too many recordings named {base} in {cache}")
    session_dir = cache / name
    try:
        header = RawHeader(
            meta=RawHeaderMeta(
                agent_id=agent_id,
                agent_type=impl.name,
                session_id=f"ses_{uuid7()}",
                started_at=started,
                username=username,
            )
        )
        # The agent session this recording is a part of, and the part before it: published with
        # the raw file, so a resumed session's parts stay linked in the ledger.
        header.meta.agent_session_id = agent_session_id  # type: ignore[attr-defined]  # extra key
        if part.previous_part:
            header.meta.previous_part = part.previous_part  # type: ignore[attr-defined]
        header_line = dump_line(header)
        atomic_write_bytes(session_dir / RAW, header_line)
        marker = RecordingMarker(
            agent_id=agent_id,
            session_id=header.meta.session_id,
            agent_session_id=agent_session_id,
            started_at=started,
            adapter_name=impl.name,
            session_file=str(source),
            session_path=str(session_dir),
            watch_mode="tail",
            workspace_path=workspace_path,
        )
        name_agent(marker, os.getppid() if pid is None else pid)
        if part.previous_part:
            marker.previous_part = part.previous_part  # type: ignore[attr-defined]  # extra key
        if part.pid_start is not None:
            marker.parent_start = part.pid_start  # type: ignore[attr-defined]
        if part.prior_source_ids:
            # Beside the marker, not in it: every whole-marker write would copy them.
            atomic_write_bytes(
                session_dir / PRIOR_IDS, json.dumps(sorted(part.prior_source_ids)).encode()
            )
        with contextlib.suppress(FileNotFoundError):
            # Never blocks (a FIFO put there since `check_source` is refused, not opened),
            # never takes a terminal reached through a folder swapped since (`fs._OPEN_FLAGS`).
            fd = open_regular(source)
            try:
                st = os.fstat(fd)
                offset = st.st_size if part.offset is None else min(part.offset, st.st_size)
                marker.start_offset = marker.source_offset = offset
                marker.source_inode = st.st_ino  # type: ignore[attr-defined]  # extra key
                marker.source_fingerprint = fingerprint(fd, offset)  # type: ignore[attr-defined]
            finally:
                os.close(fd)
        set_committed(marker, len(header_line))  # docs/capture-journal.md
        with lock_file(session_dir / MARKER):
            atomic_write_model(session_dir / MARKER, marker)
    except BaseException:
        # Nothing records into a folder without its marker (a full disk, a refused write):
        # the refused request leaves none behind.
        if not os.path.lexists(session_dir / MARKER):
            shutil.rmtree(session_dir, ignore_errors=True)
        raise
    # Made now, not by the first step in the capture loop; if it cannot be (a folder put
    # there), the steps journal instead (`append_committed`) and the recording still starts.
    with contextlib.suppress(OSError, UnsafePathError):
        os.close(open_slots(session_dir / SLOTS))
    add_part(ledger, impl.name, agent_session_id, name)
    log.info("recording %s of %s started at offset %d", name, source, marker.start_offset)
    return Recording(name, session_dir, marker.start_offset)


@attrs.frozen
class StopResult:
    name: str
    entry_count: int
    drained: int
    """The entries the stop recorded (what no step had: its catch-up and its drain)."""


def stop_recording(
    session_dir: Path,
    *,
    redact: Redactor | None = None,
    lock_timeout: float | None = None,
    home: Path | None = None,
) -> StopResult:
    """Stop the recording in `session_dir`: catch it up (`catch_up_before_stop`; `home`
    overrides `$HOME` for the adapter's folders), then under the raw file's lock, settle a
    crash journal, set `stopped_at`, drain the complete lines in the source, append a footer
    (`closed_at`, `stopped_at`, `entry_count`) and remove the marker; then note in the agent
    session's index where it stopped. All of it under the ledger's `creation_lock`, so a start
    hook of the agent session decides before the stop or after it, never in between.

    Stop the live watcher first (`SessionWatcherManager.stop_watch`). Raises
    `RecordingRejected` when there is no such recording (or the creation lock stays taken),
    `LockTimeout`, `JournalError`. A missing or unreadable source only means nothing more is
    drained; a recording that cannot take the drained lines or the footer (a full disk, an
    I/O error) raises and stays stopped, with its marker: the next stop, or finalization's
    catch-up, finishes it. Blocking.
    """
    early = catch_up_before_stop(session_dir, redact, home, lock_timeout)
    # From `stopped_at` until the index says where this part stopped, a start hook would find
    # no live part and begin the next one at the file's end (or in the file the hook names):
    # what the agent wrote since the drain would be lost. Taken before the raw file's lock, as
    # finalization's `end_recording` does.
    with creation_lock_of(session_dir):
        result = _stop(session_dir, redact, lock_timeout, early)
    return attrs.evolve(result, drained=early.entries + result.drained)


@attrs.frozen
class CaughtUp:
    """What `catch_up_before_stop` recorded, and the tail that did it (None when it failed):
    the stop steps on with it when nothing else wrote the recording in between, instead of
    reading `raw.jsonl` again for the ids it holds (0.4 s for 100 MB, under the ledger's
    creation lock)."""

    entries: int = 0
    tail: SourceTail | None = None


def catch_up_before_stop(
    session_dir: Path,
    redact: Redactor | None,
    home: Path | None = None,
    lock_timeout: float | None = None,
) -> CaughtUp:
    """Record what the live recording in `session_dir` has not yet taken from its agent's file,
    before its stop takes the ledger's creation lock. Every hook's start and every stop of
    the ledger waits for that lock: a backlog drained under it (100 MB takes seconds) would
    hold other agent sessions' hooks, inside their agents' time budgets. The stop then drains
    only what the agent wrote meanwhile. The recording stays live throughout, as under its
    watcher's steps. A failure is left to the stop, which meets it again and reports it.
    Blocking."""
    try:
        done, tail = catch_up_tail(session_dir, lock_timeout=lock_timeout, redact=redact, home=home)
    except Exception as exc:  # the stop's own drain says what went wrong
        log.debug("%s: not caught up before its stop: %s", session_dir.name, exc)
        return CaughtUp()
    return CaughtUp(done.entries, tail)


def finish_stop(
    session_dir: Path, redact: Redactor | None = None, early: CaughtUp | None = None
) -> StopResult:
    """`stop_recording` for a caller holding the ledger's creation lock (a start hook finishing
    a part whose stop failed before it begins the next one; the daemon deciding a stop under
    it, `early` its `catch_up_before_stop`)."""
    return _stop(session_dir, redact, None, early)


def _stop(
    session_dir: Path,
    redact: Redactor | None,
    lock_timeout: float | None,
    early: CaughtUp | None = None,
) -> StopResult:
    """`stop_recording`, for a caller holding the ledger's creation lock."""
    raw = session_dir / RAW
    if not (session_dir / MARKER).is_file():
        raise RecordingRejected(f"no live recording named {session_dir.name!r}")
    if redact is None:
        redact = make_redactor(ledger_of(session_dir))
    with lock_file(raw, lock_timeout):
        settle_locked(session_dir)
        try:
            marker = read_marker(session_dir)
        except FileNotFoundError:
            raise RecordingRejected(f"no live recording named {session_dir.name!r}") from None
        except RecordError as exc:
            raise RecordingRejected(f"cannot stop {session_dir.name}: {exc}") from exc
        # The footer of an earlier stop that did not end (it died before removing the marker)
        # is cut off: the drain would append after it. This stop writes the footer again.
        uncommitted_cut(raw, marker, keep_footer=False)
        stopped = marker.stopped_at or now_utc()

        def set_stopped(m: RecordingMarker) -> None:
            m.stopped_at = stopped

        update_marker(session_dir, set_stopped)
        drained = 0
        # The ids the part holds, as its tail read them (a second read of a 100 MB raw file
        # took 0.4 s more under the ledger's creation lock, which every other hook waits on).
        ids: set[str] | None = None
        tail = early.tail if early is not None else None
        if tail is not None and not tail.holds_at(marker):
            tail = None  # another writer went on meanwhile: read the recording again
        try:
            adapter = tail.adapter if tail is not None else load_adapter(marker.adapter_name)
        except AdapterError as exc:
            log.error("%s: cannot drain: %s", session_dir.name, exc)
        else:
            if tail is None:
                tail = SourceTail(
                    session_dir, adapter, Path(marker.session_file), redact=redact, lock_held=True
                )
                tail.resume()
            try:
                drained = drain(tail).entries
            except WriteFailed:
                # The recording could not take the lines (a full disk): closing it now would
                # lose them. It stays stopped; the next stop or finalization's catch-up drains
                # them (the failed batch's bytes are cut off first).
                raise
            except (OSError, UnsafePathError) as exc:  # the source: nothing more to drain
                log.error("%s: drain stopped: %s", session_dir.name, exc)
            ids = tail.seen
        final = read_marker(session_dir)
        footer = RawFooter(closed_at=now_utc(), stopped_at=stopped, entry_count=final.entry_count)
        for key in SESSION_INFO_KEYS:  # the model and agent version seen in the source
            value = (final.model_extra or {}).get(key)
            if isinstance(value, str) and value:
                setattr(footer, key, value)
        unknown = merge_counts((final.model_extra or {}).get(UNKNOWN_KEY), {})
        if unknown:
            setattr(footer, UNKNOWN_KEY, unknown)
        fd = open_regular(raw, os.O_WRONLY | os.O_APPEND)
        try:
            # After the committed entries: bytes past them are the footer of an earlier stop
            # that failed (torn by a full disk) or was cut off before the marker's removal.
            committed = committed_size(final)
            if committed is not None and os.fstat(fd).st_size > committed:
                os.ftruncate(fd, committed)
            write_durably(fd, dump_line(footer))  # whole, or an error: the marker stays
        finally:
            os.close(fd)
        remove_marker(session_dir)
        fsync_dir(session_dir)
    note_part_stopped(session_dir, final, ids)
    log.info("recording %s stopped with %d entries", session_dir.name, final.entry_count)
    return StopResult(session_dir.name, final.entry_count, drained)
