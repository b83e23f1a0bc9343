"""Nothing is ever lost: a state machine of recordings, finalize cycles, syncs and failing
pushes, against real git (a bare remote on disk, the ledger a clone of it)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import trio
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from ox_core import RunResult
from ox_handler_session_finalize.git import GitError
from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_handler_session_finalize.sync import sync_ledger
from ox_session_capture import records

from .finalize_support import answer, clone, git, make_remote, make_session


class FinalizeMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="ox-finalize-sm-"))
        self.remote = make_remote(self.root)
        self.ledger = clone(self.remote, self.root / "ledger")
        self.cache = records.ledger_cache_sessions(self.ledger)
        self.away = self.root / "away.git"  # where the remote is while it cannot be reached
        self.broken = False
        self.expected: set[str] = set()
        self.counter = 0
        self.handler = self.new_handler()

    def new_handler(self) -> SessionFinalizeHandler:
        handler = SessionFinalizeHandler(user_cache_dir=self.root / "uc")
        handler.push_pause = 0.01
        return handler

    def remote_sessions(self) -> set[str]:
        return self.sessions_in(self.away if self.broken else self.remote)

    @staticmethod
    def sessions_in(repo: Path) -> set[str]:
        out = git(repo, "ls-tree", "--name-only", "HEAD", "sessions/")
        return {line.removeprefix("sessions/") for line in out.split()}

    @rule()
    def record_a_session(self) -> None:
        name = f"2026-11-25T10-{self.counter:02d}-dev-a1"
        self.counter += 1
        make_session(self.cache, name)
        self.expected.add(name)

    @rule()
    def break_pushes(self) -> None:
        if not self.broken:
            os.rename(self.remote, self.away)
            self.broken = True

    @rule()
    def mend_pushes(self) -> None:
        if self.broken:
            os.rename(self.away, self.remote)
            self.broken = False

    @rule()
    def restart_the_daemon(self) -> None:
        self.handler = self.new_handler()

    @rule()
    def finalize_cycle(self) -> None:
        trio.run(self._cycle)

    async def _cycle(self) -> None:
        # A failing push never fails an item: it ends with the local commit.
        for item in await self.handler.detect(self.ledger):
            request = await self.handler.build_prompt(item)
            result = RunResult() if request.skip_llm else RunResult(output=answer())
            await self.handler.process_result(item, result)

    @rule()
    def sync(self) -> None:
        trio.run(self._sync)

    async def _sync(self) -> None:
        try:
            await sync_ledger(self.handler.ledger(self.ledger))
        except GitError:
            assert self.broken

    @invariant()
    def nothing_is_lost(self) -> None:
        cached = {p.name for p in self.cache.iterdir()} if self.cache.exists() else set()
        published = self.remote_sessions()
        committed = self.sessions_in(self.ledger)
        assert self.expected <= cached | committed | published
        assert published <= committed <= self.expected

    def teardown(self) -> None:
        try:
            self.mend_pushes()
            self.finalize_cycle()
            self.sync()
            assert self.remote_sessions() == self.expected
            assert not self.cache.exists() or not any(self.cache.iterdir())
            log = git(self.remote, "log", "--format=%B")
            for name in self.expected:
                assert log.count(f"finalize session {name}\n") == 1, name
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def test_nothing_is_lost(git_env: None) -> None:
    run_state_machine_as_test(
        FinalizeMachine,
        settings=settings(
            max_examples=6,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
