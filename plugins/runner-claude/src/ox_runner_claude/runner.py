"""Runs Claude Code (`claude -p`) headless and reads its stream-json events."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from ox_core.cli_runner import CliRunner
from ox_core.contracts import Quota, RunRequest, RunResult
from ox_core.jsonl import int_field, json_event
from ox_core.process import ProcessOutcome, probe, with_stderr
from ox_core.quota import MAX_WAIT, QuotaWording, find_quota, quota_until

AUTH_ENV = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
)
"""Set, any of these authenticates claude without a login."""

LOCKDOWN_ARGS = ("--safe-mode", "--setting-sources", "user", "--strict-mcp-config")
"""What keeps a summary run from executing anything, on top of `--tools ""` (no built-in
tool): the prompt is a transcript of web pages and teammates' sessions (the run's work dir
is an empty one of its own, not the shared ledger: see `ClaudeRunner.run`).
`--setting-sources user` skips a project's `.claude/settings.json` (its hooks and
permissions run commands) and CLAUDE.md; `--strict-mcp-config` with no
`--mcp-config` starts no MCP server (the project's `.mcp.json` nor the user's); `--safe-mode`
also turns off the user's hooks, plugins, skills and custom agents. Auth, model and the
user's `env` settings still apply."""

_HTTP_429 = re.compile(r"\b429\b|too many requests", re.I)
_EPOCH_LIMIT = re.compile(r"usage limit reached\|(\d{9,11})\b", re.I)


def _from_epoch(value: object) -> datetime | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _text_blocks(message: object) -> str:
    if not isinstance(message, dict) or not isinstance(message.get("content"), list):
        return ""
    return "".join(
        block.get("text", "")
        for block in message["content"]
        if isinstance(block, dict)
        and block.get("type") == "text"
        and isinstance(block.get("text"), str)
    )


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or os.path.expanduser("~"))


def _empty_repository(folder: Path) -> None:
    """Make `folder` the root of an empty git repository (what `git init` makes, without a
    process): claude looks for the nearest repository itself, walking up from its folder,
    and reads its status and last commits into the model's context; a repository above the
    temp dir (another local user's `/tmp/.git`, a home folder kept in git) would be it."""
    git = folder / ".git"
    for part in (git, git / "objects", git / "refs", git / "refs" / "heads"):
        part.mkdir(mode=0o700)
    (git / "HEAD").write_text("ref: refs/heads/main\n")


