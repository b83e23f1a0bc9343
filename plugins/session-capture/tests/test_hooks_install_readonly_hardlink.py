"""ox rewrites by renaming a new file over the settings: a settings file the user made
read-only (chmod a-w, to keep tools from editing it) is replaced all the same (the new file
gets the read-only mode back, so nothing shows), and a settings file hard-linked into a
dotfiles repository is split from it (the repository copy silently stops being the file the
agent reads). Both are refused with one clear error now."""

import os
from pathlib import Path

import pytest

from ox_session_capture import hooks_install
from ox_session_capture.hooks_install import HooksError, claude_code

ORIGINAL = b'{"model": "opus"}'


def test_a_read_only_settings_file_is_not_replaced(tmp_path: Path) -> None:
    path = claude_code.path(home=tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(ORIGINAL)
    os.chmod(path, 0o444)
    with pytest.raises(HooksError, match="read-only"):
        hooks_install.install(claude_code, path, ox="ox-core")
    assert path.read_bytes() == ORIGINAL


def test_a_hard_linked_settings_file_is_not_split(tmp_path: Path) -> None:
    repo = tmp_path / "dotfiles" / "settings.json"
    repo.parent.mkdir()
    repo.write_bytes(ORIGINAL)
    path = claude_code.path(home=tmp_path)
    path.parent.mkdir(parents=True)
    os.link(repo, path)
    with pytest.raises(HooksError, match="hard link"):
        hooks_install.install(claude_code, path, ox="ox-core")
    assert os.path.samefile(repo, path), "the hard link was split"
    assert repo.read_bytes() == ORIGINAL
