"""Runs the Codex CLI (`codex exec --json -`) headless and reads its JSONL events."""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import attrs

from ox_core.cli_runner import CliRunner
from ox_core.contracts import RunRequest, RunResult
from ox_core.errors import RunnerError
from ox_core.fs import UnsafePathError, read_regular
from ox_core.jsonl import int_field
from ox_core.process import ProcessOutcome, probe, run_agent_process, with_stderr
from ox_runner_codex.quota import CODEX_WORDING

AUTH_ENV = ("OPENAI_API_KEY", "CODEX_API_KEY")
"""Set, any of these authenticates `codex exec` without a login."""

OPTIONAL_FLAGS: dict[str, tuple[str, ...]] = {
    "--config": (),  # known: `NO_TOOLS_CONFIG` and the MCP servers turned off with `-c`
    "--skip-git-repo-check": ("--skip-git-repo-check",),
    "--sandbox": ("--sandbox", "read-only"),
    "--ephemeral": ("--ephemeral",),
    "--color": ("--color", "never"),
}
"""Flags that older versions may lack: dropped when `codex exec --help` does not list them."""

NO_TOOLS_FEATURES = (
    "shell_tool", "unified_exec", "js_repl", "code_mode", "code_mode_host", "view_image",
    "image_generation", "multi_agent", "multi_agent_v2", "goals", "apps", "plugins",
    "remote_plugin", "tool_suggest", "tool_search", "skill_search",
    "skill_mcp_dependency_install", "sleep_tool", "browser_use", "browser_use_external",
    "computer_use", "in_app_browser", "standalone_web_search", "request_permissions_tool",
    "hooks", "plugin_hooks", "memories",
)  # fmt: skip
"""Codex features turned off for a summary: every one that gives the model a tool (a shell,
the code-mode JavaScript host and its nested tools, images, agents, plugins, browsers) or runs
commands of its own (hooks). A name a version does not know is ignored."""

NO_TOOLS_CONFIG = (
    *(f"features.{name}=false" for name in NO_TOOLS_FEATURES),
    'web_search="disabled"',
    "tools.web_search=false",  # the older spelling
    "include_apply_patch_tool=false",
    "tools.experimental_request_user_input.enabled=false",
    # Should a command run after all, it gets none of the daemon's variables (API keys).
    'shell_environment_policy.inherit="none"',
    # The user's `notify` program runs after each turn with the turn's input (the whole
    # transcript) as its argument: it is the user's hook for their own sessions, not ox's.
    "notify=[]",
    # No AGENTS.md of a project: codex looks for one from the `.git` root above its cwd down,
    # and the scratch cwd is in the temp dir, where any local user may put `.git` and
    # `AGENTS.md` (they would be the summary's instructions).
    "project_doc_max_bytes=0",
    # Nor anything else of such a root (the skills of its `.agents/skills/`, listed with their
    # descriptions in the instructions): no marker, so the cwd is its own project root.
    "project_root_markers=[]",
    # No list of skills at all: a summary has no tool to read one.
    "skills.include_instructions=false",
)
"""`-c` overrides that leave a summary run no tool, and no command of the user's config (hooks,
`notify`) to run: the prompt is a transcript holding web pages and teammates' sessions, which
may tell the model to read secrets or reach the network. (`--sandbox read-only` alone still
lets a command read every file and print it.)"""

MAX_CONFIG = 4 * 1024 * 1024
"""The largest `config.toml` of the user's ox reads for its MCP servers."""

_MCP_NAME = re.compile(r"[A-Za-z0-9_-]+")


def _message(value: object) -> str:
    if isinstance(value, dict):
        value = value.get("message")
    return value if isinstance(value, str) else ""


