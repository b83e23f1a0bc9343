"""The session-finalize work handler: summarise finished sessions and publish them.

`detect` finds sessions that need work; `build_prompt` asks the agent for a summary (or skips
the agent for brief sessions and upload-only items); `process_result` validates the answer,
writes the artifacts and publishes the session to the ledger. File-system work runs in worker
threads; git runs as subprocesses through `ledger.Ledger`, under one lock per ledger.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import trio
from pydantic import ValidationError

from ox_core import Outcome, RunRequest, RunResult, WorkHandler, WorkItem
from ox_core.contracts import Diagnosis, IpcMethod
from ox_core.errors import LedgerBlockedError
from ox_core.sync_signal import SyncConfig
from ox_handler_session_finalize.cleanup import remove_cache_folder, remove_discarded, remove_ghosts
from ox_handler_session_finalize.detect import Found, Kind, Place, Scanner
from ox_handler_session_finalize.diagnose import diagnose
from ox_handler_session_finalize.disposition import (
    Disposition,
    FinalizeOptions,
    Thresholds,
    decide,
)
from ox_handler_session_finalize.export import Redacted, upload_files, write_artifacts
from ox_handler_session_finalize.git import GitError
from ox_handler_session_finalize.ledger import PUSH_PAUSE, Ledger, PublishResult
from ox_handler_session_finalize.ledger_setup import ensure_ignore_lines
from ox_handler_session_finalize.llm_output import failure_summary, parse_summary
from ox_handler_session_finalize.outcomes import (
    and_,
    beside_note,
    push_note,
    reason_of,
    same_path,
    unknown_note,
    why,
)
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
    _drop_needs_summary,
    _read_transcript,
    _remove_staging,
    _staging_copy,
    _summary_state,
)
from ox_handler_session_finalize.steps import steps
from ox_handler_session_finalize.sync_service import LedgerSyncer, push_soon
from ox_session_capture.confined import UnsafePathError
from ox_session_capture.events import RECORDING_STOPPED
from ox_session_capture.records import MARKER, Summary
from ox_session_capture.redact import load_ledger_rules, redact_entries
from ox_session_capture.transcript import RawTranscript

log = logging.getLogger(__name__)


RUNAWAY_REASON = "the summarizer printed more than its runner keeps (runaway output): no answer"
"""The validation error of a summary whose run was stopped for runaway output."""


class SessionFinalizeHandler(WorkHandler):
    """Summarises finished sessions and publishes them to the ledger.

    `user_cache_dir` overrides the per-user cache root (platformdirs' user cache dir by
    default). Share the daemon's ledger lock with `set_ledger_lock`.
    """

    type = TYPE
    Options = FinalizeOptions
    takes_runaway_answers = True

    def __init__(self, *, user_cache_dir: Path | None = None) -> None:
        self.user_cache_dir = user_cache_dir
        self.thresholds = Thresholds()
        self.keep_brief = False
        self.push_pause = PUSH_PAUSE
        self._lock: trio.Lock | None = None
        self._scanners: dict[Path, Scanner] = {}
        self._ledgers: dict[Path, Ledger] = {}
        self._syncers: dict[Path, LedgerSyncer] = {}
        self.author = ""

    # ------------------------------------------------------------ settings

    def configure(self, options: FinalizeOptions) -> None:
        """Apply `[handlers.session-finalize]` (at load and after each config edit): scores
        below `quality_discard` are discarded, below `quality_upload` kept locally; brief
        sessions are discarded unless `keep_brief`."""
        self.thresholds = options.thresholds()
        self.author = options.author
        for ledger in self._ledgers.values():
            ledger.author = options.author
        self.keep_brief = options.keep_brief

    def set_ledger_lock(self, lock: trio.Lock) -> None:
        """Share the daemon's per-ledger lock: every git change of this handler holds it."""
        self._lock = lock
        for ledger in self._ledgers.values():
            ledger.lock = lock

    def scanner(self, ledger: Path) -> Scanner:
        """The detection state of `ledger` (kept across scans for its summary cache)."""
        scanner = self._scanners.get(ledger)
        if scanner is None:
            scanner = Scanner(ledger, self.user_cache_dir)
            self._scanners[ledger] = scanner
        return scanner

    def ledger(self, path: Path) -> Ledger:
        """The `Ledger` of `path` (one per ledger, holding the shared lock when set)."""
        ledger = self._ledgers.get(path)
        if ledger is None:
            ledger = Ledger(path, self._lock, author=self.author)
            ledger.push_pause = self.push_pause
            self._ledgers[path] = ledger
        return ledger

    def syncer(self, path: Path) -> LedgerSyncer:
        """The sync service of the ledger at `path` (its `[sync]` table and the daemon's sync
        signal when attached)."""
        syncer = self._syncers.get(path)
        if syncer is None:
            context = self.context
            syncer = LedgerSyncer(
                self.ledger(path),
                config=context.sync_config if context is not None else SyncConfig,
                signal=context.sync_signal if context is not None else None,
            )
            self._syncers[path] = syncer
        return syncer

    async def serve(
        self, ledger: Path, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """The ledger's sync service (see `sync_service`), after committing the `.gitignore`
        lines the ledger needs (once; a missing git identity is logged and retried at the
        next start, `doctor` says how to fix it)."""
        try:
            await ensure_ignore_lines(self.ledger(ledger))
        except (LedgerBlockedError, GitError, OSError) as exc:
            log.error("the ledger's .gitignore lines are not committed: %s", exc)
        await self.syncer(ledger).run(task_status=task_status)

    def diagnose(self, ledger: Path) -> list[Diagnosis]:
        """`ox-core doctor`'s ledger checks (see `diagnose`)."""
        return diagnose(ledger, self.author)

    def ipc_methods(self) -> Mapping[str, IpcMethod]:
        """`ledger_sync`: sync the ledger now (`ox-core sync`), answering its state."""
        return {"ledger_sync": self._ipc_sync}

    async def _ipc_sync(self, params: dict[str, Any]) -> dict[str, Any]:
        if params:
            raise FinalizeError(f"ledger_sync takes no parameters, got {sorted(params)}")
        if self.context is None:
            raise FinalizeError("no ledger: the handler is not attached")
        syncer = self.syncer(self.context.ledger)
        await syncer.sync_once()
        return syncer.state_json()

    def _ledger_of(self, payload: FinalizePayload) -> Path:
        # The daemon's ledger, always; a payload may only repeat it. Unattached (tests,
        # `run_one_item`), a ledger this handler itself scanned.
        if self.context is not None:
            ledger = self.context.ledger
            if payload.ledger is not None and not same_path(Path(payload.ledger), ledger):
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

    async def cleanup(self, ledger: Path) -> None:
        """Delete ghost recordings (folders of dead recordings with nothing to recover) and
        the cache copies of discarded sessions a crash left (see `cleanup`)."""
        removed = await trio.to_thread.run_sync(remove_ghosts, self.scanner(ledger))
        for folder in removed:
            log.info("removed ghost recording %s", folder)
        removed = await trio.to_thread.run_sync(remove_discarded, self.scanner(ledger))
        for folder in removed:
            log.info("removed discarded session %s (left by an interrupted finalization)", folder)

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
        if self.context is None or not same_path(ledger, self.context.ledger):
            item.payload["ledger"] = str(ledger)
        return item

    # ------------------------------------------------------------ the prompt

    async def build_prompt(self, item: WorkItem) -> RunRequest:
        """Upload-only and brief sessions need no agent (`skip_llm`); else the summary prompt
        with the ledger as `work_dir`. Raises `FinalizeError` when the payload is invalid,
        the raw file is gone or the folder holds a link or a special file."""
        target = await trio.to_thread.run_sync(self._target, item.payload)
        ledger, folder = target.ledger, target.folder
        kind = await self._kind(target)
        if kind is None or kind == Kind.UPLOAD_ONLY or not await trio.Path(folder).is_dir():
            # Nothing for the agent: process_result publishes it, or finds it gone.
            return RunRequest(skip_llm=True, work_dir=ledger)
        committed = target.payload.place is Place.COMMITTED
        transcript = await trio.to_thread.run_sync(_read_transcript, folder, committed)
        if is_brief(transcript.entries):
            return RunRequest(skip_llm=True, work_dir=ledger)
        rules = await trio.to_thread.run_sync(load_ledger_rules, ledger)

        def prompt_of() -> str:
            # Seconds for a big transcript: never in the event loop, which serves IPC meanwhile.
            entries = redact_entries(transcript.entries, rules)
            return build_summary_prompt(entries, session_name=target.payload.name)

        prompt = await trio.to_thread.run_sync(prompt_of)
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
        await ledger.ensure_unblocked(quick=True)
        folder, name, place = target.folder, target.payload.name, target.payload.place
        if not await trio.Path(folder).is_dir():
            log.info("session %s is gone; nothing to do", name)
            return Outcome("nothing to do", "the session folder is gone")
        await trio.to_thread.run_sync(_check_folder, folder)
        kind = await self._kind(target)
        if kind is None:
            log.info("session %s is still recorded or not to be published; nothing to do", name)
            return Outcome(
                "nothing to do", "the session is still being recorded, or is not to be published"
            )
        rules = await trio.to_thread.run_sync(load_ledger_rules, target.ledger)
        if kind == Kind.UPLOAD_ONLY:
            published = await self._publish(ledger, target, rules)
            done = and_("its summary was already written", beside_note(published, name))
            return Outcome("published", push_note(published, done))
        state = await trio.to_thread.run_sync(_summary_state, folder)
        if state.done:
            return Outcome("nothing to do", "the session is already summarised")
        committed = place is Place.COMMITTED
        transcript = await trio.to_thread.run_sync(_read_transcript, folder, committed)
        attempts = state.attempts + 1
        brief = is_brief(transcript.entries)
        note = unknown_note(transcript)
        if brief:
            summary = brief_summary(transcript.entries, keep=self.keep_brief)
        elif result.runaway:
            # An attempt like an invalid answer (published without a summary after the last):
            # run again as a failure, a transcript that steers the model into it would keep
            # the session from ever being published. The CLI's output is not quoted.
            summary = failure_summary(RUNAWAY_REASON, attempts)
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
        because = why(summary, self.thresholds, brief=brief, rules=rules)
        if place is not Place.COMMITTED:
            redacted = await self._write(folder, name, summary, transcript, disposition, rules)
            if disposition is Disposition.DISCARD:
                await self._remove_cache_copy(target)
                log.info("discarded session %s (%s)", name, because)
                return Outcome("discarded: brief" if brief else "discarded", and_(because, note))
            if disposition is Disposition.LOCAL_ONLY:
                log.info("kept session %s locally", name)
                return Outcome("kept locally", and_(because, note))
            published = await self._publish(ledger, target, rules, redacted)
            note = and_(beside_note(published, name), note)
        else:
            # The committed folder is git's work tree: the retry is written in a staging copy
            # and reaches `sessions/<name>/` only through `publish`, under the ledger lock and
            # whatever the disposition (the session is public already; its new summary is
            # committed, or the retry would run again at every scan). A sync never meets it
            # half-written and a failed step leaves nothing uncommitted there.
            try:
                staging = await trio.to_thread.run_sync(_staging_copy, target.ledger, folder)
            except (OSError, UnsafePathError) as exc:
                raise FinalizeError(f"cannot stage the retry of {name}: {reason_of(exc)}") from exc
            try:
                redacted = await self._write(staging, name, summary, transcript, disposition, rules)
                await trio.to_thread.run_sync(_drop_needs_summary, folder)
                published = await self._publish(ledger, target, rules, redacted, staging)
            finally:
                with trio.CancelScope(shield=True):
                    await trio.to_thread.run_sync(_remove_staging, staging)
            if disposition is not Disposition.UPLOAD:
                kept = f"{because}; it was already committed, so it stays"
                return Outcome("kept", push_note(published, and_(kept, note)))
        if summary.summary_status != "ok":
            reason = f"the agent's answer was unusable: {summary.validation_error}"
            return Outcome("published without summary", push_note(published, and_(reason, note)))
        return Outcome("published", push_note(published, note))

    async def _kind(self, target: _Target) -> Kind | None:
        """The work `target` needs, its payload's `kind` checked against the folder (a payload
        is the queue's word, or `ox-core enqueue`'s): None for a live recording of a cache
        (its marker is there: the watcher still writes it, detection ends it once stale) and
        for an upload-only item whose folder detection would not publish (kept locally,
        discarded, or without a finished summary: then what detection finds, e.g. `full`)."""
        place, name, folder = target.payload.place, target.payload.name, target.folder
        if place is not Place.COMMITTED and await trio.Path(folder / MARKER).exists():
            return None
        if target.payload.kind != Kind.UPLOAD_ONLY:
            return target.payload.kind
        if not await trio.Path(folder).is_dir():
            return Kind.UPLOAD_ONLY  # gone: process_result says so
        scanner = self.scanner(target.ledger)
        found = await trio.to_thread.run_sync(lambda: scanner.check(place, name, folder))
        return found.kind if found is not None else None

    async def _write(
        self,
        folder: Path,
        name: str,
        summary: Summary,
        transcript: RawTranscript,
        disposition: Disposition,
        rules: Sequence[re.Pattern[str]],
    ) -> Redacted:
        """`write_artifacts` into `folder` in a worker thread; the files it redacted for upload.
        `FinalizeError` when they cannot be written."""
        redacted = Redacted()
        try:
            await trio.to_thread.run_sync(
                lambda: write_artifacts(
                    folder,
                    name,
                    summary,
                    transcript,
                    disposition=disposition.value,
                    rules=rules,
                    redacted=redacted,
                )
            )
        except (OSError, UnsafePathError) as exc:
            raise FinalizeError(f"cannot write the artifacts of {name}: {reason_of(exc)}") from exc
        return redacted

    async def _remove_cache_copy(self, target: _Target) -> None:
        scanner = self.scanner(target.ledger)
        try:
            await trio.to_thread.run_sync(
                remove_cache_folder, scanner, target.payload.place, target.payload.name
            )
        except UnsafePathError as exc:
            log.error("cache copy of %s kept: %s", target.payload.name, exc)

    async def _publish(
        self,
        ledger: Ledger,
        target: _Target,
        rules: Sequence[re.Pattern[str]],
        redacted: Redacted | None = None,
        source: Path | None = None,
    ) -> PublishResult:
        """Commit the files of `source` (the session's folder by default) as the session's: a
        committed session replaces its own folder, one from a cache never replaces another
        session's (`Ledger.publish`; `PublishResult.name` is the folder it took). The cache
        copy removed is the one of the item's name, wherever it was published."""
        name = target.payload.name
        folder = source if source is not None else target.folder
        try:
            files = await trio.to_thread.run_sync(upload_files, folder, rules, redacted)
        except (OSError, UnsafePathError) as exc:
            raise FinalizeError(f"cannot publish {name}: {reason_of(exc)}") from exc
        replace = target.payload.place is Place.COMMITTED
        outcome = await ledger.publish(name, files, replace=replace)
        if target.payload.place is not Place.COMMITTED:
            # The commit holds the session now: the cache copy goes (the push is the sync's).
            await self._remove_cache_copy(target)
        outcome = await push_soon(self._syncers.get(ledger.path), ledger, outcome)
        log.info(
            "published session %s (commit: %s, pushed: %s)%s",
            name,
            outcome.committed,
            outcome.pushed,
            f"; {beside_note(outcome, name)}" if outcome.name != name else "",
        )
        return outcome
