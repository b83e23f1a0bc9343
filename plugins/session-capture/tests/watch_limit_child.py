"""Run by `test_watch_limit.py` in a user namespace of its own, whose inotify watch limit it
sets (`/proc/sys/user/max_inotify_watches`, per user namespace): the real capture handler
follows session files in more folders than the limit allows, then the limit is raised.
Prints one JSON object of what it saw; every wait is bounded."""

from __future__ import annotations

import json
import logging
import os
import sys
import uuid
from pathlib import Path
from typing import Any

import trio

from ox_core import HandlerContext
from ox_core.errors import OxError
from ox_session_capture.handler import SessionCaptureHandler
from ox_session_capture.recording import create_recording
from ox_session_capture.records import RAW
from ox_session_capture.testing import append, numbered_user
from ox_session_capture.transcript import read_raw

LIMIT = 60.0
WATCHES = Path("/proc/sys/user/max_inotify_watches")
FOLDERS = 4
ALLOWED = 2


def set_limit(watches: int) -> None:
    WATCHES.write_text(f"{watches}\n")


async def until(predicate: Any) -> None:
    with trio.fail_after(LIMIT):
        while not predicate():  # noqa: ASYNC110 - state moved by the capture thread
            await trio.sleep(0.02)


async def detect_error(handler: SessionCaptureHandler, ledger: Path) -> str:
    try:
        await handler.detect(ledger)
    except OxError as exc:
        return str(exc)
    return ""


async def main(root: Path) -> dict[str, Any]:
    home, ledger = root / "home", root / "ledger"
    os.environ["HOME"] = str(home)
    warnings: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                warnings.append(record.getMessage())

    logging.getLogger("ox_session_capture").addHandler(Keep())
    set_limit(ALLOWED)
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
        out["limited"] = {"folders": feed.folders, "over_limit": feed.over_limit}
        out["limited_error"] = await detect_error(handler, ledger)
        set_limit(1000)
        await until(lambda: service.manager.statistics().feed.over_limit == 0)  # type: ignore[union-attr]
        feed = service.manager.statistics().feed
        assert feed is not None
        out["raised"] = {"folders": feed.folders, "over_limit": feed.over_limit}
        out["raised_error"] = await detect_error(handler, ledger)
        nursery.cancel_scope.cancel()
    await service.manager.stop_all()
    out["warnings"] = warnings
    return out


if __name__ == "__main__":
    print(json.dumps(trio.run(main, Path(sys.argv[1]))))