class ClaudeRunner(CliRunner):
    """Claude Code, as `claude -p --output-format stream-json --verbose
    --no-session-persistence --tools "" --safe-mode --setting-sources user
    --strict-mcp-config`, prompt on stdin: no tool, hook or MCP server (see `LOCKDOWN_ARGS`),
    in an empty scratch directory (see `run`).

    Output is the `result` event's text. `tokens_in` counts every input token the model read
    (`input_tokens` + `cache_creation_input_tokens` + `cache_read_input_tokens`), `tokens_out`
    the `output_tokens`. A `result` that is not an error is a success whatever the exit status
    (claude sometimes exits non-zero, or lingers, after answering). Quota: a `rate_limit_event`
    with status `rejected` (its `resetsAt`), an `api_error_status` of 429, API retries that all
    got 429, else the common quota wording (`ox_core.quota`) in the error text.
    """

    name = "claude"
    priority = 10
    executable = "claude"
    auth_env = AUTH_ENV
    install_dirs = ("~/.claude/local", "~/.claude/bin")
    # Inherited from a Claude Code session (ox started from its terminal), these make the CLI
    # believe it runs nested inside that session.
    env_remove = ("CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT")
    quota_wording = QuotaWording(pattern=_HTTP_429)  # for a result the API answered with 429
    # Summaries need no frontier model: the CLI's alias of its current haiku-class model.
    summary_model = "haiku"

    async def run(self, request: RunRequest) -> RunResult:
        """Runs claude in a new empty directory, not in `request.work_dir`: in the ledger (a git
        repository every teammate pushes to) claude runs git and hands the model the ledger's
        status and recent commit messages as trusted context of the user's own workspace,
        outside the prompt's untrusted-data framing; `LOCKDOWN_ARGS` do not turn that off.
        The directory is an empty repository (`_empty_repository`), so none above it is used."""
        with tempfile.TemporaryDirectory(prefix="ox-claude-") as scratch:
            _empty_repository(Path(scratch))
            return await super().run(attrs.evolve(request, work_dir=Path(scratch)))

    def command(self, binary: str, request: RunRequest) -> list[str]:
        argv = [
            binary,
            "-p",
            "--output-format",
            "stream-json",
            "--verbose",
            "--no-session-persistence",
            "--tools",
            "",
            *LOCKDOWN_ARGS,
        ]
        model = self.model_for(request)
        if model:
            argv += ["--model", model]
        return argv + self.options.extra_args

    def authentication(self, binary: str, env: Mapping[str, str]) -> tuple[bool, str]:
        # Asked where a run runs (see `run`), not in the daemon's folder: claude reads the
        # project settings of its folder, whose `apiKeyHelper` would answer for a run that
        # never reads them.
        with tempfile.TemporaryDirectory(prefix="ox-claude-") as scratch:
            _empty_repository(Path(scratch))
            answer = probe([binary, "auth", "status"], env=env, cwd=scratch)
        status = json_event(answer.stdout.strip().replace("\n", " ")) if answer.answered else None
        if status is not None and isinstance(status.get("loggedIn"), bool):
            # Trust the boolean, not the exit status.
            if status["loggedIn"]:
                return True, f"logged in ({status.get('authMethod') or 'unknown method'})"
            return False, "not logged in (run `claude auth login`)"
        credentials = _home(env) / ".claude" / ".credentials.json"
        said = (answer.stdout + answer.stderr).strip()[:200]
        why = answer.error or f"`claude auth status` said: {said or 'nothing'}"
        if credentials.is_file():
            return True, f"credentials file {credentials} ({why})"
        return False, why

    def parse(self, outcome: ProcessOutcome) -> RunResult:
        result: dict[str, Any] | None = None
        last_text = ""
        rejected: dict[str, Any] | None = None
        retry_statuses: list[object] = []
        retry_delay_ms: float | None = None  # what claude said it waits before its next try
        events, garbage = outcome.json_lines
        for event in events:
            kind = event.get("type")
            if kind == "result":
                result = event
            elif kind == "assistant":
                last_text = _text_blocks(event.get("message")) or last_text
            elif kind == "rate_limit_event":
                info = event.get("rate_limit_info")
                if isinstance(info, dict) and info.get("status") == "rejected":
                    rejected = info
            elif kind == "system" and event.get("subtype") == "api_retry":
                retry_statuses.append(event.get("error_status"))
                delay = event.get("retry_delay_ms")
                if isinstance(delay, int | float) and not isinstance(delay, bool) and delay > 0:
                    # At most the longest pause (`Infinity` and 1e300 are JSON to Python, and
                    # past `datetime.max` `now + delay` raises): the quota is clamped to it.
                    retry_delay_ms = min(float(delay), MAX_WAIT.total_seconds() * 1000)

        succeeded = result is not None and result.get("subtype", "success") == "success"
        if result is not None and succeeded and not result.get("is_error"):
            raw_usage = result.get("usage")
            usage: dict[str, Any] = raw_usage if isinstance(raw_usage, dict) else {}
            text = result.get("result")
            return RunResult(
                output=text if isinstance(text, str) else last_text,
                exit_code=0,
                tokens_in=int_field(usage.get("input_tokens"))
                + int_field(usage.get("cache_creation_input_tokens"))
                + int_field(usage.get("cache_read_input_tokens")),
                tokens_out=int_field(usage.get("output_tokens")),
            )

        now = datetime.now(UTC)
        if result is not None:
            text = result.get("result")
            detail = text if isinstance(text, str) and text else str(result.get("subtype"))
            status = result.get("api_error_status")
            head = f"claude reported an error: {detail}"
            if status:
                head += f" (API status {status})"
            error = with_stderr(head, outcome.stderr_tail)
        else:
            head = outcome.failure("claude") or with_stderr(
                "claude exited without a result", outcome.stderr_tail
            )
            if retry_statuses:
                head += (
                    f"; the model API call failed {len(retry_statuses)} times "
                    f"(last status: {retry_statuses[-1]})"
                )
            if garbage:
                head += f"; unexpected output: {garbage[-1][:300]!r}"
            error = head

        quota: Quota | None = None
        epoch = _EPOCH_LIMIT.search(error)
        if rejected is not None:
            limit = rejected.get("rateLimitType") or "usage"
            reset_at = _from_epoch(rejected.get("resetsAt"))
            quota = quota_until(
                f"claude {limit} limit reached", reset_at, now, basis="the resetsAt claude reported"
            )
        elif epoch is not None:
            # Older versions: "Claude AI usage limit reached|<reset epoch seconds>".
            reset_at = _from_epoch(int(epoch[1]))
            quota = quota_until(
                "Claude AI usage limit reached", reset_at, now, basis="the reset epoch printed"
            )
        elif result is not None and result.get("api_error_status") == 429:
            text = str(result.get("result") or "API status 429")
            quota = self.find_quota(text, now=now) or quota_until(text, None, now)
        elif retry_statuses and all(s == 429 for s in retry_statuses):
            message = f"the model API answered 429 (rate limit) {len(retry_statuses)} times"
            if retry_delay_ms is None:
                quota = quota_until(message, None, now)
            else:
                # The delay claude reported for its next try: the API's own retry-after.
                reset_at = now + timedelta(milliseconds=retry_delay_ms)
                basis = f"the retry delay claude reported ({retry_delay_ms:.0f} ms)"
                quota = quota_until(message, reset_at, now, basis=basis)
        else:
            quota = find_quota(error, now=now)
        return RunResult(exit_code=outcome.returncode or 1, error=error, quota=quota)
