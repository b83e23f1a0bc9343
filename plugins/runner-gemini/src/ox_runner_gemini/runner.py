"""Runs the Gemini CLI (`gemini -p " " --output-format stream-json`) headless."""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import attrs

from ox_core.cli_runner import CliRunner
from ox_core.contracts import RunRequest, RunResult
from ox_core.errors import RunnerError
from ox_core.fs import UnsafePathError, atomic_write, read_regular
from ox_core.jsonl import int_field
from ox_core.paths import user_state_dir
from ox_core.process import ProcessOutcome, run_agent_process, with_stderr
from ox_core.quota import QuotaWording

AUTH_ENV = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
"""Set, any of these authenticates gemini (with the `gemini-api-key` or Vertex auth type)."""

AUTH_FLAGS = ("GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_USE_GCA")
"""Set to `true`, these select an auth type that needs no key in ox's view (Vertex / Code
Assist with the machine's Google credentials)."""

EXIT_CODES = {
    41: "authentication failed",
    42: "invalid input",
    44: "sandbox error",
    52: "configuration error",
    53: "turn limit reached",
    54: "tool execution failed",
}
"""The Gemini CLI's documented fatal exit codes."""

NO_TOOLS_POLICY = Path(__file__).with_name("no_tools.toml")
"""A policy that denies every tool. Given as an admin policy (it outranks the user's and the
workspace's rules) and as the user policy too: gemini ignores `--admin-policy` when the machine
has system policies, and `--policy` replaces the user's own policy files for the run."""

TRUST_ENV = {"GEMINI_CLI_TRUST_WORKSPACE": "true"}
"""Headless gemini refuses to run (status 55) in a folder the user has not trusted. The run's
folder is one of ox's holding only `WORKSPACE_SETTINGS` (see `GeminiRunner.run`), which is safe
to trust."""

WORKSPACE_SETTINGS = (
    json.dumps(
        {
            "hooksConfig": {"enabled": False},
            "general": {"sessionRetention": {"enabled": True, "maxCount": 1}},
        },
        indent=2,
    )
    + "\n"
)
"""The settings of the run's folder (`.gemini/settings.json`, over the user's): no hook runs.
gemini fires the hooks of the user's settings on a headless run too, BeforeAgent with the
prompt, a transcript of web pages and teammates' sessions, on the hook's stdin; they are the
user's hooks for their own sessions, not for ox's summaries (and ox records none of those).
And the chats gemini records of this folder (each run's prompt, with no switch to stop it)
are deleted at each start but the last one (two at most then): no pile of transcripts under
`~/.gemini/tmp/`."""

MAX_SETTINGS = 4 * 1024 * 1024
"""The largest `settings.json` the authentication check reads."""

NO_MCP_SERVER = "ox-summary-starts-no-mcp-server"
"""The only MCP server a run allows (`--allowed-mcp-server-names`): a name no server has, so
none of the user's servers (commands) is started; the policy would deny their tools anyway."""

_HTTP_429 = re.compile(
    r"\b429\b|RESOURCE_EXHAUSTED|quota exceeded|exhausted your (?:daily )?quota", re.I
)


def _holds_only_settings(folder: Path) -> bool:
    """Whether `folder` is empty but for what `_lay_out` puts there (no link followed)."""
    names = os.listdir(folder)
    if not names:
        return True
    settings_dir = folder / ".gemini"
    if names != [".gemini"] or not stat.S_ISDIR(settings_dir.lstat().st_mode):
        return False
    inner = os.listdir(settings_dir)
    return not inner or (
        inner == ["settings.json"] and stat.S_ISREG((settings_dir / inner[0]).lstat().st_mode)
    )


def _lay_out(folder: Path) -> None:
    """Write `WORKSPACE_SETTINGS` into `folder` (each run: an older ox may have left others)."""
    (folder / ".gemini").mkdir(mode=0o700, exist_ok=True)
    atomic_write(folder / ".gemini" / "settings.json", WORKSPACE_SETTINGS)


