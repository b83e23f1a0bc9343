"""Installing ox's hooks into an agent's settings: one `AgentHooks` per adapter.

Each adapter plugin may offer one (entry-point group `ox.hooks`, named like its adapter),
saying which JSON file holds the agent's hooks (for the user, under `$HOME`, and for a
project) and which events to hook. The three agents ox knows share one file shape:

    {"hooks": {"SessionStart": [{"hooks": [{"type": "command", "command": "..."}]}], ...}}

Installing merges ox's entries into what is there (a user's own hooks are never touched),
is idempotent (an entry already there is not added twice, and the file is not rewritten),
writes atomically, and keeps the file as it was in `<file>.ox-backup` (empty when there was
no file). Uninstalling removes exactly the entries ox added; when what is left equals the
backup, the backup's bytes are put back as they were, so install + uninstall leaves the file
byte-identical (or absent, as before).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from ox_core.errors import OxError
from ox_core.fs import atomic_write, read_regular

MAX_SETTINGS = 4 * 1024 * 1024
BACKUP_SUFFIX = ".ox-backup"
HOOKS_GROUP = "ox.hooks"


class HooksError(OxError):
    """A settings file ox cannot merge into (not JSON, not an object, ...)."""


def ox_command() -> str:
    """How a hook calls `ox-core`: the absolute path of the `ox-core` next to this Python (an
    agent's PATH may not have it), else the one on PATH, else `ox-core`."""
    beside = Path(sys.executable).parent / "ox-core"
    if beside.is_file() and os.access(beside, os.X_OK):
        return shlex.quote(str(beside))
    found = shutil.which("ox-core")
    return shlex.quote(found) if found else "ox-core"


@attrs.frozen
class AgentHooks:
    """Where one agent keeps its hooks and which events ox hooks.

    `adapter`: the session adapter (and `ox-core hook` argument). `user_file` is relative to
    `$HOME`, `project_file` to a project folder. `home_dir`: the agent's folder under `$HOME`
    (its presence means the agent is installed for this user). `note`: what the user must
    still do in the agent, if anything (shown by `hooks status`).
    """

    adapter: str
    user_file: str
    project_file: str
    home_dir: str
    events: tuple[str, ...] = ("SessionStart", "SessionEnd")
    note: str = ""

    def command(self, event: str, ox: str | None = None) -> str:
        return f"{ox or ox_command()} hook {self.adapter} {event}"

    def path(self, *, home: Path | None = None, project: Path | None = None) -> Path:
        if project is not None:
            return project / self.project_file
        return (home or Path.home()) / self.user_file

    def installed_for_user(self, home: Path | None = None) -> bool:
        return ((home or Path.home()) / self.home_dir).is_dir()

    def _ours(self, hook: Any, event: str) -> bool:
        if not isinstance(hook, dict) or not isinstance(hook.get("command"), str):
            return False
        try:
            words = shlex.split(hook["command"])
        except ValueError:
            return False
        return words[-3:] == ["hook", self.adapter, event] and "ox-core" in words[0]

    def present(self, data: dict[str, Any]) -> dict[str, bool]:
        """Per event, whether ox's hook is in the settings `data`."""
        hooks = data.get("hooks")
        hooks = hooks if isinstance(hooks, dict) else {}
        return {
            event: any(
                self._ours(h, event)
                for entry in _list(hooks.get(event))
                if isinstance(entry, dict)
                for h in _list(entry.get("hooks"))
            )
            for event in self.events
        }

    def merged(self, data: dict[str, Any], ox: str | None = None) -> dict[str, Any]:
        """`data` with ox's hooks added where missing (a copy; `data` is not changed)."""
        out: dict[str, Any] = json.loads(json.dumps(data))
        present = self.present(out)
        if all(present.values()):
            return out
        hooks = out.setdefault("hooks", {})
        if not isinstance(hooks, dict):
            raise HooksError("its `hooks` is not a JSON object; fix it or remove it first")
        for event, there in present.items():
            if there:
                continue
            entries = hooks.setdefault(event, [])
            if not isinstance(entries, list):
                raise HooksError(f"its `hooks.{event}` is not a list; fix it or remove it first")
            entries.append({"hooks": [{"type": "command", "command": self.command(event, ox)}]})
        return out

    def removed(self, data: dict[str, Any]) -> dict[str, Any]:
        """`data` without ox's hooks (a copy); a list or table ox emptied goes too."""
        out: dict[str, Any] = json.loads(json.dumps(data))
        hooks = out.get("hooks")
        if not isinstance(hooks, dict):
            return out
        for event in self.events:
            entries = hooks.get(event)
            if not isinstance(entries, list):
                continue
            kept = []
            for entry in entries:
                if isinstance(entry, dict) and isinstance(entry.get("hooks"), list):
                    inner = [h for h in entry["hooks"] if not self._ours(h, event)]
                    if len(inner) != len(entry["hooks"]):
                        if not inner:
                            continue
                        entry = {**entry, "hooks": inner}
                kept.append(entry)
            if kept:
                hooks[event] = kept
            elif entries:
                del hooks[event]
        if not hooks and data.get("hooks"):
            del out["hooks"]
        return out


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _read(path: Path) -> tuple[bytes | None, dict[str, Any]]:
    """(the file's bytes or None when missing, its JSON object). `HooksError` otherwise."""
    try:
        raw = read_regular(path, MAX_SETTINGS)
    except FileNotFoundError:
        return None, {}
    except (OSError, OxError) as exc:
        raise HooksError(f"cannot read {path}: {exc}") from None
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        raise HooksError(f"{path} is not valid JSON ({exc}); ox leaves it alone") from None
    except RecursionError:  # the file is the agent's or the user's: never a traceback
        raise HooksError(f"{path} is JSON nested too deeply; ox leaves it alone") from None
    if not isinstance(data, dict):
        raise HooksError(f"{path} is not a JSON object; ox leaves it alone")
    return raw, data


def _write(path: Path, data: dict[str, Any], like: Path | None = None) -> None:
    mode = 0o600
    if like is not None:
        with contextlib.suppress(OSError):
            mode = os.stat(like).st_mode & 0o777
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    atomic_write(path, text.encode(), mode=mode)


@attrs.frozen
class Change:
    """What `install`/`uninstall` did to one file."""

    adapter: str
    path: Path
    changed: bool
    detail: str


@contextlib.contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Turn an `OSError` of writing `path` into a `HooksError`: a folder on the way may be a
    link to nowhere (a cloned project's `.claude`), a file, or read-only."""
    try:
        yield
    except OSError as exc:
        raise HooksError(f"cannot write {path}: {exc.strerror or exc}") from None


def install(agent: AgentHooks, path: Path, ox: str | None = None) -> Change:
    """Merge ox's hooks into `path`. Raises `HooksError` (the settings file unchanged)."""
    raw, data = _read(path)
    merged = agent.merged(data, ox)
    if merged == data:
        return Change(agent.adapter, path, False, "already installed")
    backup = Path(f"{path}{BACKUP_SUFFIX}")
    with _writing(path):
        if not backup.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(backup, raw or b"", mode=0o600)
        _write(path, merged, like=path if raw is not None else None)
    return Change(agent.adapter, path, True, f"installed (backup: {backup})")


def uninstall(agent: AgentHooks, path: Path) -> Change:
    """Remove ox's hooks from `path`, restoring the backup's exact bytes when nothing else
    changed since. Raises `HooksError` (nothing written)."""
    raw, data = _read(path)
    if raw is None:
        return Change(agent.adapter, path, False, "no settings file")
    left = agent.removed(data)
    backup = Path(f"{path}{BACKUP_SUFFIX}")
    try:
        before: bytes | None = read_regular(backup, MAX_SETTINGS)
    except (OSError, OxError):
        before = None
    if before is not None and _same(before, left):
        with _writing(path):
            if before:
                atomic_write(path, before, mode=os.stat(path).st_mode & 0o777)
            else:
                path.unlink()  # there was no file before ox made one
            backup.unlink()
        return Change(agent.adapter, path, True, "removed (the file is as it was before)")
    if left == data:
        return Change(agent.adapter, path, False, "not installed")
    with _writing(path):
        _write(path, left, like=path)
    return Change(agent.adapter, path, True, "removed")


def _same(before: bytes, data: dict[str, Any]) -> bool:
    if not before:
        return data == {}
    try:
        return bool(json.loads(before) == data)
    except (ValueError, RecursionError):  # a backup ox did not write as it is
        return False


def status(agent: AgentHooks, path: Path) -> dict[str, Any]:
    """Whether ox's hooks are in `path`, per event (`error` when it cannot be read)."""
    row: dict[str, Any] = {"adapter": agent.adapter, "file": str(path), "note": agent.note}
    try:
        _raw, data = _read(path)
    except HooksError as exc:
        return {**row, "installed": False, "events": {}, "error": str(exc)}
    events = agent.present(data)
    return {**row, "installed": all(events.values()), "events": events, "error": None}


# The agents ox knows (each is the `ox.hooks` entry point of its adapter).
claude_code = AgentHooks("claude-code", ".claude/settings.json", ".claude/settings.json", ".claude")
codex = AgentHooks(
    "codex",
    ".codex/hooks.json",
    ".codex/hooks.json",
    ".codex",
    note="codex runs a new hook only once it is trusted: open `/hooks` in codex and trust them",
)
gemini = AgentHooks("gemini", ".gemini/settings.json", ".gemini/settings.json", ".gemini")


def installers() -> dict[str, AgentHooks]:
    """The installed adapters' hook installers, by adapter name (entry points `ox.hooks`); one
    that fails to load is skipped with a warning."""
    import logging
    from importlib.metadata import entry_points

    found: dict[str, AgentHooks] = {}
    for ep in sorted(entry_points(group=HOOKS_GROUP), key=lambda e: e.name):
        try:
            obj = ep.load()
        except Exception as exc:
            logging.getLogger(__name__).warning("hooks of %s cannot be loaded: %s", ep.name, exc)
            continue
        if isinstance(obj, AgentHooks):
            found.setdefault(ep.name, obj)
    return found
