"""Where an agent CLI is installed, and the environment it runs in.

`find_binary` looks on PATH, then in the places CLIs are commonly installed to when PATH
does not name them (a daemon started by systemd has a short PATH). `agent_env` is the
environment of a background run: the daemon's, minus what a runner says would confuse its
CLI, with `OX_SESSION_RECORDING=disabled` so that ox never records its own runs.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

DEFAULT_INSTALL_DIRS: tuple[str, ...] = (
    "~/.local/bin",
    "~/.npm-global/bin",
    "~/.npm/bin",
    "~/.yarn/bin",
    "~/.volta/bin",
    "~/bin",
    "/usr/local/bin",
    "/opt/homebrew/bin",
)
"""Where agent CLIs are commonly installed when they are not on PATH (tried in order)."""


def find_binary(
    name: str,
    *,
    env: Mapping[str, str] | None = None,
    extra_dirs: Iterable[str] = (),
) -> str | None:
    """The path of executable `name`: on PATH first, then in `extra_dirs` and the usual install
    places (`DEFAULT_INSTALL_DIRS`); `~` means `env["HOME"]`. None when not found."""
    env = os.environ if env is None else env
    found = shutil.which(name, path=env.get("PATH", os.defpath))
    if found:
        return found
    home = env.get("HOME", "")
    if not os.path.isabs(home):  # empty or relative: it would lead into the current folder
        from ox_core.paths import home_dir

        home = home_dir()
    for directory in (*extra_dirs, *DEFAULT_INSTALL_DIRS):
        if directory.startswith("~"):
            directory = home + directory[1:]
        candidate = Path(directory, name)
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def agent_env(
    overrides: Mapping[str, str] | None = None,
    *,
    remove: Iterable[str] = (),
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment for a background agent run: `base` (default `os.environ`) without the
    variables in `remove` (a runner's `env_remove`: those that make its CLI believe it runs
    inside another agent session), with `OX_SESSION_RECORDING=disabled` (ox must never record
    its own background runs) and `overrides` on top."""
    env = dict(os.environ if base is None else base)
    for key in remove:
        env.pop(key, None)
    env["OX_SESSION_RECORDING"] = "disabled"
    env.update(overrides or {})
    return env
