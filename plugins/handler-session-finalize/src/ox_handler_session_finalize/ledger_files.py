"""The files side of publishing: writing session folders, LFS attributes and uploads, undoing a
publish that failed before its commit. Used by `ledger.Ledger`; blocking helpers say so."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from ox_core.errors import LedgerBlockedError, OxError
from ox_handler_session_finalize.git import GitError, has_git_lfs
from ox_session_capture.records import RawHeaderMeta
from ox_session_capture.transcript import LFS_POINTER_PREFIX, classify_line

if TYPE_CHECKING:
    from ox_handler_session_finalize.ledger import Ledger, LedgerFacts

LFS_PATTERNS = ("sessions/**/raw.jsonl", "sessions/**/summary.md", "sessions/**/session.md")
LFS_ATTRS = "filter=lfs diff=lfs merge=lfs -text"
LFS_FILES = frozenset({"raw.jsonl", "summary.md", "session.md"})
LFS_POINTER = LFS_POINTER_PREFIX + b"\n"
MAX_NAME_BYTES = 255
BESIDE_TRIES = 4
"""How many names beside a teammate's folder `Ledger.publish` tries (see `beside_names`)."""
_HEX_TAG = re.compile(r"[0-9a-f]{8,64}")


class LfsUploadError(OxError):
    """Uploading a session's content to the LFS server failed; nothing was committed."""


def commit_message(names: Sequence[str]) -> str:
    """`finalize session <name>` for one session; for a batch, a subject counting them and
    that line for each in the body (so `git log --grep` finds every session)."""
    if len(names) == 1:
        return f"finalize session {names[0]}"
    body = "\n".join(f"finalize session {name}" for name in names)
    return f"finalize {len(names)} sessions\n\n{body}"


def beside(name: str, tag: str) -> str:
    """The folder name of a session kept beside another one of the same `name`:
    `<name>-<tag>`, the name cut (on a character) to fit a folder name. The one rule for
    both sides of a clash: the sync's rebase (`sync._keep_both`, `tag` the replayed commit)
    and a first publish (`beside_names`, `tag` from the recording's identity)."""
    room = MAX_NAME_BYTES - len(tag.encode()) - 1
    return f"{name.encode()[:room].decode('utf-8', 'ignore')}-{tag}"


def is_beside(name: str, folder: str) -> bool:
    """Whether `folder` is a name `beside` gives `name` with a hex tag: a tag of
    `beside_names`, or the commit of the sync's keep-both rule (8 digits or more)."""
    _, dash, tag = folder.rpartition("-")
    return bool(dash) and _HEX_TAG.fullmatch(tag) is not None and beside(name, tag) == folder


def recording_id(files: Mapping[str, bytes]) -> str:
    """The `_meta.session_id` of the header (first line) of `raw.jsonl` in `files`: what
    identifies one recording (`ses_<uuid7>`); empty without one."""
    return header_session_id(files.get("raw.jsonl", b""))


def header_session_id(raw: bytes) -> str:
    """`session_id` of the header (first line) of a `raw.jsonl` (`transcript.classify_line`);
    empty when it has none."""
    try:
        header = classify_line(json.loads(raw.split(b"\n", 1)[0]))
    except (ValueError, RecursionError):
        return ""
    return header.session_id if isinstance(header, RawHeaderMeta) else ""


def meta_session_id(meta: bytes) -> str:
    """`session_id` of a `meta.json`; empty when it has none."""
    try:
        data = json.loads(meta)
    except (ValueError, RecursionError):
        return ""
    sid = data.get("session_id") if isinstance(data, dict) else None
    return sid if isinstance(sid, str) else ""


