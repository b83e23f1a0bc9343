"""Agent resolution: which installed runner background work uses (the configured one, else
the first usable by priority).

No agent names here: the order of auto-detection is each runner plugin's `priority`.
Both functions call `Runner.usability()`, which blocks (up to 2 s per runner): from trio,
call them through `trio.to_thread.run_sync`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from ox_core.contracts import AgentUsability, Runner

log = logging.getLogger(__name__)

NO_AGENT = "none"
USABILITY_TIMEOUT = 10.0
"""Seconds a runner's usability check gets (its contract says 2 s) before it counts as
unusable."""


def usability(runner: Runner, *, quiet: bool = False) -> AgentUsability:
    """`runner.usability()`, never raising: a plugin's fault must not stop resolution, hide
    the other runners (doctor) or stop the daemon; a runner whose check raises, answers
    something else than an `AgentUsability` or does not answer within `USABILITY_TIMEOUT`
    is neither installed nor authenticated, with why as detail (logged unless `quiet`, for
    a command that shows the detail itself). Blocking (up to `USABILITY_TIMEOUT`)."""
    answer: list[object] = []

    def check() -> None:
        try:
            answer.append(runner.usability())
        except BaseException as exc:  # a plugin's fault (even `sys.exit`): its detail
            answer.append(exc)

    # In a thread of its own: a check that never returns (a CLI waiting on a prompt) is left
    # behind instead of holding up the daemon's start, its agent refresh, or `doctor`.
    thread = threading.Thread(target=check, name=f"usability {runner.name}", daemon=True)
    thread.start()
    thread.join(USABILITY_TIMEOUT)
    if not answer:
        why = f"its usability check did not answer within {USABILITY_TIMEOUT:g} s"
    elif isinstance(answer[0], AgentUsability):
        return answer[0]
    elif isinstance(answer[0], BaseException):
        text = str(answer[0])
        why = f"its usability check failed: {type(answer[0]).__name__}"
        why = f"{why}: {text}" if text else why
    else:
        why = f"its usability check returned {type(answer[0]).__name__}, not an AgentUsability"
    if not quiet:
        log.warning("runner %s: %s", runner.name, why)
    return AgentUsability(False, False, why)


def resolve_agent(configured: str, runners: Iterable[Runner]) -> str:
    """The name of the runner to use.

    `configured` is the config's `agent`: `""` picks the first of `runners`, by `priority`
    (then name), that is installed and authenticated, else `"none"`; any other value is
    returned as is (an unknown name is for the caller to report, see
    `check_agent_usability`). Blocking: asks each runner's `usability()` in turn.
    """
    if configured:
        return configured
    for runner in sorted(runners, key=lambda r: (r.priority, r.name)):
        if usability(runner).usable:
            return runner.name
    return NO_AGENT


def check_agent_usability(name: str, runners: Iterable[Runner]) -> AgentUsability:
    """Installed / authenticated / detail of the runner called `name`.

    An unknown name (no runner plugin of that name, or `"none"`) is reported as not installed;
    a runner whose check raises as neither installed nor authenticated, with the error as
    detail. Never raises for a runner's fault. Blocking.
    """
    for runner in runners:
        if runner.name == name:
            return usability(runner)
    if name == NO_AGENT:
        return AgentUsability(False, False, "no agent configured or found")
    return AgentUsability(False, False, f"no runner plugin named {name!r} is installed")
