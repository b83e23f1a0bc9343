"""Two ledgers, one `socket` setting (set once in the config file, say for a deep home): the
second daemon must not take the first one's socket. It used to unlink it as a leftover (the
daemon lock is per ledger, so "I hold the lock, the file is stale" was wrong): every CLI call
and agent hook of the first ledger then reached the second daemon, and sessions went to the
other ledger, while the first daemon ran on with nothing able to reach it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ox_core.testing import make_ledger

if TYPE_CHECKING:
    from conftest import OxWorld


def test_a_second_ledger_does_not_take_a_live_daemons_socket(
    world: OxWorld, tmp_path: Path
) -> None:
    shared = Path(world.env["XDG_RUNTIME_DIR"]) / "ox" / "shared.sock"
    world.env["OX_SOCKET"] = str(shared)
    first = world.serve()
    other = make_ledger(tmp_path / "other").path

    second = subprocess.run(
        [sys.executable, "-m", "ox_core.cli", "serve"],
        env={**world.env, "OX_LEDGER": str(other)},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert second.returncode == 1
    assert second.stderr.strip().splitlines()[-1] == (
        f"ox-core: error: another ox-core daemon (pid {first.proc.pid}) listens on {shared}; "
        "give each ledger's daemon its own `socket` (or leave it unset: one per ledger)"
    )
    assert first.call("ping") == {"pid": first.proc.pid}
    assert first.call("status")["daemon"]["ledger"] == str(world.ledger)
    assert first.stop() == 0
