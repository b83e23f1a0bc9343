"""Where ox's files are, by the standard library alone: config file, default ledger, sockets.

`ox_core.settings` builds on these (as `Path`s), and so does the fast client
(`ox_core.client`), which must find the daemon's socket without importing pydantic: one copy
of each rule. Paths are plain strings here: not even `pathlib` is imported on an agent hook's
path. Linux paths by the XDG base-directory rules (`$XDG_CONFIG_HOME`, `$XDG_DATA_HOME`,
`$XDG_STATE_HOME`, each ignored when empty or relative, with the usual defaults under `~`).
"""

from __future__ import annotations

import os
import stat
import sys

from ox_core.errors import ConfigError

TYPE_CHECKING = False  # not `typing`'s: on the fast path of agent hooks

if TYPE_CHECKING:
    from typing import Any

APP = "ox"
CONFIG_FILE_ENV = "OX_CONFIG_FILE"
MAX_CONFIG_FILE = 1024 * 1024
"""The largest config file read, in bytes (a real one is a few hundred)."""

MAX_KEY_PARTS = 32
"""The most dotted parts a key or table header of the config file may have (`a.b.c`: 3).
`tomllib` takes time and memory quadratic in them: one key of 200,000 parts (a 400 kB file)
needs tens of gigabytes, and every command, agent hooks included, reads the file."""

# A key of more than `MAX_KEY_PARTS` parts starting a line and followed by `=` or `]` (a key
# and value, a table header: `tomllib` does its quadratic work only once it read either), by
# TOML's key grammar: bare, "basic" or 'literal' parts, dots with blanks around them. Each
# alternative starts with its own character, so the search stays linear in the text; a line
# of prose inside a multi-line string is no key (it has no `=` right after its words).
_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')"""
_LONG_KEY = (
    r"^[ \t]*\[?\[?[ \t]*" + _KEY_PART + r"(?:[ \t]*\.[ \t]*" + _KEY_PART + r"){%d,}[ \t]*[=\]]"
) % MAX_KEY_PARTS


def pure(path: str) -> str:
    """`path` as `str(pathlib.PurePosixPath(path))` writes it (the socket's name hashes the
    ledger's path, so the fast client must spell it exactly as `Settings` does): no repeated
    or trailing slash, no `.` part."""
    lead = "//" if path.startswith("//") and not path.startswith("///") else ""
    lead = lead or ("/" if path.startswith("/") else "")
    return lead + "/".join(p for p in path.split("/") if p and p != ".") or lead or "."


def home_dir() -> str:
    """The user's home folder: `$HOME` when it is an absolute path, else the account's own
    (the password database). An empty or relative `$HOME` is not used: taken as it is, it is
    relative to wherever the command runs, and an agent's hook runs in the user's project
    (ox's state, or a default ledger, would be made there, and could be committed with it).
    ConfigError when neither is absolute."""
    value = os.environ.get("HOME", "")
    if os.path.isabs(value) and "\x00" not in value:
        return pure(value)
    try:
        import pwd

        value = pwd.getpwuid(os.getuid()).pw_dir
    except (ImportError, KeyError):
        value = ""
    if not os.path.isabs(value):
        raise ConfigError(
            f"no home folder: HOME is {os.environ.get('HOME', '')!r} (not an absolute path) "
            "and the account has none: set HOME to your home folder"
        )
    return pure(value)


def expand_home(path: str) -> str:
    """`path` with a leading `~` or `~/` replaced by `home_dir()` (`~user` as the system
    spells it)."""
    if path == "~" or path.startswith("~/"):
        return home_dir() + path[1:]
    return os.path.expanduser(path)


def _xdg(variable: str, default: str) -> str:
    value = os.environ.get(variable, "").strip()
    # The spec: a relative value is invalid and ignored. Taken as it is, it is relative to
    # wherever the command runs, and an agent's hook runs in the user's project (a default
    # ledger, or a folder named `~` for a quoted `"~/state"`, would be made there).
    if not os.path.isabs(value):
        value = os.path.join(home_dir(), default)
    return pure(os.path.join(value, APP))


def user_config_dir() -> str:
    return _xdg("XDG_CONFIG_HOME", ".config")


def user_data_dir() -> str:
    return _xdg("XDG_DATA_HOME", ".local/share")


def user_state_dir() -> str:
    return _xdg("XDG_STATE_HOME", ".local/state")