@contextlib.contextmanager
def work_dir() -> Iterator[Path]:
    """`<ox state dir>/gemini-work`, a private directory that holds nothing but ox's settings
    (`WORKSPACE_SETTINGS`); a new temporary one beside it instead should it be anything else
    (holding more, not a directory of this user's that only they may write to). The same one
    each time: gemini files its chats and history by project folder (`~/.gemini/projects.json`,
    `~/.gemini/tmp/<name>/`), one more for each new folder."""
    stable = Path(user_state_dir(), "gemini-work")
    try:
        stable.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = stable.lstat()
        private = info.st_uid == os.getuid() and not info.st_mode & 0o022
        usable = stat.S_ISDIR(info.st_mode) and private and _holds_only_settings(stable)
        if usable:
            _lay_out(stable)
    except (OSError, UnsafePathError):
        usable = False
    if usable:
        yield stable
        return
    # In ox's state dir, not in the system temp dir: gemini loads the GEMINI.md of every folder
    # from the `.git` root above its cwd down, and any local user may put both in /tmp.
    with tempfile.TemporaryDirectory(prefix="ox-gemini-", dir=stable.parent) as scratch:
        _lay_out(Path(scratch))
        yield Path(scratch)


def _message(value: object) -> str:
    if isinstance(value, dict):
        value = value.get("message")
    return value if isinstance(value, str) else ""