def beside_names(name: str, files: Mapping[str, bytes]) -> list[str]:
    """The names a session published as `name` may take, in order: `name`, then
    `BESIDE_TRIES` names `beside` it whose tags come from the recording's identity (its
    session id, else its `raw.jsonl`, else all its files): the same session always tries the
    same names, so publishing it again finds the folder it took the first time."""
    sid = recording_id(files)
    if sid:
        seed = sid.encode()
    elif "raw.jsonl" in files:
        seed = files["raw.jsonl"]
    else:
        seed = b"\0".join(f.encode() + b"\0" + data for f, data in sorted(files.items()))
    digest = hashlib.sha256(seed).hexdigest()
    return [name, *(beside(name, digest[8 * i : 8 * i + 8]) for i in range(BESIDE_TRIES))]


def lfs_pointer_oid(blob: bytes) -> str:
    """The sha256 a git-LFS pointer names; empty when `blob` is not a pointer."""
    if not blob.startswith(LFS_POINTER):
        return ""
    for line in blob.splitlines():
        if line.startswith(b"oid sha256:"):
            return line.removeprefix(b"oid sha256:").strip().decode("ascii", "replace")
    return ""


def blob_ids(data: bytes, hex_len: int) -> frozenset[str]:
    """The git object ids `data` has when committed, plain or as its git-LFS pointer (what
    `git lfs` commits), in a repository whose ids have `hex_len` digits (40: SHA-1, 64:
    SHA-256). Blocking only for large data (hashing)."""
    algo = hashlib.sha256 if hex_len == 64 else hashlib.sha1
    pointer = (
        LFS_POINTER + f"oid sha256:{hashlib.sha256(data).hexdigest()}\nsize {len(data)}\n".encode()
    )
    return frozenset(algo(b"blob %d\0" % len(blob) + blob).hexdigest() for blob in (data, pointer))


def append_lines(path: Path, text: str, lines: Sequence[str], mode: int = 0o644) -> None:
    """Write `text` (the file's content as read) with `lines` added at its end, atomically
    (never through a link). Blocking."""
    from ox_session_capture.records import atomic_write_bytes

    if text and not text.endswith("\n"):
        text += "\n"
    atomic_write_bytes(path, (text + "".join(f"{line}\n" for line in lines)).encode(), mode)


SESSION_ATTRIBUTES = "sessions/** merge -text -eol -ident -working-tree-encoding"
"""The line of `.git/info/attributes` (which outranks every `.gitattributes`) for session
files: git's own 3-way merge, and their bytes as they are. A teammate's committed
`.gitattributes` would otherwise settle a conflict of two sessions of one name by mixing
their lines (`merge=union`, where ox keeps both), make every `git add` of a session fail
(`working-tree-encoding`), or rewrite sessions in the work tree (`ident`, `eol=crlf`).
LFS's `filter` is left to `.gitattributes`."""


def pin_session_attributes(git_dir: Path) -> None:
    """Add `SESSION_ATTRIBUTES` to the repository's own attributes when it is not their last
    word. `LedgerBlockedError` when that cannot be done (a link or a special file there is
    never followed): publishing waits rather than run without it. Blocking."""
    from ox_session_capture.confined import UnsafePathError, make_dirs, read_regular

    try:
        # Git reads `info/attributes` of the common git dir: in a linked worktree (its `.git`
        # a file) the worktree's own git dir holds a `commondir` naming it.
        try:
            common = os.fsdecode(read_regular(git_dir / "commondir", 4096)).strip()
        except FileNotFoundError:
            common = ""
        if common:
            git_dir = Path(os.path.normpath(git_dir / common))
        # A ledger moved or removed: `make_dirs` never makes its missing root (a ghost).
        path = make_dirs(git_dir, git_dir / "info") / "attributes"
        try:
            text = read_regular(path, 1024 * 1024).decode("utf-8", "replace")
        except FileNotFoundError:
            text = ""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if lines[-1:] == [SESSION_ATTRIBUTES]:
            return
        append_lines(path, text, [SESSION_ATTRIBUTES])
    except (OSError, UnsafePathError) as exc:
        raise LedgerBlockedError(
            f"cannot add ox's line for session files to {git_dir / 'info' / 'attributes'} "
            f"({exc}): make it a regular file"
        ) from None


