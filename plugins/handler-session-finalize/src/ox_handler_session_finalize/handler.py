"""The session-finalize work handler: summarise finished sessions and publish them.

`detect` finds sessions that need work; `build_prompt` asks the agent for a summary (or skips
the agent for brief sessions and upload-only items); `process_result` validates the answer,
writes the artifacts and publishes the session to the ledger. File-system work runs in worker
threads; git runs as subprocesses through `ledger.Ledger`, under one lock per ledger.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import trio
from pydantic import ValidationError

from ox_core import Outcome, RunRequest, RunResult, WorkHandler, WorkItem
from ox_handler_session_finalize.cleanup import remove_cache_folder, remove_ghosts
from ox_handler_session_finalize.detect import Found, Kind, Place, Scanner
from ox_handler_session_finalize.disposition import (
    Disposition,
    FinalizeOptions,
    Thresholds,
    decide,
)
from ox_handler_session_finalize.export import upload_files, write_artifacts
from ox_handler_session_finalize.ledger import PUSH_PAUSE, Ledger, PublishResult
from ox_handler_session_finalize.llm_output import failure_summary, parse_summary
from ox_handler_session_finalize.payload import (
    TYPE,
    FinalizeError,
    FinalizePayload,
    _payload_error,
    _Target,
    make_item,
)
from ox_handler_session_finalize.prompt import brief_summary, build_summary_prompt, is_brief
from ox_handler_session_finalize.session_folder import (
    _check_folder,
    _read_transcript,
    _summary_state,
)
from ox_handler_session_finalize.steps import steps
from ox_session_capture import records
from ox_session_capture.confined import UnsafePathError
from ox_session_capture.events import RECORDING_STOPPED
from ox_session_capture.raw_lines import UNKNOWN_KEY, merge_counts
from ox_session_capture.redact import load_ledger_rules, redact_entries

log = logging.getLogger(__name__)


class SessionFinalizeHandler(WorkHandler):
    """Summarises finished sessions and publishes them to the ledger.

    `user_cache_dir` overrides the per-user cache root (platformdirs' user cache dir by
    default). Set the PID lookup (`agent_id` → PID) and the daemon's ledger lock with
    `set_pid_lookup` / `set_ledger_lock`.
    """

    type = TYPE
    Options = FinalizeOptions

    def __init__(self, *, user_cache_dir: Path | None = None) -> None:
        self.user_cache_dir = user_cache_dir
        self.thresholds = Thresholds()
        self.keep_brief = False
        self.push_pause = PUSH_PAUSE
        self._pid_lookup: Callable[[str], int | None] | None = None
        self._lock: trio.Lock | None = None
        self._scanners: dict[Path, Scanner] = {}
        self._ledgers: dict[Path, Ledger] = {}

    # ------------------------------------------------------------ settings

    def configure(self, options: FinalizeOptions) -> None:
        """Apply `[handlers.session-finalize]` (at load and after each config edit): scores
        below `quality_discard` are discarded, below `quality_upload` kept locally; brief
        sessions are discarded unless `keep_brief`."""
        self.thresholds = options.thresholds()
        self.keep_brief = options.keep_brief

    def set_pid_lookup(self, fn: Callable[[str], int | None] | None) -> None:
        """`fn(agent_id)` → the agent's PID (or None), used when a marker has no `parent_pid`."""
        self._pid_lookup = fn
        for scanner in self._scanners.values():
            scanner.pid_lookup = fn

    def set_ledger_lock(self, lock: trio.Lock) -> None:
        """Share the daemon's per-ledger lock: every git change of this handler holds it."""
        self._lock = lock
        for ledger in self._ledgers.values():
            ledger.lock = lock

    def scanner(self, ledger: Path) -> Scanner:
        """The detection state of `ledger` (kept across scans for its summary cache)."""
        scanner = self._scanners.get(ledger)
        if scanner is None:
            scanner = Scanner(ledger, self.user_cache_dir, pid_lookup=self._pid_lookup)
            self._scanners[ledger] = scanner
        return scanner

    def ledger(self, path: Path) -> Ledger:
        """The `Ledger` of `path` (one per ledger, holding the shared lock when set)."""
        ledger = self._ledgers.get(path)
        if ledger is None:
            ledger = Ledger(path, self._lock)
            ledger.push_pause = self.push_pause
            self._ledgers[path] = ledger
        return ledger

    def _ledger_of(self, payload: FinalizePayload) -> Path:
        # The daemon's ledger, always; a payload may only repeat it. Unattached (tests,
        # `run_one_item`), a ledger this handler itself scanned.
        if self.context is not None:
            ledger = self.context.ledger
            if payload.ledger is not None and not _same_path(Path(payload.ledger), ledger):
                raise FinalizeError(
                    f"invalid {TYPE} payload: ledger {payload.ledger!r} is not the daemon's "
                    f"ledger ({ledger})"
                )
            return ledger
        if payload.ledger is None:
            raise FinalizeError("no ledger: the handler is not attached and the item names none")
        ledger = Path(payload.ledger)
        if ledger not in self._scanners:
            raise FinalizeError(f"invalid {TYPE} payload: {ledger} is not a ledger of this handler")
        return ledger

    def _target(self, payload_data: Mapping[str, Any]) -> _Target:
        """The checked ledger and folder of a payload; `FinalizeError` with the reason, having
        touched nothing. Blocking (a few `lstat`s)."""
        try:
            payload = FinalizePayload.model_validate(dict(payload_data))
        except ValidationError as exc:
            raise _payload_error(exc) from None
        ledger = self._ledger_of(payload)
        try:
            folder = self.scanner(ledger).session_folder(payload.place, payload.name)
        except UnsafePathError as exc:
            raise FinalizeError(f"invalid {TYPE} payload: {exc}") from None
        if Path(payload.path) != folder:
            raise FinalizeError(
                f"invalid {TYPE} payload: path {payload.path!r} is not the folder of session "
                f"{payload.name!r} in the {payload.place.value} sessions ({folder})"
            )
        return _Target(ledger, folder, payload)

    def validate_payload(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Check a payload before it is queued (see `FinalizePayload`): `FinalizeError` with
        the reason for anything else. Returns the payload without `ledger` when attached
        (the daemon's ledger is implied)."""
        target = self._target(payload)
        data = target.payload.model_dump(mode="json")
        data["missing"] = list(data["missing"])
        if self.context is not None or data["ledger"] is None:
            data.pop("ledger")
        return data

    # ------------------------------------------------------------ detection

    async def detect(self, ledger: Path) -> list[WorkItem]:
        """The sessions of `ledger` that need work (see `detect.Scanner`), scanned in a worker
        thread."""
        scanner = self.scanner(ledger)
        found = await trio.to_thread.run_sync(scanner.scan)
        return [self._item(ledger, f) for f in found]

    async def detect_orphaned_for_agent(
        self, ledger: Path, agent_id: str, heartbeat_pid: int
    ) -> list[WorkItem]:
        """Finalize the recordings of `agent_id` whose process just died, with no age
        threshold; a recording whose own `parent_pid` differs from `heartbeat_pid` and is
        still alive is left alone."""
        scanner = self.scanner(ledger)
        found = await trio.to_thread.run_sync(scanner.orphaned_for_agent, agent_id, heartbeat_pid)
        return [self._item(ledger, f) for f in found]

    async def cleanup(self, ledger: Path) -> None:
        """Delete ghost recordings: folders of dead recordings with nothing to recover (see
        `cleanup`)."""
        removed = await trio.to_thread.run_sync(remove_ghosts, self.scanner(ledger))
        for folder in removed:
            log.info("removed ghost recording %s", folder)

    async def finalize_soon(self, name: str) -> bool:
        """Queue finalization of session `name` of the ledger cache now (after `session stop`).
        False when there is nothing to do, the item is a duplicate or the queue is full."""
        if self.context is None:
            return False
        ledger = self.context.ledger
        scanner = self.scanner(ledger)
        try:
            folder = await trio.to_thread.run_sync(scanner.session_folder, Place.LEDGER_CACHE, name)
        except UnsafePathError as exc:
            log.error("not finalizing %s: %s", name, exc)
            return False
        found = await trio.to_thread.run_sync(
            lambda: scanner.check(Place.LEDGER_CACHE, name, folder)
        )
        if found is None:
            return False
        return self.context.enqueue(self._item(ledger, found))

    async def on_event(self, event: str, data: Mapping[str, Any]) -> None:
        """A recording stopped (`session stop`, see `ox_session_capture.events`): queue its
        finalization now rather than at the next scan."""
        name = data.get("name")
        if event == RECORDING_STOPPED and isinstance(name, str):
            await self.finalize_soon(name)

    def _item(self, ledger: Path, found: Found) -> WorkItem:
        item = make_item(found)
        if self.context is None or not _same_path(ledger, self.context.ledger):
            item.payload["ledger"] = str(ledger)
        return item

    # ------------------------------------------------------------ the prompt

    async def build_prompt(self, item: WorkItem) -> RunRequest:
        """Upload-only and brief sessions need no agent (`skip_llm`); else the summary prompt
        with the ledger as `work_dir`. Raises `FinalizeError` when the payload is invalid,
        the raw file is gone or the folder holds a link or a special file."""
        target = await trio.to_thread.run_sync(self._target, item.payload)
        ledger, folder = target.ledger, target.folder
        if target.payload.kind == Kind.UPLOAD_ONLY or not await trio.Path(folder).is_dir():
            # Nothing for the agent: process_result publishes it, or finds it gone.
            return RunRequest(skip_llm=True, work_dir=ledger)
        transcript = await trio.to_thread.run_sync(_read_transcript, folder)
        if is_brief(transcript.entries):
            return RunRequest(skip_llm=True, work_dir=ledger)
        rules = await trio.to_thread.run_sync(load_ledger_rules, ledger)
        entries = redact_entries(transcript.entries, rules)
        prompt = build_summary_prompt(entries, session_name=target.payload.name)
        # A summary is background work: the runner may pick its cheaper, faster model.
        return RunRequest(prompt=prompt, work_dir=ledger, prefer_fast=True)

    # ------------------------------------------------------------ the result

    async def process_result(self, item: WorkItem, result: RunResult) -> Outcome:
        """Check the ledger, re-check the need, parse, decide, write, publish.

        Returns what happened, for `status`: published (with or without a summary, and why
        without), discarded or kept locally and why, or nothing to do.

        Raises `LedgerBlockedError` (conflicts, push refused), `FinalizeError` (the agent
        failed, the payload is invalid, the folder holds a link or a special file or cannot
        be written: nothing written), `LfsUploadError` (deferred: nothing committed, cache copy
        kept) or `GitError` (push failed: the cache copy is found again by the next scan).
        """
        target = await trio.to_thread.run_sync(self._target, item.payload)
        ledger = self.ledger(target.ledger)
        await ledger.ensure_unblocked()
        folder, name, place = target.folder, target.payload.name, target.payload.place
        if not await trio.Path(folder).is_dir():
            log.info("session %s is gone; nothing to do", name)
            return Outcome("nothing to do", "the session folder is gone")
        await trio.to_thread.run_sync(_check_folder, folder)
        rules = await trio.to_thread.run_sync(load_ledger_rules, target.ledger)
        if target.payload.kind == Kind.UPLOAD_ONLY:
            published = await self._publish(ledger, target, rules)
            return Outcome("published", _push_note(published, "its summary was already written"))
        state = await trio.to_thread.run_sync(_summary_state, folder)
        if state.done:
            return Outcome("nothing to do", "the session is already summarised")
        transcript = await trio.to_thread.run_sync(_read_transcript, folder)
        attempts = state.attempts + 1
        brief = is_brief(transcript.entries)
        note = _unknown_note(transcript)
        if brief:
            summary = brief_summary(transcript.entries, keep=self.keep_brief)
        elif not result.ok:
            reason = result.error or (result.quota.message if result.quota else "")
            raise FinalizeError(f"summary of {name} failed: {reason or f'exit {result.exit_code}'}")
        else:
            parsed = parse_summary(result.output, steps=len(steps(transcript.entries)))
            if parsed.summary is not None:
                summary = parsed.summary
            else:
                summary = failure_summary(parsed.error or "invalid answer", attempts)
        summary.summary_attempts = attempts
        disposition = decide(summary, self.thresholds)
        try:
            await trio.to_thread.run_sync(
                lambda: write_artifacts(
                    folder, name, summary, transcript, disposition=disposition.value, rules=rules
                )
            )
        except (OSError, UnsafePathError) as exc:
            raise FinalizeError(f"cannot write the artifacts of {name}: {_reason(exc)}") from exc
        why = _why(summary, self.thresholds, brief=brief)
        if disposition is Disposition.DISCARD:
            if place is not Place.COMMITTED:
                await self._remove_cache_copy(target)
                log.info("discarded session %s (%s)", name, why)
                return Outcome("discarded: brief" if brief else "discarded", _and(why, note))
            return Outcome("kept", _and(f"{why}; it was already committed, so it stays", note))
        if disposition is Disposition.LOCAL_ONLY:
            log.info("kept session %s locally", name)
            return Outcome("kept locally", _and(why, note))
        published = await self._publish(ledger, target, rules)
        if summary.summary_status != "ok":
            reason = f"the agent's answer was unusable: {summary.validation_error}"
            return Outcome("published without summary", _push_note(published, _and(reason, note)))
        return Outcome("published", _push_note(published, note))

    async def _remove_cache_copy(self, target: _Target) -> None:
        scanner = self.scanner(target.ledger)
        try:
            await trio.to_thread.run_sync(
                remove_cache_folder, scanner, target.payload.place, target.payload.name
            )
        except UnsafePathError as exc:
            log.error("cache copy of %s kept: %s", target.payload.name, exc)

    async def _publish(
        self, ledger: Ledger, target: _Target, rules: Sequence[re.Pattern[str]]
    ) -> PublishResult:
        name = target.payload.name
        try:
            files = await trio.to_thread.run_sync(upload_files, target.folder, rules)
        except (OSError, UnsafePathError) as exc:
            raise FinalizeError(f"cannot publish {name}: {_reason(exc)}") from exc
        outcome = await ledger.publish(name, files)
        if target.payload.place is not Place.COMMITTED:
            # The cache copy goes only now that the push succeeded (or there is no remote).
            await self._remove_cache_copy(target)
        log.info(
            "published session %s (commit: %s, pushed: %s)", name, outcome.committed, outcome.pushed
        )
        return outcome


def _same_path(a: Path, b: Path) -> bool:
    return a == b or a.resolve() == b.resolve()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename or ''}: {exc.strerror}".lstrip(": ")
    return str(exc)


def _and(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _unknown_note(transcript: records.RawTranscript) -> str:
    """A word on the lines of unknown types the recording counted (a newer agent version
    may write something worth keeping there), empty when there were none."""
    extra = transcript.footer.model_extra if transcript.footer else None
    counts = merge_counts((extra or {}).get(UNKNOWN_KEY), {})
    if not counts:
        return ""
    # The footer is a teammate's data too: names are cut, at most five are shown.
    shown = ", ".join(f"{k[:60]} ×{n}" for k, n in sorted(counts.items())[:5])
    return f"{sum(counts.values())} lines of unknown types in the session file ({shown})"


def _why(summary: records.Summary, thresholds: Thresholds, *, brief: bool) -> str:
    """Why a summary led to a discard or a local-only session, in a person's words."""
    if brief:
        return "the session was brief (set keep_brief to keep such sessions)"
    if summary.quality_category in ("skip", "local_only"):
        because = f": {summary.score_reason}" if summary.score_reason else ""
        return f"the agent rated it {summary.quality_category!r}{because}"
    score = summary.quality_score
    if score is not None:
        limit = thresholds.discard if score < thresholds.discard else thresholds.upload
        return f"quality {score:.2f} is below {limit:.2f}"
    return ""


def _push_note(published: PublishResult, reason: str) -> str:
    """`reason`, plus a note when the commit was not pushed (the ledger has no remote)."""
    notes = [reason] if reason else []
    if not published.pushed:
        notes.append("committed locally: the ledger has no remote")
    return "; ".join(notes)
