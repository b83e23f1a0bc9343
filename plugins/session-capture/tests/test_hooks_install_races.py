"""`hooks install` against a settings file that others write too: the agent (or the user's
editor) writing it between ox's read and ox's rename, a second `hooks install` at the same
moment, a settings file reached through the user's dotfiles links, and files ox must leave
alone (not UTF-8 JSON, huge, a FIFO or a link swapped in).

The concurrent writer is a real second process that really writes the file. It runs right
after ox read the file (ox's `_read` is wrapped to start it and wait for it), which is the
moment the lost edit needs, every time: the test is deterministic."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ox_session_capture import hooks_install
from ox_session_capture.hooks_install import HooksError, claude_code, gemini

ORIGINAL = (
    b'{\n  "model": "opus",\n  "theme": "dark",\n  "hooks": {\n    "Stop": [{"hooks": '
    b'[{"type": "command", "command": "notify-send done"}]}]\n  }\n}\n'
)

# What the agent (or an editor) does to its settings file, in its own process.
WRITER = r"""
import json, os, sys
path, how = sys.argv[1], sys.argv[2]
if how == "rename":  # the agent: a new file renamed over the old one, with its own mode
    try:
        data = json.load(open(path, "rb"))
    except FileNotFoundError:
        data = {}
    data["agent_edits"] = data.get("agent_edits", 0) + 1
    with open(path + ".agent-tmp", "w") as f:
        json.dump(data, f, indent=1)
    os.chmod(path + ".agent-tmp", 0o640)
    os.replace(path + ".agent-tmp", path)
elif how == "in-place":  # an editor that rewrites the same inode: same size, new content
    with open(path, "r+b") as f:
        text = f.read()
        f.seek(0)
        f.write(text.replace(b'"dark"', b'"lite"'))
elif how == "fifo":
    os.unlink(path)
    os.mkfifo(path)
elif how == "symlink":
    os.unlink(path)
    os.symlink(sys.argv[3], path)
