"""install + uninstall is documented to leave the settings byte-identical. A file whose
`hooks` table (or an event's list) was empty before, or that held only whitespace, is
rewritten in ox's format instead, and the `.ox-backup` is left behind."""

from pathlib import Path

import pytest

from ox_session_capture import hooks_install
from ox_session_capture.hooks_install import claude_code, gemini


@pytest.mark.parametrize(
    "content",
    [
        b'{\n    "theme": "dark",\n    "hooks": {}\n}\n',
        b'{"hooks": {"SessionStart": [], "Stop": []}, "model": "opus"}',
        b"\n",
    ],
    ids=["empty-hooks", "empty-event-list", "whitespace"],
)
@pytest.mark.parametrize("agent", [claude_code, gemini], ids=lambda a: a.adapter)
def test_install_uninstall_is_byte_identical_with_empty_containers(
    tmp_path: Path, content: bytes, agent: hooks_install.AgentHooks
) -> None:
    path = agent.path(home=tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    assert hooks_install.install(agent, path, ox="ox-core").changed
    change = hooks_install.uninstall(agent, path)
    assert change.detail == "removed (the file is as it was before)"
    assert path.read_bytes() == content
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
