"""Run by `test_watch_limit.py` in a user namespace of its own, whose inotify limits it sets
(`/proc/sys/user/max_inotify_watches` and `max_inotify_instances`, per user namespace): the
real capture handler follows session files in more folders than the watch limit allows
(`watches`), or with no inotify instance to be had (`instances`), then the limit is raised;
`removed`: past the watch limit, every followed folder removed (its agent alive), then the
limit raised.
Prints one JSON object of what it saw; every wait is bounded."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

import trio

from ox_core import HandlerContext
from ox_core.errors import OxError
from ox_session_capture.changes import FeedStatistics
from ox_session_capture.handler import SessionCaptureHandler
from ox_session_capture.recording import create_recording
from ox_session_capture.records import RAW
from ox_session_capture.testing import append, numbered_user
from ox_session_capture.transcript import read_raw

LIMIT = 60.0
FOLDERS = 4
ALLOWED = {"watches": 2, "instances": 0, "removed": 2, "nested": None}
"""`removed`: the watch limit, and the folders removed before it is raised; `nested`: none of
this namespace's own, the outer one's (set by the test) reached."""


def set_limit(what: str, limit: int | None) -> None:
    if limit is None:
        return
    kind = "watches" if what == "removed" else what
    Path(f"/proc/sys/user/max_inotify_{kind}").write_text(f"{limit}\n")


async def until(predicate: Any) -> None:
    with trio.fail_after(LIMIT):
        while not predicate():  # noqa: ASYNC110 - state moved by the capture thread
            await trio.sleep(0.02)


def seen(feed: FeedStatistics) -> dict[str, Any]:
    return {
        "folders": feed.folders,
        "over_limit": feed.over_limit,
        "inotify": feed.inotify,
        "no_inotify": feed.no_inotify,
    }


async def detect_error(handler: SessionCaptureHandler, ledger: Path) -> str:
    try:
        await handler.detect(ledger)
    except OxError as exc:
        return str(exc)
    return ""


async def raise_limit(
    what: str, handler: SessionCaptureHandler, ledger: Path, sources: list[Path], out: Any
) -> None:
    """The limit raised: what the feed and `detect` say once it has had the time to act."""
    service = handler.watch_service()
    before = service.manager.statistics().feed
    assert before is not None
    if what == "removed":
        for src in sources:  # the agents live on: their files are polled
            shutil.rmtree(src.parent)
    set_limit(what, 1000)

    def settled() -> bool:
        feed = service.manager.statistics().feed
        if feed is None:
            return False
        if what == "removed":  # three full sweeps (one every ten polls) tried them again
            return feed.sweeps >= before.sweeps + 30
        return feed.folders == FOLDERS

    await until(settled)
    feed = service.manager.statistics().feed
    assert feed is not None
    out["raised"] = seen(feed)
    out["raised_error"] = await detect_error(handler, ledger)


async def main(root: Path, what: str) -> dict[str, Any]:
    home, ledger = root / "home", root / "ledger"
    ledger.mkdir()
    os.environ["HOME"] = str(home)
    warnings: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                warnings.append(record.getMessage())

    logging.getLogger("ox_session_capture").addHandler(Keep())
    set_limit(what, ALLOWED[what])
    handler = SessionCaptureHandler(home=home)
    handler.attach(HandlerContext(ledger=ledger, enqueue=lambda item: False))
    service = handler.watch_service()
    sources = []
    for i in range(FOLDERS):
        folder = home / ".claude" / "projects" / f"-home-dev-p{i}"
        folder.mkdir(parents=True)
        src = folder / f"{uuid.uuid4()}.jsonl"
        src.touch()
        sources.append(src)
    out: dict[str, Any] = {}
    async with trio.open_nursery() as nursery:
        await nursery.start(handler.serve, ledger)
        recs = []
        for src in sources:
            rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home)
            assert await service.manager.start_watch(rec.name, src, "claude-code")
            recs.append(rec)
        for src in sources:
            append(src, numbered_user(0))

        def captured() -> bool:
            return all(
                [e.content for e in read_raw(r.session_dir / RAW).entries] == ["message 0"]
                for r in recs
            )

        await until(captured)
        feed = service.manager.statistics().feed
        assert feed is not None
        out["limited"] = seen(feed)
        out["limited_error"] = await detect_error(handler, ledger)
        if what == "nested":  # the outer namespace's limit: not this one's to raise
            nursery.cancel_scope.cancel()
        else:
            await raise_limit(what, handler, ledger, sources, out)
            nursery.cancel_scope.cancel()
    await service.manager.stop_all()
    out["warnings"] = warnings
    return out


if __name__ == "__main__":
    print(json.dumps(trio.run(main, Path(sys.argv[1]), sys.argv[2])))
