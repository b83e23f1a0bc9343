"""valid JSON settings that Python's `json` cannot write back as they are: `1e400` is
rewritten as `Infinity` (not JSON: the agent can no longer parse its settings), a lone
surrogate escape (`"\\ud800"`) makes `hooks install` die with a traceback
(UnicodeEncodeError) instead of one clear `HooksError`."""

import json
from pathlib import Path

import pytest

from ox_session_capture import hooks_install
from ox_session_capture.hooks_install import HooksError, claude_code


def strict_json(raw: bytes) -> object:
    def no_constant(name: str) -> object:
        raise ValueError(f"{name} is not JSON")

    return json.loads(raw, parse_constant=no_constant)


@pytest.mark.parametrize(
    "content", [b'{"limit": 1e400}', b'{"motd": "\\ud83d"}'], ids=["1e400", "lone-surrogate"]
)
def test_settings_ox_cannot_write_back_are_refused_or_kept_valid(
    tmp_path: Path, content: bytes
) -> None:
    path = claude_code.path(home=tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    # Before: `1e400` came back as `Infinity` (no JSON: the agent could not read its
    # settings), and a lone surrogate raised a traceback.
    with pytest.raises(HooksError, match="cannot write back"):
        hooks_install.install(claude_code, path, ox="ox-core")
    assert path.read_bytes() == content
