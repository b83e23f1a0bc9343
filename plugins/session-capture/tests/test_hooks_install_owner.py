"""`sudo ox-core hooks install` (sudo keeps `$HOME` on many systems) rewrote the user's
settings as a new file of root's, mode 0600: the user's agent could no longer read its own
settings. The rewrite, and the backup beside it, keep the settings file's owner."""

import os
from pathlib import Path

import pytest

from ox_session_capture import hooks_install
from ox_session_capture.hooks_install import claude_code

USER = (4242, 4343)  # the user whose settings these are, not the one running ox

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file away")


def owner(path: Path) -> tuple[int, int]:
    st = os.lstat(path)
    return st.st_uid, st.st_gid


def users_settings(home: Path) -> Path:
    path = claude_code.path(home=home)
    path.parent.mkdir(parents=True)
    os.chown(path.parent, *USER)
    path.write_text('{"model": "opus"}\n')
    os.chown(path, *USER)
    os.chmod(path, 0o600)
    return path


def test_install_and_uninstall_as_root_keep_the_settings_owner(tmp_path: Path) -> None:
    path = users_settings(tmp_path)
    hooks_install.install(claude_code, path, ox="ox-core")
    assert "SessionStart" in path.read_text()
    assert owner(path) == USER
    assert owner(Path(f"{path}.ox-backup")) == USER  # the user's own settings, readable
    path.write_text(path.read_text().replace("opus", "sonnet"))  # no restore: a rewrite
    hooks_install.uninstall(claude_code, path)
    assert "SessionStart" not in path.read_text()
    assert owner(path) == USER
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_a_settings_file_created_as_root_belongs_to_its_folders_owner(tmp_path: Path) -> None:
    folder = claude_code.path(home=tmp_path).parent
    folder.mkdir(parents=True)
    os.chown(folder, *USER)
    hooks_install.install(claude_code, folder / "settings.json", ox="ox-core")
    assert owner(folder / "settings.json") == USER
