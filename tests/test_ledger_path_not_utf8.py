"""A ledger whose path is not UTF-8 text (a byte like 0xff in a folder on the way, or in
`$HOME` for the default ledger) is refused with one line, by every command.

Before, `ox-core serve`, `ox-core doctor` and `ox-core session start` died with a
`UnicodeDecodeError` traceback (git's answer naming the path was decoded as strict UTF-8),
and the agent hook logged only the exception's name. Decoded leniently, the path then made
every recording fail with a JSON serializer's error: it is written into the recordings'
records, which hold UTF-8 text only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ox_core.testing import make_ledger
from ox_session_capture.testing import claude_session_file


def test_every_command_refuses_it_with_one_line(tmp_path: Path) -> None:
    root = Path(os.fsdecode(os.fsencode(tmp_path) + b"/team-\xff"))
    ledger = make_ledger(root).path
    home = tmp_path / "home"
    (home / "run").mkdir(parents=True, mode=0o700)
    src = claude_session_file(home)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
    environ.update(HOME=str(home), OX_LEDGER=str(ledger), XDG_RUNTIME_DIR=str(home / "run"))

    def ox(*argv: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([sys.executable, "-m", "ox_core.cli", *argv], input=stdin,
                              env=environ, capture_output=True, timeout=60)  # fmt: skip

    why = (
        f"the ledger path {str(ledger)!r} is not UTF-8 text: ox writes it into JSON records; "
        "rename it (setting `ledger`)"
    )
    served = ox("serve")
    assert (served.returncode, served.stderr.decode()) == (1, f"ox-core: error: {why}\n")
    started = ox("session", "start", "--adapter", "claude-code", "--file", str(src))
    assert (started.returncode, started.stderr.decode()) == (1, f"ox-core: error: {why}\n")

    doctor = ox("doctor", "--json")
    assert doctor.returncode == 1
    state = why.removeprefix("the ledger path ").removesuffix(" (setting `ledger`)")
    assert json.loads(doctor.stdout)["ledger"]["state"] == state

    data = json.dumps(
        {"session_id": "f04c7045-b614-40b5-816d-7256c84b37f6", "transcript_path": str(src)}
    ).encode()
    hooked = ox("hook", "claude-code", "SessionStart", stdin=data)
    assert (hooked.returncode, hooked.stderr) == (0, b"")
    (line,) = (home / ".local" / "state" / "ox" / "hooks.log").read_text().splitlines()
    assert line.endswith(f"hook claude-code SessionStart: ConfigError: {why}")
    assert not (ledger / ".ox" / "cache" / "sessions").exists()
