"""The daemon's settings: `~/.config/ox/config.toml` plus `OX_*` environment variables.

Precedence, highest first: keyword arguments (tests), `OX_*` environment variables, the TOML
file, defaults. Nested keys use `__` in the environment: `OX_AGENT_WORK__MAX_CONCURRENT=2`,
`OX_RUNNERS__<NAME>__BINARY=/opt/bin/agent`. `Settings.sources()` says where each value came
from (shown by `ox-core doctor`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from ox_core.config import AgentWorkerConfig
from ox_core.errors import ConfigError

ENV_PREFIX = "OX_"
CONFIG_FILE_ENV = "OX_CONFIG_FILE"


def config_file_path() -> Path:
    """The TOML config file: `$OX_CONFIG_FILE`, else `config.toml` in the user config dir."""
    explicit = os.environ.get(CONFIG_FILE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("ox")) / "config.toml"


def default_ledger_path() -> Path:
    """The embedded default ledger: `ledger/` in the user data dir (created on first start)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("ox")) / "ledger"


def runtime_dir() -> Path:
    """The user's runtime dir for ox (`$XDG_RUNTIME_DIR/ox`, else a private dir in /tmp).

    Computed here rather than by platformdirs, which warns when `XDG_RUNTIME_DIR` is unset.
    """
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base and Path(base).is_dir():
        return Path(base) / "ox"
    return Path(tempfile.gettempdir()) / f"ox-{os.getuid()}"


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
    runners: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Options per runner name, passed to the runner class as keyword arguments "
        '(e.g. `[runners.<name>] binary = "/path"`).',
    )
    handlers: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Options per handler type, passed to `WorkHandler.configure`.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file_path())
        return (init_settings, env_settings, toml)

    # -- derived values -------------------------------------------------------------------

    def ledger_path(self) -> Path:
        """The ledger in use: the configured one, else the default ledger's path."""
        if self.ledger is not None:
            return self.ledger.expanduser().absolute()
        return default_ledger_path()

    def uses_default_ledger(self) -> bool:
        """Whether the ledger is the embedded default one (created on first start)."""
        return self.ledger is None

    def socket_path(self) -> Path:
        """The IPC socket: configured, else `<runtime dir>/ox-<ledger hash>.sock`.

        One socket per ledger, like the daemon lock, so daemons of two ledgers never meet.
        """
        if self.socket is not None:
            return self.socket.expanduser().absolute()
        digest = hashlib.sha256(os.fsencode(self.ledger_path())).hexdigest()[:12]
        return runtime_dir() / f"ox-{digest}.sock"

    def sources(self) -> dict[str, str]:
        """Where each top-level value came from: `env OX_...`, `file <path>` or `default`.

        Nested tables report per sub-key (`agent_work.max_concurrent`) when set anywhere.
        """
        env = {k.upper(): v for k, v in os.environ.items() if k.upper().startswith(ENV_PREFIX)}
        path = config_file_path()
        data = _read_toml(path)
        found: dict[str, str] = {}
        for name in type(self).model_fields:
            key = f"{ENV_PREFIX}{name.upper()}"
            nested = sorted(k for k in env if k.startswith(key + "__"))
            if key in env:
                found[name] = f"env {key}"
            elif name in data:
                found[name] = f"file {path}"
            else:
                found[name] = "default"
            sub = data.get(name)
            if isinstance(sub, dict):
                for sub_key in sub:
                    found[f"{name}.{sub_key}"] = f"file {path}"
            for env_key in nested:
                dotted = ".".join(env_key[len(ENV_PREFIX) :].lower().split("__"))
                found[dotted] = f"env {env_key}"
        return found


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc


def _source_of(loc: tuple[Any, ...], data: dict[str, Any], path: Path) -> str:
    """Where the value at `loc` came from: an `OX_*` variable, the file, or neither."""
    env = {k.upper(): k for k in os.environ}
    for depth in range(len(loc), 0, -1):
        key = ENV_PREFIX + "__".join(str(p) for p in loc[:depth]).upper()
        if key in env:
            return f"env {env[key]}"
    node: Any = data
    for part in loc:
        if not isinstance(node, dict) or str(part) not in node:
            return ""
        node = node[str(part)]
    return f"file {path}"


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; `overrides` win over everything (used by tests).

    Raises `ConfigError` with one line naming each invalid key and where its value came from.
    """
    path = config_file_path()
    data = _read_toml(path)  # a broken file is reported as such, not as a validation error
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            name = ".".join(str(p) for p in loc) or "(settings)"
            source = _source_of(loc, data, path)
            problems.append(f"{name}: {err['msg']}" + (f" (from {source})" if source else ""))
        raise ConfigError("invalid settings: " + "; ".join(problems)) from None
