"""`ox-core service install`: run the daemon as a systemd user service.

Writes `~/.config/systemd/user/ox-core.service` (honouring `XDG_CONFIG_HOME`) atomically. It
does not call systemctl unless asked (`--enable`): on a machine without a user systemd the
file is still right, and the printed commands say what to run.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from ox_core.errors import OxError
from ox_core.fs import UnsafePathError, atomic_write
from ox_core.paths import user_config_dir

UNIT_NAME = "ox-core.service"


def unit_dir() -> Path:
    # The folder systemd reads: `user_config_dir()` is ox's own inside it.
    return Path(user_config_dir()).parent / "systemd" / "user"


def ox_core_command() -> list[str]:
    """The absolute command that starts this installation's `ox-core`: the script running
    now, else this interpreter with `-m ox_core.cli`. Never the `ox-core` found on PATH: that
    may be another installation (a checkout's `.venv` is run by its path, not from PATH)."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.name == "ox-core" and script.is_file():
        return [str(script.resolve())]
    return [sys.executable, "-m", "ox_core.cli"]


def render_unit(command: list[str], extra_args: list[str] | None = None) -> str:
    """The unit file text for `command serve [extra_args]`."""
    exec_start = shlex.join([*command, "serve", *(extra_args or [])])
    return f"""[Unit]
Description=ox: background AI coding-agent work for your agent sessions
After=network-online.target

[Service]
Type=simple
ExecStart={exec_start}
Restart=on-failure
RestartSec=5
# ox stops within 5 s on SIGTERM, leaving in-flight work safe on disk.
KillSignal=SIGTERM
KillMode=control-group
TimeoutStopSec=15
Environment=PYTHONUNBUFFERED=1

[Install]
WantedBy=default.target
"""


def install(*, extra_args: list[str] | None = None, enable: bool = False) -> Path:
    """Write the unit file (replacing an older one); with `enable`, reload systemd and start it.

    Raises `OxError` when the file cannot be written or systemctl fails.
    """
    folder = unit_dir()
    path = folder / UNIT_NAME
    text = render_unit(ox_core_command(), extra_args)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # The user's own config folder: it may be a link (a dotfiles checkout).
        atomic_write(path, text, mode=0o644, follow_symlinks=True)
    except UnsafePathError as exc:
        raise OxError(f"cannot write {path}: {exc}") from exc
    except OSError as exc:
        raise OxError(f"cannot write {path}: {exc.strerror or exc}") from exc
    if enable:
        for args in (["daemon-reload"], ["enable", "--now", UNIT_NAME]):
            _systemctl(args)
    return path


def uninstall(*, disable: bool = False) -> Path | None:
    """Remove the unit file (with `disable`, stop and disable it first). None if absent."""
    path = unit_dir() / UNIT_NAME
    if disable:
        _systemctl(["disable", "--now", UNIT_NAME])
    if not path.exists():
        return None
    path.unlink()
    return path


def _systemctl(args: list[str]) -> None:
    systemctl = shutil.which("systemctl")
    if systemctl is None:
        raise OxError(
            "systemctl not found: this machine has no systemd; start `ox-core serve` yourself"
        )
    proc = subprocess.run(
        [systemctl, "--user", *args], capture_output=True, text=True, timeout=30, check=False
    )
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise OxError(
            f"systemctl --user {' '.join(args)} failed: {detail[-1] if detail else proc.returncode}"
        )
