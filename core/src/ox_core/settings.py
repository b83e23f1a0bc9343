"""The daemon's settings: `~/.config/ox/config.toml` plus `OX_*` environment variables.

Precedence, highest first: keyword arguments (tests), `OX_*` environment variables, the TOML
file, defaults. Nested keys use `__` in the environment: `OX_AGENT_WORK__MAX_CONCURRENT=2`,
`OX_RUNNERS__<NAME>__BINARY=/opt/bin/agent`. `Settings.sources()` says where each value came
from (shown by `ox-core doctor`).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from ox_core import paths
from ox_core.config import AgentWorkerConfig
from ox_core.errors import ConfigError
from ox_core.paths import CONFIG_FILE_ENV as CONFIG_FILE_ENV
from ox_core.paths import MAX_CONFIG_FILE as MAX_CONFIG_FILE
from ox_core.paths import read_toml as _read_toml
from ox_core.sync_signal import SyncConfig

ENV_PREFIX = "OX_"

MAX_OPTIONS_DEPTH = 32
"""How many tables and arrays deep a runner's or handler's options may nest: more than any
plugin needs, and well under what pydantic can write out (some 250 levels; past them
`doctor` ended in a traceback). `OX_HANDLERS__X__A__A__...` or a file's inline tables can
nest thousands deep."""


def _absolute_path(value: str | Path) -> Path:
    """`value` as an absolute path (`~` expanded). ValueError for an empty or relative one."""
    return Path(paths.absolute_path(value))


def config_file_path() -> Path:
    """The TOML config file: `$OX_CONFIG_FILE`, else `config.toml` in the user config dir.
    `ConfigError` for an empty or relative `OX_CONFIG_FILE`."""
    return Path(paths.config_file_path())


def default_ledger_path() -> Path:
    """The embedded default ledger: `ledger/` in the user data dir (created on first start)."""
    return Path(paths.default_ledger_path())


def runtime_dir() -> Path:
    """Where ox keeps its sockets (see `ox_core.paths.runtime_dir`)."""
    return Path(paths.runtime_dir())


class Settings(BaseSettings):
    """Everything the daemon and the CLI read from the config file and the environment."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    ledger: Path | None = Field(
        default=None,
        description="The ledger: a git clone (its `origin` is pushed to). "
        "Unset: the embedded default ledger under the user data dir.",
    )
    socket: Path | None = Field(
        default=None,
        description="The daemon's IPC socket. Unset: one per ledger in the user runtime dir.",
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="`text`: readable lines; `json`: one JSON object a line."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="The lowest level logged."
    )
    agent_work: AgentWorkerConfig = Field(
        default_factory=lambda: AgentWorkerConfig.model_validate({}),
        description="Background agent work (the manager).",
    )
    sync: SyncConfig = Field(
        default_factory=SyncConfig,
        description="Syncing the ledger with its remote (done by the plugin that publishes to it).",
    )
    runners: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Options per runner name, passed to the runner class as keyword arguments "
        '(e.g. `[runners.<name>] binary = "/path"`).',
    )
    handlers: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Options per handler type, passed to `WorkHandler.configure`.",
    )

    @field_validator("ledger", "socket", mode="before")
    @classmethod
    def _absolute(cls, value: Any) -> Any:
        # An empty `OX_LEDGER=` would otherwise be `.`: the project the command runs in.
        if isinstance(value, str | Path):
            return _absolute_path(value)
        return value

    @field_validator("runners", "handlers")
    @classmethod
    def _shallow(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for name, options in value.items():
            if _depth(options) > MAX_OPTIONS_DEPTH:
                raise ValueError(f"{name}: nested more than {MAX_OPTIONS_DEPTH} levels deep")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file is read once, by `_read_toml` (type and size checked before reading).
        toml = InitSettingsSource(settings_cls, init_kwargs=_read_toml(config_file_path()))
        return (init_settings, env_settings, toml)

    # -- derived values -------------------------------------------------------------------

    def ledger_path(self) -> Path:
        """The ledger in use: the configured one, else the default ledger's path."""
        if self.ledger is not None:
            return self.ledger
        return default_ledger_path()

    def uses_default_ledger(self) -> bool:
        """Whether the ledger is the embedded default one (created on first start)."""
        return self.ledger is None

    def socket_path(self) -> Path:
        """The IPC socket: configured, else `<runtime dir>/ox-<ledger hash>.sock`.

        One socket per ledger, like the daemon lock, so daemons of two ledgers never meet.
        """
        if self.socket is not None:
            return self.socket
        return Path(paths.socket_for_ledger(self.ledger_path()))

    def sources(self) -> dict[str, str]:
        """Where each top-level value came from: `env OX_...`, `file <path>` or `default`.

        Nested tables report per sub-key (`agent_work.max_concurrent`) when set anywhere: by
        the file, by an `OX_A__B` variable, or inside a table given whole as JSON
        (`OX_AGENT_WORK='{"max_concurrent": 2}'`), the highest of them named.
        """
        env = _ox_environ()
        path = config_file_path()
        data = _read_toml(path)
        found: dict[str, str] = {}
        for name in type(self).model_fields:
            key = f"{ENV_PREFIX}{name.upper()}"
            if key in env:
                found[name] = f"env {env[key][0]}"
            elif name in data:
                found[name] = f"file {path}"
            else:
                found[name] = "default"
            subs: set[tuple[str, ...]] = {(name, str(k)) for k in _table(data.get(name))}
            subs |= {(name, str(k)) for k in _table(_json(env[key][1]) if key in env else None)}
            subs |= {
                tuple(k[len(ENV_PREFIX) :].lower().split("__"))
                for k in env
                if k.startswith(key + "__")
            }
            for loc in subs:
                found[".".join(loc)] = _source_of(loc, data, path)
        return found


def _depth(value: Any) -> int:
    """How many tables (dicts) and arrays (lists) deep `value` nests, counted up to one past
    `MAX_OPTIONS_DEPTH`. Iterative: it may nest deeper than Python's recursion limit."""
    deepest = 0
    stack = [(value, 1)]
    while stack and deepest <= MAX_OPTIONS_DEPTH:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in node)
    return deepest