def _single_json(text: str) -> dict[str, Any] | None:
    """The one object of `--output-format json`, or None."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # the CLI's output, nested beyond reason
        return None
    if isinstance(value, dict) and ("response" in value or "error" in value):
        return value
    return None


def _json_format_tokens(stats: object) -> tuple[int, int]:
    """Token totals of the `--output-format json` object (summed over its models)."""
    tokens_in = tokens_out = 0
    models = stats.get("models") if isinstance(stats, dict) else None
    for model in models.values() if isinstance(models, dict) else ():
        tokens = model.get("tokens") if isinstance(model, dict) else None
        if isinstance(tokens, dict):
            tokens_in += int_field(tokens.get("prompt", tokens.get("input")))
            tokens_out += int_field(tokens.get("candidates"))
    return tokens_in, tokens_out


class GeminiRunner(CliRunner):
    """The Gemini CLI, as `gemini -p " " --admin-policy <no tools> --policy <no tools>
    --allowed-mcp-server-names <none> --output-format stream-json`, prompt on stdin (gemini
    appends the `-p` text to stdin), in a directory of ox's holding only its settings: no tool
    is declared or run (`NO_TOOLS_POLICY`), no MCP server started (`NO_MCP_SERVER`), no hook
    fired (`WORKSPACE_SETTINGS`).

    Output is the assistant's text after the last tool activity; tokens from the `result`
    event's `stats` (summed by gemini over its models: a routing call and the main call). The
    single-object `json` format and the plain text of older versions are read as well.
    Quota: the common wording (`ox_core.quota`), an HTTP 429 or `RESOURCE_EXHAUSTED` in the
    error text or stderr.
    Authentication is read from the environment and `~/.gemini/` (there is no status command).
    """

    name = "gemini"
    priority = 30
    executable = "gemini"
    auth_env = AUTH_ENV
    install_dirs = ()
    quota_wording = QuotaWording(pattern=_HTTP_429)

    _stream_json_by_binary: ClassVar[dict[str, bool]] = {}
    _trusting_env: Mapping[str, str] | None = None

    def env(self) -> Mapping[str, str]:
        if self._trusting_env is None:
            self._trusting_env = MappingProxyType({**super().env(), **TRUST_ENV})
        return self._trusting_env

    async def run(self, request: RunRequest) -> RunResult:
        """Runs gemini in a directory of ox's (`work_dir`), not in
        `request.work_dir`: a summary reads nothing but its prompt, and in the ledger (once
        trusted) gemini would load what teammates committed there: `.gemini/settings.json`
        (hooks and MCP servers, which are commands) and GEMINI.md as instructions."""
        if not NO_TOOLS_POLICY.is_file():
            # Gemini would go on without it, with its tools: no run rather than that.
            error = f"gemini: {NO_TOOLS_POLICY} is missing (reinstall ox-runner-gemini)"
            return RunResult(exit_code=1, error=error)
        try:
            with work_dir() as folder:
                return await super().run(attrs.evolve(request, work_dir=folder))
        except (OSError, UnsafePathError) as exc:  # no state dir to run in (never /tmp)
            return RunResult(exit_code=1, error=f"gemini: no folder to run in: {exc}")

    async def _knows_stream_json(self, binary: str) -> bool:
        """Whether this binary's `--help` lists `stream-json` (asked once: it costs a node
        start of several seconds). Anything but a real help text counts as yes."""
        known = self._stream_json_by_binary.get(binary)
        if known is None:
            known = True
            try:
                help_ = await run_agent_process([binary, "--help"], env=self.env(), timeout=15)
            except RunnerError:
                help_ = None
            if help_ is not None and help_.returncode == 0 and "--prompt" in help_.text:
                known = "stream-json" in help_.text
            self._stream_json_by_binary[binary] = known
        return known

    async def interpret(self, binary: str, outcome: ProcessOutcome) -> RunResult:
        """Output without the `init` event every stream starts with, from a clean exit, is
        either an old version's plain-text answer or garbage: `--help` tells which (only then,
        and once per binary). The answer is the model's text, so it may be JSON of any shape,
        events' shapes included: its lines never tell."""
        plain = (
            outcome.returncode == 0
            and not outcome.timed_out
            and not outcome.overflow
            and outcome.text.strip() != ""
            and not any(e.get("type") == "init" for e in outcome.json_lines[0])
        )
        if (
            plain
            and "--output-format" in outcome.argv
            and not await self._knows_stream_json(binary)
        ):
            return RunResult(output=outcome.text.strip(), exit_code=0)
        return self.parse(outcome)

    def command(self, binary: str, request: RunRequest) -> list[str]:
        policy = str(NO_TOOLS_POLICY)
        argv = [binary, "-p", " ", "--admin-policy", policy, "--policy", policy]
        argv += ["--allowed-mcp-server-names", NO_MCP_SERVER]
        if self._stream_json_by_binary.get(binary, True):
            argv += ["--output-format", "stream-json"]
        model = self.model_for(request)
        if model:
            argv += ["--model", model]
        return argv + self.options.extra_args

    def authentication(self, binary: str, env: Mapping[str, str]) -> tuple[bool, str]:
        for key in AUTH_FLAGS:
            if env.get(key, "").lower() == "true":
                return True, f"{key}=true"
        home = Path(env.get("HOME") or os.path.expanduser("~")) / ".gemini"
        settings_path = Path(env.get("GEMINI_CLI_SYSTEM_SETTINGS_PATH") or home / "settings.json")
        try:
            # Through a link (dotfiles), but only a regular file: a FIFO would hold the check
            # forever, `/dev/zero` fill the memory.
            raw = read_regular(settings_path, MAX_SETTINGS, follow_symlinks=True)
            settings = json.loads(raw)
        except FileNotFoundError:
            return False, "no GEMINI_API_KEY and no ~/.gemini/settings.json"
        except (OSError, ValueError, UnsafePathError) as exc:
            return False, f"cannot read {settings_path}: {exc}"
        except RecursionError:
            return False, f"cannot read {settings_path}: JSON nested too deeply"
        security = settings.get("security") if isinstance(settings, dict) else None
        auth = security.get("auth") if isinstance(security, dict) else None
        selected = auth.get("selectedType") if isinstance(auth, dict) else None
        if selected is None and isinstance(settings, dict):
            selected = settings.get("selectedAuthType")  # before settings were nested
        if selected == "oauth-personal":
            creds = home / "oauth_creds.json"
            if creds.is_file():
                return True, f"signed in with Google ({creds})"
            return False, f"auth type oauth-personal but no {creds}"
        if selected == "gemini-api-key":
            return False, "auth type gemini-api-key but GEMINI_API_KEY is not set"
        if isinstance(selected, str) and selected:
            return True, f"auth type {selected}"
        return False, f"no auth type selected in {settings_path}"

    def parse(self, outcome: ProcessOutcome) -> RunResult:
        if "--output-format" not in outcome.argv:
            return self._plain(outcome)
        chunks: list[str] = []
        result: dict[str, Any] | None = None
        errors: list[str] = []
        events, garbage = outcome.json_lines
        for event in events:
            kind = event.get("type")
            if kind == "message" and event.get("role") == "assistant":
                content = event.get("content")
                if isinstance(content, str):
                    if not event.get("delta"):
                        chunks.clear()  # a whole message replaces what came before
                    chunks.append(content)
            elif kind in ("tool_use", "tool_result"):
                chunks.clear()  # what the model said before using a tool is not the answer
            elif kind == "error":
                errors.append(_message(event) or "error")
            elif kind == "result":
                result = event

        if result is None and garbage and not outcome.timed_out:
            single = self._single_object(outcome)
            if single is not None:
                return single

        if result is not None and result.get("status") == "success":
            raw_stats = result.get("stats")
            stats: dict[str, Any] = raw_stats if isinstance(raw_stats, dict) else {}
            return RunResult(
                output="".join(chunks),
                exit_code=0,
                tokens_in=int_field(stats.get("input_tokens")),
                tokens_out=int_field(stats.get("output_tokens")),
            )

        if result is not None:
            errors.append(_message(result.get("error")) or f"status {result.get('status')}")
        failure = outcome.failure("gemini")
        meaning = EXIT_CODES.get(outcome.returncode)
        if failure and meaning:
            status = f"status {outcome.returncode}"
            failure = failure.replace(status, f"{status} ({meaning})", 1)
        if errors:
            head = f"gemini reported an error: {errors[-1]}"
            error = f"{head}; {failure}" if failure else with_stderr(head, outcome.stderr_tail)
        else:
            error = failure or with_stderr("gemini exited without a result", outcome.stderr_tail)
        if garbage and result is None:
            error += f"; unexpected output: {garbage[-1][:300]!r}"
        quota_text = "\n".join([*errors, outcome.stderr_tail])
        quota = self.find_quota(quota_text, now=datetime.now(UTC))
        return RunResult(exit_code=outcome.returncode or 1, error=error, quota=quota)

    def _plain(self, outcome: ProcessOutcome) -> RunResult:
        """The run of a version without JSON output: its stdout is the model's answer, whatever
        it holds; a failure is read from the exit status and stderr only (the answer may say
        anything, a quota error included)."""
        failure = outcome.failure("gemini")
        if not failure and outcome.text.strip():
            return RunResult(output=outcome.text.strip(), exit_code=0)
        error = failure or with_stderr("gemini exited without an answer", outcome.stderr_tail)
        quota = self.find_quota(outcome.stderr_tail, now=datetime.now(UTC))
        return RunResult(exit_code=outcome.returncode or 1, error=error, quota=quota)

    @staticmethod
    def _single_object(outcome: ProcessOutcome) -> RunResult | None:
        """`--output-format json` (one pretty-printed object), or None."""
        value = _single_json(outcome.text)
        if value is not None:
            error = _message(value.get("error"))
            if error or outcome.returncode != 0:
                return RunResult(
                    exit_code=outcome.returncode or 1,
                    error=with_stderr(
                        f"gemini reported an error: {error or 'no response'}", outcome.stderr_tail
                    ),
                )
            tokens_in, tokens_out = _json_format_tokens(value.get("stats"))
            response = value.get("response")
            return RunResult(
                output=response if isinstance(response, str) else "",
                exit_code=0,
                tokens_in=tokens_in,
                tokens_out=tokens_out,
            )
        return None
