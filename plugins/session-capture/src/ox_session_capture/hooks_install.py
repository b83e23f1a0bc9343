"""Installing ox's hooks into an agent's settings: one `AgentHooks` per adapter.

Each adapter plugin may offer one (entry-point group `ox.hooks`, named like its adapter),
saying which JSON file holds the agent's hooks (for the user, under `$HOME`, and for a
project) and which events to hook. The three agents ox knows share one file shape:

    {"hooks": {"SessionStart": [{"hooks": [{"type": "command", "command": "..."}]}], ...}}

Installing merges ox's entries into what is there (a user's own hooks are never touched),
is idempotent (an entry already there is not added twice, and the file is not rewritten),
writes atomically, and keeps the file as it was in `<file>.ox-backup` (empty when there was
no file). The agent or the user's editor may write the file while ox merges: ox rewrites it
by compare-and-swap (`settings_file`) and merges again from what is there when it changed.
The user's own settings may be links into a dotfiles repository: the file they lead to is
edited where it is (its backup beside it), and the links stay; a project's links are
refused. A project's hooks run `ox-core` from the agent's PATH (the file is shared), the
user's own the absolute path of this `ox-core`. A file ox cannot rewrite without losing
something (not UTF-8, a byte-order mark, comments, a key given twice, not JSON) is left
alone with one clear error.

Uninstalling removes exactly the entries ox added; when what is left equals the backup, the
backup's bytes are put back as they were, so install + uninstall leaves the file
byte-identical (or absent, as before).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from ox_core.fs import atomic_write
from ox_core.paths import home_dir as user_home
from ox_session_capture import settings_file
from ox_session_capture.settings_file import HooksError as HooksError

BACKUP_SUFFIX = ".ox-backup"
HOOKS_GROUP = "ox.hooks"
TRIES = 5  # merges of a file that changes under ox before it gives up


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
        return (home or Path(user_home())) / self.user_file

    def installed_for_user(self, home: Path | None = None) -> bool:
        return ((home or Path(user_home())) / self.home_dir).is_dir()

    def _ours(self, hook: Any, event: str) -> bool:
        return self._ox_word(hook, event) is not None

    def _ox_word(self, hook: Any, event: str) -> str | None:
        """The `ox-core` that `hook` (an entry of a settings file's hook list) runs as ox's
        hook of `event`, or None when it is no hook of ox's. A hook edited by hand is still
        ox's (or every install would add another beside it): variables set before it, `env`,
        redirections, and around it only a guard (`[ -x … ] &&`, `test …`) or `|| true`,
        `; exit 0`. A command that also runs another program (`./warm-cache.sh && ox-core
        hook …`) is the user's: uninstall never takes their program with it, and install adds
        ox's own beside it."""
        command = hook.get("command") if isinstance(hook, dict) else None
        segments = _segments(command) if isinstance(command, str) else None
        if segments is None:
            return None
        tail = ["hook", self.adapter, event]
        found: str | None = None
        for segment in segments:
            words = _command_words(segment)
            if len(words) == 4 and "ox-core" in words[0] and words[1:] == tail and not found:
                found = words[0]
            elif not _harmless(words):
                return None
        return found

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

    def gone(self, data: dict[str, Any]) -> list[str]:
        """The `ox-core`s that ox's hooks in the settings `data` run and that are no
        executable file any more (`_gone`), for the events with no other hook of ox's that works
        (the agent runs a missing command: nothing is recorded)."""
        hooks = data.get("hooks")
        hooks = hooks if isinstance(hooks, dict) else {}
        found: list[str] = []
        for event in self.events:
            ours = [
                exe
                for entry in _list(hooks.get(event))
                if isinstance(entry, dict)
                for h in _list(entry.get("hooks"))
                if (exe := self._ox_word(h, event))
            ]
            if ours and all(_gone(exe) for exe in ours):
                found += ours
        return list(dict.fromkeys(found))

    def merged(self, data: dict[str, Any], ox: str | None = None) -> dict[str, Any]:
        """`data` with ox's hooks added where missing (a copy; `data` is not changed). A hook
        of ox's whose `ox-core` (an absolute path) is gone, as when ox was installed anew
        elsewhere, runs this one's instead: it would never run again."""
        out: dict[str, Any] = json.loads(json.dumps(data))
        hooks = out.get("hooks")
        by_event: dict[str, Any] = hooks if isinstance(hooks, dict) else {}
        for event in self.events:
            for entry in _list(by_event.get(event)):
                for h in _list(entry.get("hooks")) if isinstance(entry, dict) else ():
                    exe = self._ox_word(h, event)
                    if exe and _gone(exe):
                        h["command"] = _repointed(h["command"], exe, ox or ox_command())
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


_JOINS = frozenset({"&&", "||", ";", ";;", "|", "|&", "&", "(", ")"})
"""Shell operators between the commands of a hook's command line."""
_REDIRECT = frozenset("<>&")


def _segments(command: str) -> list[list[str]] | None:
    """The words of each command of a shell command line (split at `&&`, `||`, `;`, `|`...),
    redirections left out; None when it does not parse (an unclosed quote)."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        return None
    segments: list[list[str]] = [[]]
    at = 0
    while at < len(tokens):
        token = tokens[at]
        if token in _JOINS:
            segments.append([])
        elif token and set(token) <= _REDIRECT:  # `>`, `2>>`, `&>`: its target goes with it
            if segments[-1] and segments[-1][-1].isdigit():
                segments[-1].pop()
            at += 1
        else:
            segments[-1].append(token)
        at += 1
    return [segment for segment in segments if segment]


def _command_words(words: list[str]) -> list[str]:
    """`words` without the variables set before the command, and without `env` and its
    options and variables."""
    at = 0
    while at < len(words) and _assignment(words[at]):
        at += 1
    if at < len(words) and words[at] == "env":
        at += 1
        while at < len(words) and (words[at].startswith("-") or _assignment(words[at])):
            at += 1
    return words[at:]


def _assignment(word: str) -> bool:
    name, equals, _ = word.partition("=")
    return bool(equals) and name.isidentifier()


def _harmless(words: list[str]) -> bool:
    """A command that may stand beside ox's in its hook: a guard or a way to exit 0."""
    return words in (["true"], [":"], ["exit"], ["exit", "0"]) or (
        bool(words) and words[0] in ("[", "[[", "test")
    )


def _repointed(command: str, exe: str, ox: str) -> str:
    """`command` running `ox` (shell-quoted already) wherever it named `exe`, the rest as the
    user wrote it; where `exe` cannot be found as written, ox's own hook command in its place.
    Every word naming `exe` is repointed, not the first only: a guard before the hook
    (`[ -x <exe> ] && <exe> hook …`) names the gone one too, and left alone it would keep
    the hook running what is gone."""
    written = sorted({exe, shlex.quote(exe), f"'{exe}'", f'"{exe}"'}, key=len, reverse=True)
    # As a word of its own (`OX_X=ox-core-debug ox-core hook …` names it twice).
    word = r"(?:^|(?<=\s))(?:" + "|".join(map(re.escape, written)) + r")(?=\s|$)"
    repointed, count = re.subn(word, lambda _: ox, command)
    if count:
        return repointed
    words = shlex.split(command)
    at = words.index(exe)
    return " ".join([ox, *map(shlex.quote, words[at + 1 : at + 4])])


def _gone(exe: str) -> bool:
    """Whether `exe` (the `ox-core` of one of ox's hooks) is an absolute path that is no
    executable file any more, or a bare `ox-core` found nowhere on this PATH (the agent's is
    the user's, most likely: a checkout's `./scripts/ox` puts none there)."""
    if "/" not in exe:
        return shutil.which(exe) is None
    return os.path.isabs(exe) and not (os.path.isfile(exe) and os.access(exe, os.X_OK))


def _users_own(agent: AgentHooks, path: Path) -> bool:
    """Whether `path` is the user's own settings file of `agent` (under `$HOME`): the links
    there are the user's doing (a dotfiles repository), followed. A project's come with a
    clone, and must not make ox edit a file elsewhere."""
    try:
        return path == agent.path()
    except RuntimeError:  # no home folder to be found
        return False


@attrs.frozen
class _Seen:
    """The settings file as ox read it, and its JSON object."""

    file: settings_file.Snapshot
    data: dict[str, Any]


def _read(place: settings_file.Place | None) -> _Seen:
    """The settings file and its JSON object. `HooksError` when it is not one ox can rewrite
    without losing something (its encoding, a byte-order mark, comments)."""
    seen = settings_file.read(place)
    if seen.raw is None or place is None:
        return _Seen(seen, {})
    return _Seen(seen, _parse(seen.raw, place.shown))


def _parse(raw: bytes, shown: Path) -> dict[str, Any]:
    try:
        # UTF-8 only: `json.loads` takes UTF-16 and a BOM too, which the rewrite would drop.
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HooksError(f"{shown} is not UTF-8; ox leaves it alone") from None
    if text.startswith("\ufeff"):
        raise HooksError(
            f"{shown} starts with a byte-order mark, which ox would drop; ox leaves it alone: "
            "save it as UTF-8 without one, or add the hooks by hand"
        )
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        if re.search(r"(^|[\s,{\[])(//|/\*)", text):  # only asked of a file that is not JSON
            raise HooksError(
                f"{shown} has comments (JSONC), which ox would lose by rewriting it; ox "
                "leaves it alone: add the hooks by hand (`ox-core hooks status` checks them)"
            ) from None
        raise HooksError(f"{shown} is not valid JSON ({exc}); ox leaves it alone") from None
    except RecursionError:  # the file is the agent's or the user's: never a traceback
        raise HooksError(f"{shown} is JSON nested too deeply; ox leaves it alone") from None
    if not isinstance(data, dict):
        raise HooksError(f"{shown} is not a JSON object; ox leaves it alone")
    try:  # what ox cannot write back as JSON: 1e400 (`Infinity`), NaN, a lone `\ud800`
        _dumps(data)
    except (ValueError, RecursionError):  # UnicodeEncodeError is a ValueError
        raise HooksError(
            f"{shown} holds a value ox cannot write back as JSON (a number out of range, "
            "NaN, or a lone surrogate escape); ox leaves it alone"
        ) from None
    return data


def _dumps(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()


def _kept_changing(path: Path) -> HooksError:
    return HooksError(
        f"{path} kept changing while ox merged its hooks into it ({TRIES} tries); nothing "
        "was written: run it again once the agent is done with it"
    )


def _rewritable(seen: settings_file.Snapshot, shown: Path) -> None:
    """`HooksError` for a settings file ox's rewrite (a new file renamed over it) would do
    wrong: one the user made read-only, one hard-linked elsewhere (a dotfiles repository),
    which the rename would split from its other names, or one with a key given twice."""
    _no_key_twice(seen.raw, shown)
    st = seen.st
    if st is None:
        return
    if not st.st_mode & stat.S_IWUSR:
        raise HooksError(
            f"{shown} is read-only; ox leaves it alone: make it writable (chmod u+w) and run "
            "this again, or add the hooks by hand"
        )
    if st.st_nlink > 1:
        raise HooksError(
            f"{shown} has {st.st_nlink - 1} other hard link(s), which rewriting it would split "
            "from it; ox leaves it alone: make them symbolic links, or add the hooks by hand"
        )


def _no_key_twice(raw: bytes | None, shown: Path) -> None:
    """`HooksError` for settings with a key given twice in one object: JSON keeps the last,
    and the rewrite would drop the others the user wrote (asked only before a rewrite:
    reading the hooks, as `status` does, loses nothing)."""

    def once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise HooksError(
                    f"{shown} gives the key {json.dumps(key)} twice in one object, and ox's "
                    "rewrite would keep only the last; ox leaves it alone: merge them, or add "
                    "the hooks by hand"
                )
            seen.add(key)
        return dict(pairs)

    text = (raw or b"").decode("utf-8")  # parsed once already: UTF-8, JSON or blank
    if text.strip():
        json.loads(text, object_pairs_hook=once)


@attrs.frozen
class Change:
    """What `install`/`uninstall` did to one file."""

    adapter: str
    path: Path
    changed: bool
    detail: str


@contextlib.contextmanager
def _editing(
    agent: AgentHooks, path: Path, *, create: bool
) -> Iterator[settings_file.Place | None]:
    """`path`'s folder, open; an `OSError` of writing there is a `HooksError`: a folder on
    the way may be a link to nowhere (a cloned project's `.claude`), a file, or read-only."""
    try:
        follow = _users_own(agent, path)
        with settings_file.located(path, create=create, follow_links=follow) as place:
            yield place
    except OSError as exc:
        raise HooksError(f"cannot write {path}: {exc.strerror or exc}") from None


def _command_for(agent: AgentHooks, path: Path) -> str:
    """The `ox-core` the hooks in `path` run. A project's settings are committed and run on
    every teammate's machine: there, the one on each agent's PATH, never a path of this
    machine (which names this user's home and runs nothing elsewhere)."""
    return ox_command() if _users_own(agent, path) else "ox-core"


def install(agent: AgentHooks, path: Path, ox: str | None = None) -> Change:
    """Merge ox's hooks into `path`. Raises `HooksError` (the settings file unchanged).

    The agent or the user's editor may write the file meanwhile: when it changed since ox
    read it, ox merges again from what is there (`TRIES` times, then `HooksError`)."""
    ox = ox or _command_for(agent, path)
    with _editing(agent, path, create=True) as place:
        assert place is not None  # made when missing
        backup = f"{place.name}{BACKUP_SUFFIX}"
        made_backup = done = False
        try:
            for _ in range(TRIES):
                seen = _read(place)
                merged = agent.merged(seen.data, ox)
                if merged == seen.data:
                    done = True
                    return Change(agent.adapter, path, False, "already installed")
                _rewritable(seen.file, place.shown)
                # The file as it is right before ox's edit: a backup made by this call
                # follows the file when it changes meanwhile.
                if made_backup or not settings_file.is_file(place, backup):
                    atomic_write(backup, seen.file.raw or b"", mode=0o600, dir_fd=place.dfd)
                    settings_file.keep_owner(place, backup, seen.file)
                    made_backup = True
                if settings_file.commit(place, seen.file, _dumps(merged)):
                    done = True
                    shown = place.real.parent / backup
                    return Change(agent.adapter, path, True, f"installed (backup: {shown})")
        finally:
            if made_backup and not done:  # no backup of an install that did not happen
                with contextlib.suppress(OSError):
                    os.unlink(backup, dir_fd=place.dfd)
    raise _kept_changing(path)


def uninstall(agent: AgentHooks, path: Path) -> Change:
    """Remove ox's hooks from `path`, restoring the backup's exact bytes when nothing else
    changed since. Raises `HooksError` (nothing written). A file that changes meanwhile is
    handled as by `install`."""
    with _editing(agent, path, create=False) as place:
        for _ in range(TRIES):
            seen = _read(place)
            if place is None or seen.file.raw is None:
                return Change(agent.adapter, path, False, "no settings file")
            left = agent.removed(seen.data)
            backup = f"{place.name}{BACKUP_SUFFIX}"
            try:
                before = settings_file.read(place, backup).raw
            except HooksError:  # a link or a FIFO: not a backup ox wrote
                before = None
            restore = before is not None and _same(agent, before, left)
            if not restore and left == seen.data:
                return Change(agent.adapter, path, False, "not installed")
            # An empty backup: there was no file before ox made one.
            _rewritable(seen.file, place.shown)
            if not settings_file.commit(
                place, seen.file, (before or None) if restore else _dumps(left)
            ):
                continue
            if not restore:
                return Change(agent.adapter, path, True, "removed")
            with contextlib.suppress(FileNotFoundError):
                os.unlink(backup, dir_fd=place.dfd)
            return Change(agent.adapter, path, True, "removed (the file is as it was before)")
    raise _kept_changing(path)


def _same(agent: AgentHooks, before: bytes, data: dict[str, Any]) -> bool:
    """Whether the backup `before` is the settings `data` (ox's hooks removed) as they were."""
    if not before.strip():  # no file (empty), or one of whitespace only
        return data == {}
    try:
        was = json.loads(before)
    except (ValueError, RecursionError):  # a backup ox did not write as it is
        return False
    if was == data:
        return True
    # ox's hooks went into a `hooks` table or an event list that was empty, which removing
    # them takes away too: still the file as it was, when the backup holds none of ox's.
    if not isinstance(was, dict) or agent.removed(was) != was:
        return False
    try:
        return bool(agent.removed(agent.merged(was, "ox-core")) == data)
    except HooksError:
        return False


def status(agent: AgentHooks, path: Path, *, runnable: bool = False) -> dict[str, Any]:
    """Whether ox's hooks are in `path`, per event (`error` when it cannot be read). With
    `runnable` (what `hooks status` and doctor show), hooks that run an `ox-core` that is gone
    are not installed, with why in `error`: they record nothing."""
    row: dict[str, Any] = {"adapter": agent.adapter, "file": str(path), "note": agent.note}
    try:
        with _editing(agent, path, create=False) as place:
            data = _read(place).data
    except HooksError as exc:
        return {**row, "installed": False, "events": {}, "error": str(exc)}
    events = agent.present(data)
    gone = agent.gone(data) if runnable else []
    if gone:
        return {**row, "installed": False, "events": events, "error": _why_gone(gone)}
    return {**row, "installed": all(events.values()), "events": events, "error": None}


def _why_gone(gone: list[str]) -> str:
    bare = [exe for exe in gone if not os.path.isabs(exe)]
    if bare:  # a project's hooks: each machine's own `ox-core`, from PATH
        return (
            f"they run {', '.join(bare)}, which is not on PATH: install ox so that it is (a "
            "checkout's: link its .venv/bin/ox-core into a folder on PATH)"
        )
    return f"they run {', '.join(gone)}, which is gone: `ox-core hooks install` repoints them"


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