def _ox_environ() -> dict[str, tuple[str, str]]:
    """The `OX_*` variables by upper-case name (pydantic-settings ignores the case): the
    name as spelt, and the value."""
    return {k.upper(): (k, v) for k, v in os.environ.items() if k.upper().startswith(ENV_PREFIX)}


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _json(text: str) -> Any:
    import json

    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _holds(node: Any, loc: tuple[Any, ...]) -> bool:
    for part in loc:
        if not isinstance(node, dict) or str(part) not in node:
            return False
        node = node[str(part)]
    return True


def _source_of(loc: tuple[Any, ...], data: dict[str, Any], path: Path) -> str:
    """Where the value at `loc` came from: an `OX_*` variable, the file, or neither.

    A variable that names a table (`OX_AGENT_WORK`, JSON) is the source only of the keys its
    JSON holds: the others come from the file beside it (the two are merged).
    """
    env = _ox_environ()
    for depth in range(len(loc), 0, -1):
        key = ENV_PREFIX + "__".join(str(p) for p in loc[:depth]).upper()
        if key not in env:
            continue
        name, value = env[key]
        if depth == len(loc) or _holds(_json(value), loc[depth:]):
            return f"env {name}"
    return f"file {path}" if _holds(data, loc) else ""


def source_of(loc: tuple[str, ...]) -> str:
    """Where the setting at `loc` (`("handlers", "session-finalize", "quality_upload")`) came
    from: `env OX_...`, `file <path>`, or "" (neither: a default, or set by a caller). For the
    error lines of a plugin's options, which are validated apart from the core settings."""
    path = config_file_path()
    try:
        data = _read_toml(path)
    except ConfigError:
        data = {}
    return _source_of(loc, data, path)


def _check_json_env() -> None:
    """A table-valued setting given whole in the environment must be a JSON object."""
    import json

    for name in _TABLES:
        key = f"{ENV_PREFIX}{name.upper()}"
        value = next((v for k, v in os.environ.items() if k.upper() == key), None)
        if value is None:
            continue
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"invalid settings: {key}: not a JSON object ({exc.msg} at character "
                f"{exc.pos}); or set one key at a time, as {key}__<KEY>"
            ) from None
        except RecursionError:  # `json` recurses per nested array or object
            raise ConfigError(
                f"invalid settings: {key}: not a JSON object (nested too deeply)"
            ) from None
        except ValueError:  # `int()` refuses a number longer than this
            raise ConfigError(
                f"invalid settings: {key}: not a JSON object (a number has more than "
                f"{sys.get_int_max_str_digits()} digits)"
            ) from None
        if not isinstance(parsed, dict):
            raise ConfigError(f"invalid settings: {key}: must be a JSON object")


_TABLES = ("agent_work", "sync", "runners", "handlers")


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; `overrides` win over everything (used by tests).

    Raises `ConfigError` with one line naming each invalid key and where its value came from.
    """
    path = config_file_path()
    data = _read_toml(path)  # a broken file is reported as such, not as a validation error
    _check_json_env()
    try:
        return Settings(**overrides)
    except SettingsError as exc:  # a value pydantic-settings could not even parse
        field = re.search(r'field "([^"]+)"', str(exc))
        key = f"{ENV_PREFIX}{field.group(1).upper()}" if field else "an OX_* variable"
        raise ConfigError(f"invalid settings: {key}: cannot parse its value") from None
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            name = ".".join(str(p) for p in loc) or "(settings)"
            source = _source_of(loc, data, path)
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden" and loc[:1] == ("agent_work",):
                message += " (a handler's own options go in its [handlers.<type>] table)"
            problems.append(f"{name}: {message}" + (f" (from {source})" if source else ""))
        raise ConfigError("invalid settings: " + "; ".join(problems)) from None
