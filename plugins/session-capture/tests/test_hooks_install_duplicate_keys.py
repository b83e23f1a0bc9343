"""A settings file with a key given twice in one object (valid JSON; a hand-merged file,
two blocks pasted in): Python's `json` keeps the last, and ox's rewrite silently dropped the
others, the user's `"allow"` rules here. Such a file is left alone with one clear error,
like the others ox cannot rewrite without losing something; `status` still reads it."""

import json
from pathlib import Path

import pytest

from ox_session_capture import hooks_install
from ox_session_capture.hooks_install import HooksError, claude_code

TWICE = (
    b'{\n  "permissions": {"allow": ["Bash(ls)"]},\n  "model": "opus",\n'
    b'  "permissions": {"deny": ["Bash(rm)"]}\n}\n'
)


def test_a_key_given_twice_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = claude_code.path(home=tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(TWICE)
    with pytest.raises(HooksError, match='"permissions" twice'):
        hooks_install.install(claude_code, path, ox="ox-core")
    assert path.read_bytes() == TWICE
    assert not Path(f"{path}.ox-backup").exists()
    assert hooks_install.status(claude_code, path)["error"] is None


def test_a_key_given_twice_beside_oxs_hooks_is_not_lost_by_uninstall(tmp_path: Path) -> None:
    path = claude_code.path(home=tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text('{"model": "opus"}')
    hooks_install.install(claude_code, path, ox="ox-core")
    hooks = json.dumps(json.loads(path.read_text())["hooks"])
    edited = f'{{"env": {{"A": "1"}}, "env": {{"B": "2"}}, "hooks": {hooks}}}'.encode()
    path.write_bytes(edited)  # the user's edit since
    assert hooks_install.status(claude_code, path)["installed"] is True
    with pytest.raises(HooksError, match='"env" twice'):
        hooks_install.uninstall(claude_code, path)
    assert path.read_bytes() == edited