class CodexRunner(CliRunner):
    """The Codex CLI, as `codex exec --json --skip-git-repo-check --sandbox read-only
    --ephemeral --color never -c <no tools>… -`, prompt on stdin, in an empty scratch
    directory (see `run`, `NO_TOOLS_CONFIG`).

    Output is the text of the last `agent_message` item; tokens from the last
    `turn.completed.usage` (`input_tokens`, which includes the cached ones, and
    `output_tokens`). A completed turn with an answer is a success whatever the exit status.
    Errors come from `turn.failed` / `error` events; quota from their text (the common wording, an
    HTTP 429, codex's `try again at 3:28 PM`: see `ox_runner_codex.quota`).
    """

    name = "codex"
    priority = 20
    executable = "codex"
    auth_env = AUTH_ENV
    install_dirs = ("~/.codex/bin",)
    quota_wording = CODEX_WORDING

    _flags_by_binary: ClassVar[dict[str, frozenset[str]]] = {}

    async def prepare(self, binary: str) -> None:
        """Learn once per binary which optional flags `codex exec` knows."""
        if binary in self._flags_by_binary:
            return
        known = frozenset(OPTIONAL_FLAGS)
        try:
            help_ = await run_agent_process(
                [binary, "exec", "--help"], env=self.env(), timeout=5, grace=0.5
            )
        except RunnerError:
            help_ = None
        # Only a real help text decides; anything else keeps every flag (the run will tell).
        if help_ is not None and help_.returncode == 0 and "--json" in help_.text:
            known = frozenset(f for f in OPTIONAL_FLAGS if f in help_.text)
        self._flags_by_binary[binary] = known

    async def run(self, request: RunRequest) -> RunResult:
        """Runs codex in a new empty directory, not in `request.work_dir`: a summary reads
        nothing but its prompt, and in the ledger codex would load what teammates committed
        there (AGENTS.md as instructions; in a project the user trusts, `.codex/config.toml`
        with MCP servers, which are commands, and a model provider of its choosing).
        A version without `--config` is not run: its tools could not be turned off, and the
        prompt is hostile text."""
        binary = self.binary()
        if binary is not None and self.available():
            await self.prepare(binary)
            if "--config" not in self._flags_by_binary[binary]:
                error = (
                    f"codex: {binary} has no --config option, so its tools (a shell among them) "
                    "cannot be turned off for a summary: not run (update codex)"
                )
                return RunResult(exit_code=1, error=error)
        with tempfile.TemporaryDirectory(prefix="ox-codex-") as scratch:
            return await super().run(attrs.evolve(request, work_dir=Path(scratch)))

    def command(self, binary: str, request: RunRequest) -> list[str]:
        known = self._flags_by_binary.get(binary, frozenset(OPTIONAL_FLAGS))
        argv = [binary, "exec", "--json"]
        for flag, args in OPTIONAL_FLAGS.items():
            if flag in known:
                argv += args
        if "--config" in known:
            for setting in (*NO_TOOLS_CONFIG, *self._mcp_servers_off()):
                argv += ["-c", setting]
        model = self.model_for(request)
        if model:
            argv += ["--model", model]
        return [*argv, *self.options.extra_args, "-"]

    def _codex_home(self, env: Mapping[str, str]) -> Path:
        user_home = env.get("HOME") or os.path.expanduser("~")
        return Path(env.get("CODEX_HOME") or Path(user_home, ".codex"))

    def _mcp_servers_off(self) -> list[str]:
        """`-c` overrides that disable each MCP server of the user's config.toml: a `-c
        mcp_servers={}` is merged, not a replacement, and a server's tools would let the
        model act (and the server is a command codex starts). Raises `RunnerError` when
        config.toml is no regular file of at most `MAX_CONFIG` bytes: ox cannot know its
        servers, which codex may read (and a FIFO would block this read, in the daemon's event
        loop, forever)."""
        path = self._codex_home(self.env()) / "config.toml"
        try:
            raw = read_regular(path, MAX_CONFIG, follow_symlinks=True)  # dotfiles: a link
        except UnsafePathError as exc:
            why = f"codex: not run: its MCP servers cannot be turned off: {exc}"
            raise RunnerError(why) from None
        except OSError:
            return []  # none, or unreadable: codex itself then fails on it, or has none
        try:
            config = tomllib.loads(raw.decode())
        except (ValueError, RecursionError):
            return []  # codex itself fails on it
        servers = config.get("mcp_servers")
        if not isinstance(servers, dict):
            return []
        # Codex accepts only such names; any other could not be addressed by a `-c` path.
        names = [name for name in servers if _MCP_NAME.fullmatch(name)]
        return [f"mcp_servers.{name}.enabled=false" for name in names]

    def authentication(self, binary: str, env: Mapping[str, str]) -> tuple[bool, str]:
        answer = probe([binary, "login", "status"], env=env)
        # The verdict is the last line; warnings (e.g. about a temporary CODEX_HOME) come first.
        said = [
            line.strip()
            for line in (answer.stdout + "\n" + answer.stderr).splitlines()
            if line.strip() and not line.lstrip().upper().startswith("WARNING")
        ]
        last = said[-1][:200] if said else ""
        if answer.answered:
            if answer.returncode == 0:
                return True, last or "logged in"
            return False, last or f"`codex login status` exited with {answer.returncode}"
        home = self._codex_home(env)
        if (home / "auth.json").is_file():
            return True, f"credentials file {home / 'auth.json'} ({answer.error})"
        return False, answer.error

    def parse(self, outcome: ProcessOutcome) -> RunResult:
        answer: str | None = None
        usage: dict[str, Any] | None = None
        completed = False
        errors: list[str] = []
        events, garbage = outcome.json_lines
        for event in events:
            kind = event.get("type")
            if kind == "item.completed":
                item = event.get("item")
                if isinstance(item, dict) and item.get("type") == "agent_message":
                    text = item.get("text")
                    answer = text if isinstance(text, str) else answer
            elif kind == "turn.completed":
                completed = True
                usage = event.get("usage") if isinstance(event.get("usage"), dict) else {}
            elif kind == "turn.failed":
                completed = False
                errors.append(_message(event.get("error")) or "turn failed")
            elif kind == "error":
                errors.append(_message(event) or "error")

        if completed and answer is not None:
            usage = usage or {}
            return RunResult(
                output=answer,
                exit_code=0,
                tokens_in=int_field(usage.get("input_tokens")),
                tokens_out=int_field(usage.get("output_tokens")),
            )
        if not events and outcome.returncode == 0 and not outcome.timed_out and outcome.lines:
            # A version without --json support prints the answer as plain text.
            return RunResult(output=outcome.text.strip(), exit_code=0)

        failure = outcome.failure("codex")
        if errors:
            # "Reconnecting... n/5" lines repeat the final error: the last one says it.
            head = f"codex reported an error: {errors[-1]}"
            error = f"{head} ({failure})" if failure else with_stderr(head, outcome.stderr_tail)
        elif failure:
            error = failure
        else:
            error = with_stderr("codex exited without an answer", outcome.stderr_tail)
        if garbage:
            error += f"; unexpected output: {garbage[-1][:300]!r}"
        quota_text = "\n".join([*errors, outcome.stderr_tail])
        quota = self.find_quota(quota_text, now=datetime.now(UTC))
        return RunResult(exit_code=outcome.returncode or 1, error=error, quota=quota)
