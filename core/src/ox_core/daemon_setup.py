"""What the daemon builds before it serves: runners and handlers with their options, the
manager's config provider, the open-files limit, and how a failed start is told."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ox_core.errors import OxError
from ox_core.settings import Settings, config_file_path, load_settings

if TYPE_CHECKING:
    from ox_core.config import AgentWorkerConfig
    from ox_core.contracts import Runner, WorkHandler
    from ox_core.plugins import LoadedPlugins, PluginLoadError

log = logging.getLogger("ox_core.daemon")


Progress = Callable[[str], None]


def _making(progress: Progress | None, what: str, cls: type) -> None:
    """Tell `progress` which plugin's class is being made: its constructor (and a handler's
    `configure`) is a plugin's code, which may never return."""
    if progress is not None:
        progress(f"{what} ({cls.__module__}.{cls.__qualname__}): being made with its options")


def make_runners(
    plugins: LoadedPlugins,
    options: Mapping[str, Mapping[str, Any]],
    *,
    progress: Progress | None = None,
) -> tuple[list[Runner], list[PluginLoadError]]:
    """Instantiate every runner class with its options (`[runners.<name>]`), by priority.

    A runner whose constructor fails is reported, not raised. `progress` is told each runner
    before it is made (as `load_plugins` tells its steps).
    """
    from ox_core.plugins import PluginLoadError

    runners: list[Runner] = []
    errors: list[PluginLoadError] = []
    for cls in plugins.runners_by_priority():
        _making(progress, f"runner {cls.name}", cls)
        try:
            runners.append(cls(**dict(options.get(cls.name, {}))))
        except Exception as exc:
            errors.append(PluginLoadError(cls.name, "ox.runners", "?", "?", f"{exc}"))
            log.error("runner %s cannot start with its options: %s", cls.name, exc)
    return runners, errors


def make_handlers(
    plugins: LoadedPlugins,
    options: Mapping[str, Mapping[str, Any]],
    *,
    progress: Progress | None = None,
) -> tuple[list[WorkHandler], list[PluginLoadError]]:
    """Instantiate every handler class and apply its options (`[handlers.<type>]`, validated
    by its `Options` model). A handler whose options are invalid is reported, not started.
    `progress` is told each handler before it is made."""
    from ox_core.config import validate_options
    from ox_core.plugins import PluginLoadError

    handlers: list[WorkHandler] = []
    errors: list[PluginLoadError] = []
    for type_name, cls in sorted(plugins.handlers.items()):
        _making(progress, f"handler {type_name}", cls)
        try:
            handler = cls()
            raw = options.get(type_name, {})
            handler.configure(validate_options(cls.Options, raw, f"handlers.{type_name}"))
            handlers.append(handler)
        except Exception as exc:
            errors.append(PluginLoadError(type_name, "ox.handlers", "?", "?", f"{exc}"))
            log.error("handler %s cannot start: %s", type_name, exc)
    return handlers, errors


class ConfigReloader:
    """The manager's config provider: re-reads the settings when the config file changes.

    Raises `ConfigError` for an invalid edit (the manager keeps its last good config); the
    problem is logged once per edit.
    """

    def __init__(
        self, settings: Settings, on_reload: Callable[[Settings], None] | None = None
    ) -> None:
        self.current = settings.agent_work
        self._on_reload = on_reload
        self._path = config_file_path()
        self._stamp = self._read_stamp()

    def _read_stamp(self) -> tuple[int, int] | None:
        try:
            st = self._path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def __call__(self) -> AgentWorkerConfig:
        stamp = self._read_stamp()
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                settings = load_settings()
            except OxError as exc:
                log.warning("config file changed but is invalid, keeping the last one: %s", exc)
                raise
            self.current = settings.agent_work
            if self._on_reload is not None:
                self._on_reload(settings)
            log.info("config file changed: agent work settings reloaded")
        return self.current


def raise_open_files_limit() -> None:
    """Raise the soft limit of open files to the hard one: connections, agent pipes and
    watched files all take descriptors, and the soft default (often 1024) is low."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as exc:
            log.debug("cannot raise the open files limit: %s", exc)


def only_ox_error(group: BaseExceptionGroup[BaseException]) -> OxError | None:
    """The first `OxError` of a group made only of `OxError`s (nested groups flattened)."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            leaves.append(exc)

    walk(group)
    if leaves and all(isinstance(exc, OxError) for exc in leaves):
        first = leaves[0]
        assert isinstance(first, OxError)
        return first
    return None