"""


def write_concurrently(path: Path, how: str, *more: str) -> None:
    subprocess.run([sys.executable, "-c", WRITER, str(path), how, *more], check=True, timeout=60)


def after_reads(
    monkeypatch: pytest.MonkeyPatch, write: Callable[[], None], times: int = 1
) -> list[int]:
    """Run `write` right after each of ox's first `times` reads of the settings file (after
    ox has the bytes, before it writes anything). Returns the list of reads done so far."""
    real = hooks_install._read
    reads: list[int] = []

    def read(*args: Any, **kwargs: Any) -> Any:
        seen = real(*args, **kwargs)
        reads.append(1)
        if len(reads) <= times:
            write()
        return seen

    monkeypatch.setattr(hooks_install, "_read", read)
    return reads


def settings(tmp_path: Path, content: bytes | None = ORIGINAL, mode: int = 0o600) -> Path:
    path = claude_code.path(home=tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if content is not None:
        path.write_bytes(content)
        os.chmod(path, mode)
    return path


def ox_commands(data: dict[str, Any], event: str) -> list[str]:
    return [
        h["command"]
        for entry in data.get("hooks", {}).get(event, [])
        for h in entry["hooks"]
        if " hook " in h["command"]
    ]


def only_ours_and(path: Path, *others: str) -> None:
    """The folder holds the settings file, `others`, and no temp file left behind."""
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([path.name, *others])


@pytest.mark.parametrize("how", ["rename", "in-place"])
def test_an_edit_between_ox_reading_and_renaming_is_merged_not_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """The agent renames its own new file over the settings (and gives it its mode), or an
    editor rewrites the same inode with content of the same size (only the content tells):
    ox sees the file changed before its rename and merges into the new content."""
    path = settings(tmp_path)
    after_reads(monkeypatch, lambda: write_concurrently(path, how))
    change = hooks_install.install(claude_code, path, ox="ox-core")
    assert change.changed
    data = json.loads(path.read_bytes())
    if how == "rename":
        assert data["agent_edits"] == 1
        assert stat.S_IMODE(path.stat().st_mode) == 0o640  # the mode the file has now
    else:
        assert data["theme"] == "lite"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert data["model"] == "opus"
    assert data["hooks"]["Stop"] == json.loads(ORIGINAL)["hooks"]["Stop"]
    for event in claude_code.events:
        assert ox_commands(data, event) == [f"ox-core hook claude-code {event}"]
    only_ours_and(path, "settings.json.ox-backup")
    # The backup is the file as it was right before ox's edit: uninstall gives it back.
    edited = Path(f"{path}.ox-backup").read_bytes()
    assert json.loads(edited) == claude_code.removed(data)
    hooks_install.uninstall(claude_code, path)
    assert path.read_bytes() == edited


def test_a_file_the_agent_creates_while_ox_creates_it_is_merged_not_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = settings(tmp_path, content=None)
    after_reads(monkeypatch, lambda: write_concurrently(path, "rename"))
    assert hooks_install.install(claude_code, path, ox="ox-core").changed
    data = json.loads(path.read_bytes())
    assert data["agent_edits"] == 1
    assert ox_commands(data, "SessionStart") == ["ox-core hook claude-code SessionStart"]
    agents = Path(f"{path}.ox-backup").read_bytes()
    assert json.loads(agents) == {"agent_edits": 1}
    hooks_install.uninstall(claude_code, path)
    assert path.read_bytes() == agents  # the agent's file, not deleted as if ox made it


def test_a_file_that_keeps_changing_is_one_clear_error_and_nothing_is_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = settings(tmp_path)
    reads = after_reads(monkeypatch, lambda: write_concurrently(path, "rename"), times=100)
    with pytest.raises(HooksError, match="kept changing") as err:
        hooks_install.install(claude_code, path, ox="ox-core")
    assert "nothing was written" in str(err.value)
    assert len(reads) == hooks_install.TRIES  # bounded retries
    data = json.loads(path.read_bytes())
    assert data["agent_edits"] == len(reads)  # every edit of the agent is there
    assert ox_commands(data, "SessionStart") == []
    only_ours_and(path)  # no backup of an install that did not happen, no temp file


@pytest.mark.parametrize("how", ["fifo", "symlink"])
def test_a_special_file_swapped_in_before_the_rename_is_never_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    path = settings(tmp_path)
    victim = tmp_path / "victim.json"
    victim.write_bytes(b"{}")
    after_reads(monkeypatch, lambda: write_concurrently(path, how, str(victim)))
    with pytest.raises(HooksError, match="FIFO" if how == "fifo" else "symbolic link"):
        hooks_install.install(claude_code, path, ox="ox-core")
    if how == "fifo":
        assert stat.S_ISFIFO(path.lstat().st_mode)
    else:
        assert os.readlink(path) == str(victim)
    assert victim.read_bytes() == b"{}"
    only_ours_and(path)


# --------------------------------------------------------------- two installs at once

RACER = r"""
import sys
from pathlib import Path
from ox_session_capture import hooks_install
print("ready", flush=True)
sys.stdin.readline()  # both start merging at the same moment
change = hooks_install.install(hooks_install.claude_code, Path(sys.argv[1]), ox="ox-core")
print(change.detail, flush=True)
"""


@pytest.mark.parametrize("content", [ORIGINAL, None], ids=["existing", "absent"])
def test_two_installs_at_once_leave_one_set_of_hooks_and_every_other_key(
    tmp_path: Path, content: bytes | None
) -> None:
    """Two real processes released together (a regression guard: the retry must not add
    ox's hooks twice, and the backup must stay the file as it was before ox)."""
    for _ in range(3):
        path = settings(tmp_path, content=content)
        command = [sys.executable, "-c", RACER, str(path)]
        pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "text": True}
        racers = [subprocess.Popen(command, **pipes) for _ in range(2)]
        for racer in racers:
            assert racer.stdout is not None
            assert racer.stdout.readline() == "ready\n"
        for racer in racers:
            assert racer.stdin is not None
            racer.stdin.write("go\n")
            racer.stdin.flush()
        details = sorted(racer.communicate(timeout=60)[0].strip() for racer in racers)
        assert [r.returncode for r in racers] == [0, 0]
        assert any(d.startswith("installed") for d in details), details
        data = json.loads(path.read_bytes())
        for event in claude_code.events:
            assert ox_commands(data, event) == [f"ox-core hook claude-code {event}"]
        if content is not None:
            assert data["model"] == "opus"
            assert data["hooks"]["Stop"] == json.loads(ORIGINAL)["hooks"]["Stop"]
        assert Path(f"{path}.ox-backup").read_bytes() == (content or b"")
        only_ours_and(path, "settings.json.ox-backup")
        hooks_install.uninstall(claude_code, path)
        if content is None:
            assert not path.exists()  # ox made it: gone again
        else:
            assert path.read_bytes() == content
            only_ours_and(path)


# --------------------------------------------------------------- links