def read_attributes(ledger: Path) -> str:
    """`.gitattributes`, never through a link (a teammate's link to a private file would
    otherwise be read, and appended to by `prepare_lfs`): `LedgerBlockedError` then.
    Blocking (one small read)."""
    from ox_session_capture.confined import UnsafePathError, read_regular

    try:
        data = read_regular(ledger / ".gitattributes", 1024 * 1024)
    except UnsafePathError as exc:
        raise LedgerBlockedError(f"the ledger's {exc}") from None
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise LedgerBlockedError(f"cannot read the ledger's .gitattributes: {exc}") from None
    return data.decode("utf-8", "replace")


def write_folders(
    ledger: Path, sessions: Sequence[tuple[str, Mapping[str, bytes]]]
) -> dict[str, BaseException]:
    """Write each `(name, files)` into `sessions/<name>/` (see `write_folder`); the error of
    each session that could not be written, by name (the others are written). Blocking."""
    from ox_session_capture.confined import UnsafePathError

    errors: dict[str, BaseException] = {}
    for name, files in sessions:
        try:
            write_folder(ledger, ledger / "sessions" / name, files)
        except (OSError, UnsafePathError) as exc:
            errors[name] = exc
    return errors


def write_folder(ledger: Path, folder: Path, files: Mapping[str, bytes]) -> None:
    """Make `folder` (below `ledger`) hold exactly `files` (atomic per file; others' stray
    files, links and sub-folders removed, never followed). Raises `UnsafePathError` when
    `sessions/` or the folder is a link or a file (a teammate's link would send the writes
    elsewhere). A sub-folder goes whatever its name: a teammate's gitlink is checked out as an
    empty one, on which `git commit -- <folder>` fails (for every session of the batch)."""
    from ox_session_capture.confined import UnsafePathError, make_dirs, read_regular
    from ox_session_capture.records import atomic_write_bytes

    make_dirs(ledger, folder, 0o755)
    for fname, data in files.items():
        target = folder / fname
        try:
            if read_regular(target) == data:
                continue
        except (OSError, UnsafePathError):
            pass
        atomic_write_bytes(target, data, 0o644)
    with os.scandir(folder) as it:
        for entry in it:
            if entry.name in files:
                continue
            if entry.is_dir(follow_symlinks=False):
                _remove_tree(Path(entry.path))
            elif entry.name.startswith("."):
                continue
            elif entry.is_symlink() or entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)


_IGNORED = "The following paths are ignored by one of your .gitignore files:"


async def add_all(ledger: Ledger, paths: Sequence[str]) -> None:
    """`git add -A` of `paths`. A folder an ignore rule matches whole (a teammate's
    `sessions/*-dev-*`) makes git exit 1 ("The following paths are ignored") once it added
    the others: not a failure of the batch (every session in it would fail, at every retry);
    `Ledger.publish` adds our files there by name, forced. `GitError` for anything else."""
    added = await ledger.git("--literal-pathspecs", "add", "-A", "--", *paths, check=False)
    if added.ok:
        return
    lines = [line for line in added.stderr.splitlines() if line.strip()]
    only_ignored = lines[:1] == [_IGNORED] and not any(
        line.startswith(("fatal:", "error:", "warning:")) for line in lines[1:]
    )
    if not only_ignored:
        raise GitError(added.failure(), returncode=added.returncode, stderr=added.stderr)


