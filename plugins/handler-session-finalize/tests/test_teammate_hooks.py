"""A teammate's commit never runs code on this machine through git's hooks.

Git runs hooks from wherever the user's configuration says: a global `core.hooksPath` that
is relative (`.githooks`, a common way to share hooks in a project) is read from the work
tree, so in the ledger from files any teammate commits; a hook a template put into every
clone (`init.templateDir`, e.g. pre-commit's `init-templatedir`) runs whatever config file a
teammate committed. ox's git processes in the ledger run no hook but git-lfs' upload on push.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ox_handler_session_finalize.ledger import Ledger
from ox_handler_session_finalize.sync import sync_ledger

from .conftest import LfsServer
from .finalize_support import GIT_IDENTITY, clone, commit_count, git

NAME = "2026-11-25T10-00-dev-a1"
OURS = b'{"type":"user","content":"ours"}\n'
HOOKS = (
    "pre-commit", "prepare-commit-msg", "commit-msg", "post-commit", "pre-push",
    "post-checkout", "post-merge", "post-rewrite", "pre-rebase", "reference-transaction",
    "pre-auto-gc",
)  # fmt: skip


def planted(folder: Path, ran: Path) -> None:
    """Every hook git may run, each noting its name in `ran`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in HOOKS:
        hook = folder / name
        hook.write_text(f"#!/bin/sh\necho {name} >> {ran}\n")
        hook.chmod(0o755)


def teammate_pushes_hooks(remote: Path, where: Path, ran: Path) -> None:
    mate = clone(remote, where)
    planted(mate / ".githooks", ran)
    git(mate, "add", ".githooks")
    git(mate, "commit", "-qm", "share our hooks")
    git(mate, "push", "-q", "origin", "HEAD:main")
    # The teammate's own runs of them are no part of the test.
    ran.unlink(missing_ok=True)


def git_clone(remote: Path, dest: Path, env: dict[str, str]) -> Path:
    subprocess.run(["git", "clone", "-q", str(remote), str(dest)], env=env, check=True)
    return dest


async def publish_and_sync(ledger: Path) -> Ledger:
    repo = Ledger(ledger)
    repo.push_pause = 0
    await sync_ledger(repo)  # gets the teammate's commit (a rebase or a fast-forward)
    await repo.publish(NAME, {"raw.jsonl": OURS})
    await sync_ledger(repo)
    return repo


async def test_a_relative_global_hooks_path_runs_no_teammates_hook(
    ledger: Path, remote: Path, tmp_path: Path
) -> None:
    ran = tmp_path / "hooks-ran"
    teammate_pushes_hooks(remote, tmp_path / "mate", ran)
    git(ledger, "config", "--global", "core.hooksPath", ".githooks")
    # A commit of our own first, so that the sync has to rebase (post-rewrite, pre-rebase).
    git(ledger, "commit", "-q", "--allow-empty", "-m", "a note of ours")
    ran.unlink(missing_ok=True)
    await publish_and_sync(ledger)
    assert (ledger / ".githooks" / "pre-commit").exists()  # the teammate's hooks are here
    assert commit_count(remote) == commit_count(ledger)  # published
    assert not ran.exists(), ran.read_text()


async def test_hooks_a_template_put_into_the_clone_do_not_run(remote: Path, tmp_path: Path) -> None:
    ran = tmp_path / "hooks-ran"
    template = tmp_path / "template"
    planted(template / "hooks", ran)
    env = {**os.environ, **GIT_IDENTITY, "GIT_TEMPLATE_DIR": str(template)}
    ledger = git_clone(remote, tmp_path / "ledger", env)
    ran.unlink(missing_ok=True)
    await publish_and_sync(ledger)
    assert commit_count(remote) == commit_count(ledger)
    assert not ran.exists(), ran.read_text()


async def test_a_push_still_runs_git_lfs_upload_and_only_it(
    ledger: Path, remote: Path, lfs_server: LfsServer, tmp_path: Path
) -> None:
    # Sessions routed through LFS by a `.gitattributes` below the top one, which ox does not
    # read: only git-lfs' pre-push hook uploads their content (git-lfs' filters set up as
    # `git lfs install` does, without its hooks).
    git(ledger, "lfs", "install", "--local", "--skip-repo")
    git(ledger, "config", "remote.origin.lfsurl", lfs_server.url)
    git(ledger, "config", "lfs.locksverify", "false")
    (ledger / "sessions").mkdir()
    (ledger / "sessions" / ".gitattributes").write_text(
        "*.jsonl filter=lfs diff=lfs merge=lfs -text\n"
    )
    git(ledger, "add", "sessions/.gitattributes")
    git(ledger, "commit", "-q", "-m", "sessions through LFS")
    ran = tmp_path / "hooks-ran"
    teammate_pushes_hooks(remote, tmp_path / "mate", ran)
    git(ledger, "config", "--global", "core.hooksPath", ".githooks")
    await publish_and_sync(ledger)
    assert commit_count(remote) == commit_count(ledger)
    assert any(data == OURS for data in lfs_server.objects().values())
    assert not ran.exists(), ran.read_text()