def ox_cli(home: Path, *argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
    environ["HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "ox_core.cli", "hooks", *argv],
        env=environ, capture_output=True, text=True, timeout=60, cwd=cwd or home,
    )  # fmt: skip


def test_the_users_settings_linked_into_a_dotfiles_repo_are_edited_there(home: Path) -> None:
    """`~/.claude/settings.json` a link into a dotfiles repository, `~/.gemini` a link to a
    folder there: `hooks install` edits the files there, the links stay links, and
    `hooks uninstall` gives the files back byte for byte."""
    dotfiles = home / "dotfiles"
    (dotfiles / "claude").mkdir(parents=True)
    (dotfiles / "gemini").mkdir()
    claude_file = dotfiles / "claude" / "settings.json"
    claude_file.write_bytes(ORIGINAL)
    gemini_file = dotfiles / "gemini" / "settings.json"
    gemini_file.write_bytes(b'{"theme": "GitHub"}')
    os.chmod(gemini_file, 0o644)
    (home / ".claude").mkdir()
    (home / ".claude" / "settings.json").symlink_to(claude_file)
    (home / ".gemini").symlink_to(dotfiles / "gemini")

    done = ox_cli(home, "install")
    assert done.returncode == 0, done.stderr
    assert (home / ".claude" / "settings.json").is_symlink()
    assert (home / ".gemini").is_symlink()
    for agent, target in ((claude_code, claude_file), (gemini, gemini_file)):
        data = json.loads(target.read_bytes())
        assert ox_commands(data, "SessionStart"), agent.adapter
        assert Path(f"{target}.ox-backup").exists()
    assert stat.S_IMODE(gemini_file.stat().st_mode) == 0o644
    assert json.loads(claude_file.read_bytes())["model"] == "opus"
    status = ox_cli(home, "status")
    assert "claude-code: installed" in status.stdout, status.stdout
    assert "gemini: installed" in status.stdout, status.stdout

    undone = ox_cli(home, "uninstall")
    assert undone.returncode == 0, undone.stderr
    assert claude_file.read_bytes() == ORIGINAL
    assert gemini_file.read_bytes() == b'{"theme": "GitHub"}'
    assert (home / ".claude" / "settings.json").is_symlink()
    assert sorted(p.name for p in claude_file.parent.iterdir()) == ["settings.json"]


def test_a_users_settings_link_to_nowhere_is_one_clear_error(home: Path) -> None:
    link = claude_code.path(home=home)
    link.parent.mkdir()
    link.symlink_to(home / "dotfiles" / "settings.json")
    with pytest.raises(HooksError, match="does not exist"):
        hooks_install.install(claude_code, link, ox="ox-core")
    assert link.is_symlink()
    assert not (home / "dotfiles").exists()


def test_a_projects_settings_folder_that_is_a_link_is_refused(home: Path, tmp_path: Path) -> None:
    """A cloned project's `.claude` may be a link to anywhere: ox does not edit through it."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "settings.json").write_bytes(ORIGINAL)
    project = tmp_path / "project"
    project.mkdir()
    (project / ".claude").symlink_to(elsewhere)
    with pytest.raises(HooksError, match="link"):
        hooks_install.install(claude_code, claude_code.path(project=project), ox="ox-core")
    assert sorted(p.name for p in elsewhere.iterdir()) == ["settings.json"]
    assert (elsewhere / "settings.json").read_bytes() == ORIGINAL
    refused = ox_cli(home, "install", "--project", "--agent", "claude", cwd=project)
    assert refused.returncode != 0
    (line,) = refused.stderr.strip().splitlines()
    assert "link" in line


# --------------------------------------------------------------- files ox leaves alone


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b'\xef\xbb\xbf{"model": "opus"}', "byte-order mark"),
        (b'{\n  // my model\n  "model": "opus"\n}', "comments"),
        (b'{"model": "opus", /* old: "sonnet" */ "theme": "dark"}', "comments"),
        ('{"model": "opus"}'.encode("utf-16"), "not UTF-8"),
        (b'{"model": "\xff"}', "not UTF-8"),
    ],
    ids=["bom", "line-comment", "block-comment", "utf-16", "latin-1"],
)
def test_settings_ox_cannot_rewrite_faithfully_are_one_clear_error_and_untouched(
    tmp_path: Path, content: bytes, why: str
) -> None:
    path = settings(tmp_path, content)
    for action in (hooks_install.install, hooks_install.uninstall):
        with pytest.raises(HooksError, match=why) as err:
            action(claude_code, path)
        assert "\n" not in str(err.value)
    assert why in hooks_install.status(claude_code, path)["error"]
    assert path.read_bytes() == content
    only_ours_and(path)


def test_a_huge_settings_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = settings(tmp_path, b"{}")
    os.truncate(path, 1 << 30)  # sparse: reading it would take a while, refusing does not
    with pytest.raises(HooksError, match="limit"):
        hooks_install.install(claude_code, path, ox="ox-core")
    assert path.stat().st_size == 1 << 30
    only_ours_and(path)
