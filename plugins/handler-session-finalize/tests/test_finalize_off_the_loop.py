"""The CPU-heavy parts of a finalization (redacting a whole transcript, building its prompt)
run in a worker thread, never in the daemon's event loop: a transcript of tens of MB takes
seconds to redact, and the loop serves IPC, status and the sync meanwhile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio

from ox_handler_session_finalize import handler as handler_module
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_session_capture import records

from .finalize_support import make_session


def _in_event_loop() -> bool:
    try:
        trio.lowlevel.current_task()
    except RuntimeError:
        return False
    return True


async def test_the_transcript_is_redacted_and_the_prompt_built_off_the_event_loop(
    handler: SessionFinalizeHandler, ledger: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    where: dict[str, bool] = {}
    for name in ("redact_entries", "build_summary_prompt"):
        real = getattr(handler_module, name)

        def spy(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            where[_name] = _in_event_loop()
            return _real(*args, **kwargs)

        monkeypatch.setattr(handler_module, name, spy)
    make_session(records.ledger_cache_sessions(ledger), "2026-11-25T10-00-dev-a1")
    [item] = await handler.detect(ledger)
    request = await handler.build_prompt(item)
    assert not request.skip_llm
    assert where == {"redact_entries": False, "build_summary_prompt": False}
