"""The inotify watch limit reached: capture goes on by polling the folders refused, says so
once in the log and as a standing error in `status`, and watches them once the limit is
raised. Real inotify with a real limit: the capture handler runs in a user namespace of its
own (`unshare`), whose `max_inotify_watches` it sets (`watch_limit_child.py`)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

CHILD = Path(__file__).with_name("watch_limit_child.py")


def test_folders_past_the_watch_limit_are_polled_reported_and_watched_once_it_is_raised(
    tmp_path: Path,
) -> None:
    unshare = shutil.which("unshare")
    assert unshare is not None, "util-linux's unshare runs this test"
    done = subprocess.run(
        [unshare, "--user", "--map-root-user", sys.executable, str(CHILD), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    # Two of the four folders watched, two refused, every file's line captured all the same.
    assert seen["limited"] == {"folders": 2, "over_limit": 2}
    error = seen["limited_error"]
    assert "capture polls the files of 2 folder(s) every 0.1s" in error, error
    assert "the inotify watch limit (2 watches) is reached" in error, error
    assert "fs.inotify.max_user_watches" in error, error
    # Said once, not once per folder or per sweep.
    [warning] = [w for w in seen["warnings"] if "watch limit" in w]
    assert "polled every 0.1s" in warning, warning
    # Raised: every folder watched within a sweep, nothing standing.
    assert seen["raised"] == {"folders": 4, "over_limit": 0}
    assert seen["raised_error"] == ""