def absolute_path(value: str | os.PathLike[str]) -> str:
    """`value` as an absolute path (`~` expanded). ValueError for an empty or relative one,
    or one holding a NUL byte (TOML can spell it; every file call would raise on it)."""
    text = os.fspath(value)
    if not text.strip():
        raise ValueError("is empty: unset it to use the default")
    if "\x00" in text:
        raise ValueError("holds a NUL byte")
    path = expand_home(text)  # `~user` of no such user stays as it is: relative
    if not os.path.isabs(path):
        raise ValueError(
            f"{text!r} is a relative path: give an absolute one (or one starting with ~)"
        )
    return pure(path)


def config_file_path() -> str:
    """The TOML config file: `$OX_CONFIG_FILE`, else `config.toml` in the user config dir.

    Raises `ConfigError` for an empty or relative `OX_CONFIG_FILE` (never a file found
    relative to wherever the command happens to run).
    """
    explicit = os.environ.get(CONFIG_FILE_ENV)
    if explicit is not None:
        try:
            return absolute_path(explicit)
        except ValueError as exc:
            raise ConfigError(f"{CONFIG_FILE_ENV}: {exc}") from None
    return os.path.join(user_config_dir(), "config.toml")


def file_label(path: str | os.PathLike[str]) -> str:
    named = f" (from {CONFIG_FILE_ENV})" if os.environ.get(CONFIG_FILE_ENV) else ""
    return f"config file {path}{named}"


def read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The config file's table; `{}` when there is none.

    Only a regular file of at most `MAX_CONFIG_FILE` bytes is read: a FIFO, a device or a
    directory is refused by its type before a byte is read (opening does not block either).
    Raises `ConfigError` with one line.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {file_label(path)}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(f"{file_label(path)} is not a regular file; refusing to read it")
        if st.st_size > MAX_CONFIG_FILE:
            raise ConfigError(
                f"{file_label(path)} is {st.st_size} bytes, over the {MAX_CONFIG_FILE} allowed"
            )
        data = os.read(fd, MAX_CONFIG_FILE + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read {file_label(path)}: {exc.strerror}") from None
    finally:
        os.close(fd)
    import re  # `tomllib` imports it anyway
    import tomllib  # only when there is a file: the hook path usually has none

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{file_label(path)} is not UTF-8 text") from None
    if found := re.search(_LONG_KEY, text, re.MULTILINE):
        line = text.count("\n", 0, found.start()) + 1
        raise ConfigError(
            f"{file_label(path)}: line {line} has a key of more than {MAX_KEY_PARTS} dotted "
            "parts; refusing to read it"
        )
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file_label(path)} is not valid TOML: {exc}") from None
    except ValueError:  # `int()` refuses a number longer than this (`tomllib` lets it through)
        raise ConfigError(
            f"{file_label(path)} is not valid TOML: a number has more than "
            f"{sys.get_int_max_str_digits()} digits"
        ) from None
    except RecursionError:  # `tomllib` recurses per nested array or table
        raise ConfigError(f"{file_label(path)} is not valid TOML: nested too deeply") from None


def default_ledger_path() -> str:
    """The embedded default ledger: `ledger/` in the user data dir (created on first start)."""
    return os.path.join(user_data_dir(), "ledger")


def runtime_dir() -> str:
    """Where ox keeps its sockets: `$XDG_RUNTIME_DIR/ox`, else `<user state dir>/ox/run`.

    `XDG_RUNTIME_DIR` is used only when it is an absolute path to a directory of this user
    that nobody else may write to; otherwise (unset over ssh, in cron, in some agent hooks)
    the fallback is under the user's own state dir (`$XDG_STATE_HOME`, default
    `~/.local/state`): never a shared place like /tmp, where another user could create the
    directory first and answer in the daemon's name.
    """
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base and _private_base(base):
        return os.path.join(base, APP)
    return os.path.join(user_state_dir(), "run")


def _private_base(path: str) -> bool:
    """Whether `path` is an absolute directory of this user that only they may write to."""
    if not os.path.isabs(path):
        return False
    try:
        st = os.stat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o022


def _sha256_hex(data: bytes) -> str:
    # The interpreter's built-in sha256 when it has one: `hashlib` loads OpenSSL, which is a
    # good part of an agent hook's time budget. Same digest either way.
    try:
        from _sha256 import sha256  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # pragma: no cover - interpreters that name it differently
        from hashlib import sha256
    return str(sha256(data).hexdigest())


def socket_for_ledger(ledger: str | os.PathLike[str]) -> str:
    """The default IPC socket of `ledger`: `<runtime dir>/ox-<ledger hash>.sock`.

    One socket per ledger, like the daemon lock, so daemons of two ledgers never meet.
    """
    return os.path.join(runtime_dir(), f"ox-{_sha256_hex(os.fsencode(ledger))[:12]}.sock")
