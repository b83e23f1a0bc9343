"""A third party's session adapter, installed from its own distribution: whatever its
`parse_fields` returns, or whichever `roots` it names, it never leaks a secret past redaction,
never ends the recording, and never makes a file outside the user's agent folders a session
file."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from ox_session_capture.recording import RecordingRejected, create_recording
from ox_session_capture.recover import catch_up

SECRET = "AKIAZ7XK3QWERTY12ABC"
ROOTS = ["/", "..", "../..", "", ".", "/tmp", ".x/../.."]


def install_adapter(site: Path, name: str, body: str) -> None:
    """A distribution `name` on `site` (on sys.path) whose entry point in `ox.adapters`
    registers the class `Adapter` of `body`, the way a third party ships one."""
    module = name.replace("-", "_") + "_adapter"
    code = f"""
        import ox_core
        from ox_session_capture.adapters import BaseAdapter

        {textwrap.indent(textwrap.dedent(body), " " * 8).strip()}

        @ox_core.hookimpl
        def ox_register_adapters(register):
            register(Adapter)
        """
    (site / f"{module}.py").write_text(textwrap.dedent(code))
    info = site / f"{module}-1.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0.0\n")
    (info / "entry_points.txt").write_text(f"[ox.adapters]\n{name} = {module}\n")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    return site


def record(ledger: Path, home: Path, src: Path, adapter: str, lines: list[bytes]) -> Path:
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(b"")
    recording = create_recording(ledger, adapter, src, pid=os.getpid(), home=home, agent_id="a")
    with src.open("ab") as f:
        f.writelines(lines)
    catch_up(recording.session_dir, home=home)
    return recording.session_dir


@pytest.mark.parametrize("root", ROOTS)
def test_an_adapter_root_outside_home_never_admits_a_file_there(
    ledger: Path, home: Path, site: Path, tmp_path: Path, root: str
) -> None:
    name = f"roots-{ROOTS.index(root)}"
    install_adapter(
        site,
        name,
        f"""
        class Adapter(BaseAdapter):
            name = {name!r}
            roots = ({root!r},)

            def parse_object(self, obj):
                return []
        """,
    )
    outside = tmp_path / "elsewhere.jsonl"  # beside $HOME, in no agent's folder
    outside.write_bytes(b"")
    with pytest.raises(RecordingRejected):
        create_recording(ledger, name, outside, pid=os.getpid(), home=home, agent_id="a")
    in_home = home / "notes.jsonl"  # $HOME itself is no agent's folder either
    in_home.write_bytes(b"")
    with pytest.raises(RecordingRejected):
        create_recording(ledger, name, in_home, pid=os.getpid(), home=home, agent_id="a")
