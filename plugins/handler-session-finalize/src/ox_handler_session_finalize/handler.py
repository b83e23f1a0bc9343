"""The session-finalize work handler (SPEC §3.3–§3.6).

`detect` finds sessions that need work; `build_prompt` asks the agent for a summary (or skips
the agent for brief sessions and upload-only items); `process_result` validates the answer,
writes the artifacts and publishes the session to the ledger. File-system work runs in worker
threads; git runs as subprocesses through `ledger.Ledger`, under one lock per ledger.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import trio

from ox_core import Outcome, RunRequest, RunResult, WorkHandler, WorkItem
from ox_core.contracts import IpcMethod
from ox_core.errors import OxError
from ox_handler_session_finalize import records
from ox_handler_session_finalize.cleanup import remove_ghosts
from ox_handler_session_finalize.detect import Found, Kind, Place, Scanner
from ox_handler_session_finalize.disposition import Disposition, Thresholds, decide
from ox_handler_session_finalize.export import redact_entries, upload_files, write_artifacts
from ox_handler_session_finalize.ledger import PUSH_PAUSE, Ledger, PublishResult
from ox_handler_session_finalize.llm_output import failure_summary, parse_summary
from ox_handler_session_finalize.prompt import brief_summary, build_summary_prompt, is_brief
from ox_handler_session_finalize.records import ARTIFACTS, NEEDS_SUMMARY, RAW, SUMMARY_JSON
from ox_handler_session_finalize.redact import load_ledger_rules
from ox_handler_session_finalize.service import SessionWatchService

log = logging.getLogger(__name__)

TYPE = "session-finalize"
PRIORITY = 10


class FinalizeError(OxError):
    """A session could not be finalized this time (the agent failed, the folder is unreadable);
    the item is retried and the session is left as it was."""


def make_item(found: Found) -> WorkItem:
    """The work item of a session found by detection."""
    return WorkItem(
        type=TYPE,
        dedup_key=f"{TYPE}:{found.name}",
        priority=PRIORITY,
        payload={
            "name": found.name,
            "path": str(found.path),
            "place": found.place.value,
            "kind": found.kind.value,
            "missing": list(found.missing),
        },
    )


class SessionFinalizeHandler(WorkHandler):
    """Summarises finished sessions and publishes them to the ledger.

    `user_cache_dir` overrides the per-user cache root (platformdirs' user cache dir by
    default). Set the PID lookup (`agent_id` → PID) and the daemon's ledger lock with
    `set_pid_lookup` / `set_ledger_lock`.
    """

    type = TYPE

    def __init__(self, *, user_cache_dir: Path | None = None) -> None:
        self.user_cache_dir = user_cache_dir
        self.thresholds = Thresholds()
        self.push_pause = PUSH_PAUSE
        self._pid_lookup: Callable[[str], int | None] | None = None
        self._lock: trio.Lock | None = None
        self._scanners: dict[Path, Scanner] = {}
        self._ledgers: dict[Path, Ledger] = {}
        self._watch: SessionWatchService | None = None

    # ------------------------------------------------------------ settings

    def set_quality_thresholds(self, upload: float, discard: float) -> None:
        """Scores below `discard` are discarded, below `upload` kept locally (SPEC §3.6 step 5).
        Raises `ValueError` unless 0 <= discard <= upload <= 1."""
        self.thresholds = Thresholds(upload=upload, discard=discard)

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

    def _ledger_path(self, item: WorkItem) -> Path:
        if "ledger" in item.payload:
            return Path(item.payload["ledger"])
        if self.context is None:
            raise FinalizeError("no ledger: the handler is not attached and the item names none")
        return self.context.ledger

    # ------------------------------------------------------------ detection

    async def detect(self, ledger: Path) -> list[WorkItem]:
        """The sessions of `ledger` that need work (SPEC §3.3), scanned in a worker thread."""
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
        """Delete ghost recordings (SPEC §3.4)."""
        removed = await trio.to_thread.run_sync(remove_ghosts, self.scanner(ledger))
        for folder in removed:
            log.info("removed ghost recording %s", folder)

    async def finalize_soon(self, name: str) -> bool:
        """Queue finalization of session `name` of the ledger cache now (after `session stop`).
        False when there is nothing to do, the item is a duplicate or the queue is full."""
        if self.context is None:
            return False
        ledger = self.context.ledger
        folder = records.ledger_cache_sessions(ledger) / name
        scanner = self.scanner(ledger)
        found = await trio.to_thread.run_sync(
            lambda: scanner.check(Place.LEDGER_CACHE, name, folder)
        )
        if found is None:
            return False
        return self.context.enqueue(self._item(ledger, found))

    # ------------------------------------------------------------ the session watcher

    def watch_service(self, ledger: Path | None = None) -> SessionWatchService:
        """The session watcher of the attached ledger (SPEC §3.7), created on first use."""
        if self._watch is None:
            if ledger is None and self.context is not None:
                ledger = self.context.ledger
            if ledger is None:
                raise FinalizeError("no ledger: the handler is not attached")
            self._watch = SessionWatchService(ledger, finalize_soon=self.finalize_soon)
        return self._watch

    async def serve(
        self, ledger: Path, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Run the session watcher until cancelled (resumes live tail recordings first)."""
        await self.watch_service(ledger).serve(task_status=task_status)

    def ipc_methods(self) -> Mapping[str, IpcMethod]:
        """`session_watch_start` and `session_watch_stop` (SPEC §1.7); none before attach."""
        if self._watch is None and self.context is None:
            return {}
        return self.watch_service().ipc_methods()

    def _item(self, ledger: Path, found: Found) -> WorkItem:
        item = make_item(found)
        item.payload["ledger"] = str(ledger)
        return item

    # ------------------------------------------------------------ the prompt

    async def build_prompt(self, item: WorkItem) -> RunRequest:
        """Upload-only and brief sessions need no agent (`skip_llm`); else the summary prompt
        with the ledger as `work_dir`. Raises `FinalizeError` when the raw file is gone."""
        ledger = self._ledger_path(item)
        if item.payload.get("kind") == Kind.UPLOAD_ONLY:
            return RunRequest(skip_llm=True, work_dir=ledger)
        folder = Path(item.payload["path"])
        transcript = await trio.to_thread.run_sync(_read_transcript, folder)
        if is_brief(transcript.entries):
            return RunRequest(skip_llm=True, work_dir=ledger)
        rules = await trio.to_thread.run_sync(load_ledger_rules, ledger)
        entries = redact_entries(transcript.entries, rules)
        prompt = build_summary_prompt(entries, session_name=item.payload["name"])
        return RunRequest(prompt=prompt, work_dir=ledger)

    # ------------------------------------------------------------ the result

    async def process_result(self, item: WorkItem, result: RunResult) -> Outcome:
        """SPEC §3.6: check the ledger, re-check the need, parse, decide, write, publish.

        Returns what happened, for `status`: published (with or without a summary, and why
        without), discarded or kept locally and why, or nothing to do.

        Raises `LedgerBlockedError` (conflicts, push refused), `FinalizeError` (the agent
        failed: nothing written), `LfsUploadError` (deferred: nothing committed, cache copy
        kept) or `GitError` (push failed: the cache copy is found again by the next scan).
        """
        ledger_path = self._ledger_path(item)
        ledger = self.ledger(ledger_path)
        await ledger.ensure_unblocked()
        folder = Path(item.payload["path"])
        name = str(item.payload["name"])
        if not await trio.Path(folder).is_dir():
            log.info("session %s is gone; nothing to do", name)
            return Outcome("nothing to do", "the session folder is gone")
        rules = await trio.to_thread.run_sync(load_ledger_rules, ledger_path)
        if item.payload.get("kind") == Kind.UPLOAD_ONLY:
            published = await self._publish(ledger, folder, name, rules)
            return Outcome("published", _push_note(published, "its summary was already written"))
        state = await trio.to_thread.run_sync(_summary_state, folder)
        if state.done:
            return Outcome("nothing to do", "the session is already summarised")
        transcript = await trio.to_thread.run_sync(_read_transcript, folder)
        attempts = state.attempts + 1
        brief = is_brief(transcript.entries)
        if brief:
            summary = brief_summary(transcript.entries)
        elif not result.ok:
            reason = result.error or (result.quota.message if result.quota else "")
            raise FinalizeError(f"summary of {name} failed: {reason or f'exit {result.exit_code}'}")
        else:
            parsed = parse_summary(result.output)
            if parsed.summary is not None:
                summary = parsed.summary
            else:
                summary = failure_summary(parsed.error or "invalid answer", attempts)
        summary.summary_attempts = attempts
        disposition = decide(summary, self.thresholds)
        committed_root = records.committed_sessions(ledger_path)
        under_committed = folder.parent.resolve() == committed_root.resolve()
        await trio.to_thread.run_sync(
            lambda: write_artifacts(
                folder, name, summary, transcript, disposition=disposition.value, rules=rules
            )
        )
        why = _why(summary, self.thresholds, brief=brief)
        if disposition is Disposition.DISCARD:
            if not under_committed:
                await trio.to_thread.run_sync(lambda: shutil.rmtree(folder, ignore_errors=True))
                log.info("discarded session %s", name)
                return Outcome("discarded", why)
            return Outcome("kept", f"{why}; it was already committed, so it stays")
        if disposition is Disposition.LOCAL_ONLY:
            log.info("kept session %s locally", name)
            return Outcome("kept locally", why)
        published = await self._publish(ledger, folder, name, rules)
        if summary.summary_status != "ok":
            reason = f"the agent's answer was unusable: {summary.validation_error}"
            return Outcome("published without summary", _push_note(published, reason))
        return Outcome("published", _push_note(published, ""))

    async def _publish(
        self, ledger: Ledger, folder: Path, name: str, rules: Sequence[re.Pattern[str]]
    ) -> PublishResult:
        files = await trio.to_thread.run_sync(upload_files, folder, rules)
        outcome = await ledger.publish(name, files)
        committed_root = records.committed_sessions(ledger.path)
        if folder.parent.resolve() != committed_root.resolve():
            # The cache copy goes only now that the push succeeded (or there is no remote).
            await trio.to_thread.run_sync(lambda: shutil.rmtree(folder, ignore_errors=True))
        log.info(
            "published session %s (commit: %s, pushed: %s)", name, outcome.committed, outcome.pushed
        )
        return outcome


def _why(summary: records.Summary, thresholds: Thresholds, *, brief: bool) -> str:
    """Why a summary led to a discard or a local-only session, in a person's words."""
    if brief:
        return "the session was brief"
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


@dataclass(frozen=True)
class _SummaryState:
    done: bool
    attempts: int


def _summary_state(folder: Path) -> _SummaryState:
    """Whether the work is no longer needed (artifacts with a real title, no
    `.needs-summary`) and how many attempts were made."""
    try:
        summary = records.read_model(folder / SUMMARY_JSON, records.Summary)
    except (FileNotFoundError, records.RecordError):
        return _SummaryState(False, 0)
    complete = all((folder / a).exists() for a in ARTIFACTS)
    needs = (folder / NEEDS_SUMMARY).exists()
    done = complete and not needs and bool(summary.title.strip())
    return _SummaryState(done, summary.summary_attempts)


def _read_transcript(folder: Path) -> records.RawTranscript:
    try:
        return records.read_raw(folder / RAW)
    except OSError as exc:
        raise FinalizeError(f"cannot read {folder / RAW}: {exc.strerror}") from exc