async def restore_paths(ledger: Ledger, paths: Sequence[str], facts: LedgerFacts) -> None:
    """Undo a publish that failed before its commit: unstage `paths`, and put each back as
    HEAD has it (or remove it when HEAD has none). LFS content comes from the clone's LFS
    store or the endpoint its own git config names, never one only a teammate's `.lfsconfig`
    names (`LedgerFacts.smudge_options`, `smudge_env`). Not smudging at all would leave the
    user's own sessions as pointers, which detection never summarises again."""
    # Literal pathspecs (see `git`): `sessions/dev[1]` would also reset, check out and clean
    # the user's `sessions/dev1`.
    literal = "--literal-pathspecs"
    await ledger.git(literal, "reset", "-q", "--", *paths, check=False)
    # NUL-separated: a line-separated listing quotes a name that is not plain ASCII (a
    # session of `josé`), which then matched no path, and the folder HEAD holds was deleted.
    listed = await ledger.git(
        literal, "ls-tree", "-z", "--name-only", "HEAD", "--", *paths, check=False
    )
    in_head = set(listed.stdout.split("\0")) if listed.ok else set()
    for rel in paths:
        if rel in in_head:
            await ledger.git(
                *facts.smudge_options, literal, "checkout", "-q", "HEAD", "--", rel,
                env=facts.smudge_env, check=False,
            )  # fmt: skip
            await ledger.git(literal, "clean", "-fdq", "--", rel, check=False)
        elif rel.startswith("sessions/"):
            await trio.to_thread.run_sync(_remove_tree, ledger.path / rel)
        elif rel == ".gitattributes":
            # HEAD has none: `prepare_lfs` wrote it whole (never over a person's file).
            await trio.to_thread.run_sync(_remove_file, ledger.path / rel)


def _remove_file(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        if os.path.isfile(path) and not os.path.islink(path):
            os.unlink(path)


def _remove_tree(folder: Path) -> None:
    # `rmtree` never follows a link inside (it works by fd where the platform allows).
    shutil.rmtree(folder, ignore_errors=True)


async def prepare_lfs(ledger: Ledger) -> list[str]:
    """Install the LFS filters locally and route content files through LFS; returns the
    paths to add with the sessions (`.gitattributes` when it changed)."""
    if not has_git_lfs():
        raise LfsUploadError("the ledger uses git-LFS but `git lfs` is not installed")
    if not (await ledger.git("config", "--get", "filter.lfs.clean", check=False)).stdout.strip():
        # The filters only: a push runs git-lfs' upload hook from ox's own folder (`git`).
        await ledger.git("lfs", "install", "--local", "--skip-repo")
    try:
        text = read_attributes(ledger.path)
    except FileNotFoundError:
        text = ""
    present = {line.split()[0] for line in text.splitlines() if line.strip()}
    missing = [p for p in LFS_PATTERNS if p not in present]
    if not missing:
        return []
    # The file is committed whole and, when the publish fails, put back as HEAD has it: only
    # one as HEAD has it is written (a person's uncommitted edit is neither committed by ox
    # nor lost; a file HEAD lacks is then ox's alone, which the undo removes).
    listed = await ledger.git("ls-files", "-z", "--", ".gitattributes")
    if listed.stdout:
        differs = await ledger.git("diff", "--quiet", "HEAD", "--", ".gitattributes", check=False)
        edited = not differs.ok
    else:
        edited = bool(text)
    if edited:
        raise LedgerBlockedError(
            f"the ledger's .gitattributes has changes that are not committed, and ox must add "
            f"its LFS lines to it: commit or undo them (cd {ledger.path} && git diff HEAD -- "
            ".gitattributes); sessions wait in the cache meanwhile"
        )
    append_lines(ledger.path / ".gitattributes", text, [f"{p} {LFS_ATTRS}" for p in missing])
    return [".gitattributes"]


async def upload_lfs(
    ledger: Ledger, facts: LedgerFacts, batch: Sequence[Mapping[str, bytes]]
) -> None:
    """Upload the content files of a batch to the remote's LFS server in one `git lfs push`
    (to the ledger's own endpoint: `LedgerFacts.lfs_pin`); `LfsUploadError` when it fails
    (nothing is committed then)."""
    oids = sorted(
        {
            hashlib.sha256(data).hexdigest()
            for files in batch
            for fname, data in files.items()
            if fname in LFS_FILES
        }
    )
    if not oids:
        return
    assert facts.remote is not None
    pushed = ("lfs", "push", "--object-id", facts.remote, *oids)
    result = await ledger.transfer(*facts.lfs_pin, *pushed)
    if not result.ok:
        raise LfsUploadError(f"LFS upload failed, session deferred: {result.failure()}")
