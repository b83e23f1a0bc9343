"""The inotify limits reached: capture goes on by polling what cannot be watched, says so
once in the log and as a standing error in `status`, and watches it once the limit is
raised. Real inotify with real limits: the capture handler runs in a user namespace of its
own (`unshare`), whose `max_inotify_watches` or `max_inotify_instances` it sets
(`watch_limit_child.py`)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

CHILD = Path(__file__).with_name("watch_limit_child.py")


def limited(tmp_path: Path, what: str) -> dict[str, Any]:
    """What `watch_limit_child.py` saw with the limit of inotify `what` set low, then raised."""
    unshare = shutil.which("unshare")
    assert unshare is not None, "util-linux's unshare runs this test"
    argv = [unshare, "--user", "--map-root-user", sys.executable, str(CHILD), str(tmp_path), what]
    if what == "nested":  # a namespace with a limit of 2 watches, the child's inside it
        limit = 'echo 2 > /proc/sys/user/max_inotify_watches && exec "$@"'
        argv = [unshare, "--user", "--map-root-user", "sh", "-c", limit, "sh", *argv]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    seen: dict[str, Any] = json.loads(done.stdout)
    return seen


def test_folders_past_the_watch_limit_are_polled_reported_and_watched_once_it_is_raised(
    tmp_path: Path,
) -> None:
    seen = limited(tmp_path, "watches")
    # Two of the four folders watched, two refused, every file's line captured all the same.
    assert seen["limited"] == {"folders": 2, "over_limit": 2, "inotify": True, "no_inotify": ""}
    error = seen["limited_error"]
    assert "capture polls the files of 2 folder(s) every 0.1s" in error, error
    assert "the inotify watch limit (2 watches) is reached" in error, error
    assert "fs.inotify.max_user_watches" in error, error
    # Said once, not once per folder or per sweep.
    [warning] = [w for w in seen["warnings"] if "watch limit" in w]
    assert "polled every 0.1s" in warning, warning
    # Raised: every folder watched within a sweep, nothing standing.
    assert seen["raised"] == {"folders": 4, "over_limit": 0, "inotify": True, "no_inotify": ""}
    assert seen["raised_error"] == ""


def test_a_refused_folder_removed_is_no_longer_reported_past_the_watch_limit(
    tmp_path: Path,
) -> None:
    seen = limited(tmp_path, "removed")
    assert seen["limited"]["over_limit"] == 2
    # Gone, its files are polled for that: raising the limit would not watch it, and a
    # standing error telling to raise it (forever, while its agent lives) would be false.
    assert seen["raised"] == {"folders": 0, "over_limit": 0, "inotify": True, "no_inotify": ""}
    assert seen["raised_error"] == ""


def test_a_namespace_without_a_watch_limit_of_its_own_names_the_first_namespaces(
    tmp_path: Path,
) -> None:
    # A container's user namespace (toolbox, rootless podman) has no limit of its own
    # (2**31 - 1): the kernel enforces its ancestors', the first namespace's included, the
    # one to raise. (This test's own outer namespace, with 2, is out of the child's sight.)
    seen = limited(tmp_path, "nested")
    assert seen["limited"]["over_limit"] == 2
    first = Path("/proc/sys/fs/inotify/max_user_watches").read_text().strip()
    assert f"the inotify watch limit ({first} watches) is reached" in seen["limited_error"]
    [warning] = [w for w in seen["warnings"] if "watch limit" in w]
    assert f"({first} watches)" in warning, warning


def test_without_an_inotify_instance_files_are_polled_reported_and_watched_once_one_is_had(
    tmp_path: Path,
) -> None:
    seen = limited(tmp_path, "instances")
    why = (
        "no inotify instance to spare: the user's inotify instances are used up "
        "(fs.inotify.max_user_instances = 0)"
    )
    assert seen["limited"] == {"folders": 0, "over_limit": 0, "inotify": False, "no_inotify": why}
    error = seen["limited_error"]
    assert error == (
        "capture polls every followed file every 0.1s instead of waking on their changes: "
        f"{why}; inotify is tried again every second"
    )
    [warning] = [w for w in seen["warnings"] if "inotify" in w]
    assert why in warning, warning
    # An instance had at a later sweep: every folder watched, nothing standing.
    assert seen["raised"] == {"folders": 4, "over_limit": 0, "inotify": True, "no_inotify": ""}
    assert seen["raised_error"] == ""
