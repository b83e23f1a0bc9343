"""Plugin discovery and registration: the only module that touches stevedore and pluggy.

stevedore loads each entry point of `ox.runners`, `ox.handlers` and `ox.adapters` in
isolation and reports the ones that fail to import; pluggy validates the loaded modules
against `ox_core.hookspecs` and calls their hooks, one plugin at a time, so one broken plugin
never hides the others. Plugin commands (`ox.commands`) are listed from metadata here too;
`ox_core.commands` imports one only when it runs.
"""

from __future__ import annotations

import importlib.metadata
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from ox_core.commands import COMMANDS_GROUP
from ox_core.contracts import Runner, WorkHandler

log = logging.getLogger(__name__)

RUNNERS_GROUP = "ox.runners"
HANDLERS_GROUP = "ox.handlers"
ADAPTERS_GROUP = "ox.adapters"
# The groups whose entry points name a module implementing the hooks of `ox_core.hookspecs`.
GROUPS = (RUNNERS_GROUP, HANDLERS_GROUP, ADAPTERS_GROUP)
# What `ox-core plugins` lists: the hook groups and the commands.
LISTED_GROUPS = (*GROUPS, COMMANDS_GROUP)

Adapter = Callable[[], Any]


@attrs.frozen
class PluginInfo:
    """An entry point of an ox group, as its distribution's metadata declares it."""

    name: str
    group: str
    value: str
    distribution: str
    version: str


@attrs.frozen
class PluginLoadError:
    """A plugin that could not be used: which, from which distribution, and why."""

    name: str
    group: str
    distribution: str
    version: str
    error: str


@attrs.frozen
class LoadedPlugins:
    """The result of `load_plugins`: registered classes by name, and what failed.

    `adapters` are the adapter classes (or factories) by their `name`.
    """

    runners: Mapping[str, type[Runner]]
    handlers: Mapping[str, type[WorkHandler]]
    errors: tuple[PluginLoadError, ...]
    plugins: tuple[PluginInfo, ...]
    adapters: Mapping[str, Adapter] = attrs.field(factory=dict)

    def runners_by_priority(self) -> list[type[Runner]]:
        """Runner classes in auto-detection order (lowest `priority` first, then name)."""
        return sorted(self.runners.values(), key=lambda cls: (cls.priority, cls.name))


def list_entry_points(groups: Iterable[str] = GROUPS) -> list[PluginInfo]:
    """The installed ox plugins from metadata alone: imports no plugin code."""
    found: list[PluginInfo] = []
    for group in groups:
        for ep in importlib.metadata.entry_points(group=group):
            dist = ep.dist
            found.append(
                PluginInfo(
                    name=ep.name,
                    group=group,
                    value=ep.value,
                    distribution=dist.name if dist is not None else "?",
                    version=dist.version if dist is not None else "?",
                )
            )
    return sorted(found, key=lambda p: (p.group, p.name))


def make_plugin_manager() -> Any:
    """A fresh pluggy manager that knows the ox hookspecs (nothing registered)."""
    import pluggy

    from ox_core import hookspecs

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def _is_priority(value: object) -> bool:
    """Whether `value` can be sorted with other runners' priorities (a finite number)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# What a plugin's own code may raise that is still its fault, not the daemon's end: stevedore
# lets `AssertionError` through (and `SystemExit` is no `Exception`), so a module-level
# `assert` or `sys.exit()` in one plugin would stop every command and the daemon.
PLUGIN_FAULTS = (Exception, SystemExit)


def _claims(owner: tuple[str, str], adapter: str, owners: Mapping[str, tuple[str, str]]) -> bool:
    """Whether the entry point `owner` takes the adapter name `adapter` from the one that
    registered it first: an entry point named like the adapter owns the name, whatever the
    order the distributions load in (a third party's subclass of a built-in adapter that
    keeps its `name` would otherwise serve, and refuse, that agent's sessions)."""
    return owner == (ADAPTERS_GROUP, adapter) and owners[adapter] != owner


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _plugin(distribution: str, version: str, name: str) -> str:
    return f"plugin {name} ({distribution} {version})"


def load_plugins(
    *,
    entry_points: bool = True,
    extra: Iterable[tuple[str, object]] = (),
    groups: Iterable[str] = GROUPS,
    progress: Callable[[str], None] | None = None,
) -> LoadedPlugins:
    """Discover, register and collect the ox plugins.

    With `entry_points` (the default), every entry point of `groups` (by default `ox.runners`,
    `ox.handlers` and `ox.adapters`; `plugins` also lists the `ox.commands` ones) is loaded
    with stevedore; `extra` adds `(name, module_or_object)` plugins directly (tests use
    it with entry points off). A plugin that fails to import, fails pluggy's validation, raises
    in its hook or registers something that is not a `Runner`/`WorkHandler` subclass is
    reported in `errors`; the others load normally. Never raises for a plugin's fault.

    `progress` is told, before each step that runs a plugin's code (its import, each of its
    hooks), which plugin and step it is (`plugin NAME (DIST VERSION): STEP`): one that never
    returns can then be named (the daemon shows it in `status`).
    """
    groups = tuple(groups)
    told = progress or (lambda _what: None)
    infos = list_entry_points(LISTED_GROUPS if groups == GROUPS else groups) if entry_points else []
    by_key = {(p.group, p.name): p for p in infos}
    errors: list[PluginLoadError] = []
    candidates: list[tuple[str, str, object]] = []  # (group, name, module)

    def origin(group: str, name: str) -> tuple[str, str]:
        info = by_key.get((group, name))
        return (info.distribution, info.version) if info else ("?", "?")

    def fail(group: str, name: str, error: str) -> None:
        dist, version = origin(group, name)
        errors.append(PluginLoadError(name, group, dist, version, error))
        log.warning("plugin %s (%s %s) not loaded: %s", name, dist, version, error)

    if entry_points:
        from stevedore import ExtensionManager

        class IsolatingExtensionManager(ExtensionManager[Any]):
            """stevedore's manager, but an `AssertionError` or `SystemExit` importing one entry
            point is that entry point's failure (stevedore re-raises both: the load would end)."""

            def _load_one_plugin(self, ep: Any, *args: Any) -> Any:
                told(f"{_plugin(*origin(self.namespace, ep.name), ep.name)}: import")
                try:
                    return super()._load_one_plugin(ep, *args)
                except (AssertionError, SystemExit) as exc:
                    callback = self._on_load_failure_callback
                    if callback is None:
                        raise
                    callback(self, ep, exc)
                    return None

        for group in groups:

            def on_failure(_mgr: object, ep: Any, exc: BaseException, group: str = group) -> None:
                fail(group, ep.name, _describe(exc))

            # stevedore memoises each namespace's entry points for the life of the process;
            # drop that so every call sees what is installed now.
            ExtensionManager.ENTRY_POINT_CACHE.pop(group, None)
            manager: ExtensionManager[Any] = IsolatingExtensionManager(
                namespace=group,
                invoke_on_load=False,
                on_load_failure_callback=on_failure,
            )
            for ext in manager:
                candidates.append((group, ext.name, ext.plugin))
    for name, plugin in extra:
        candidates.append(("extra", name, plugin))

    pm = make_plugin_manager()
    runners: dict[str, type[Runner]] = {}
    handlers: dict[str, type[WorkHandler]] = {}
    adapters: dict[str, Adapter] = {}
    owners: dict[str, tuple[str, str]] = {}  # adapter name: (group, entry point) registering it
    for group, name, plugin in candidates:
        try:
            pm.register(plugin, name=f"{group}:{name}")
        except Exception as exc:
            fail(group, name, _describe(exc))
            continue
        # pluggy accepts a hookimpl no hookspec names (a misspelled hook) and never calls it:
        # the plugin would load "fine" and register nothing.
        plugin_errors: list[str] = [
            f"implements {caller.name}, which is not an ox hook"
            for caller in pm.get_hookcallers(plugin) or []
            if not caller.has_spec()
        ]

        def add_runner(cls: type[Runner], errs: list[str] = plugin_errors) -> None:
            if not (isinstance(cls, type) and issubclass(cls, Runner)):
                errs.append(f"registered {cls!r}, which is not a Runner subclass")
            elif not isinstance(getattr(cls, "name", None), str) or not cls.name:
                errs.append(f"runner class {cls.__qualname__} has no name")
            elif not _is_priority(cls.priority):
                errs.append(
                    f"runner class {cls.__qualname__} has a priority that is not a number: "
                    f"{cls.priority!r}"
                )
            elif cls.name in runners:
                errs.append(f"runner name {cls.name!r} is already taken")
            else:
                runners[cls.name] = cls

        def add_handler(cls: type[WorkHandler], errs: list[str] = plugin_errors) -> None:
            if not (isinstance(cls, type) and issubclass(cls, WorkHandler)):
                errs.append(f"registered {cls!r}, which is not a WorkHandler subclass")
            elif not isinstance(getattr(cls, "type", None), str) or not cls.type:
                errs.append(f"handler class {cls.__qualname__} has no type")
            elif cls.type in handlers:
                errs.append(f"handler type {cls.type!r} is already taken")
            else:
                handlers[cls.type] = cls

        def add_adapter(
            obj: Adapter, errs: list[str] = plugin_errors, owner: tuple[str, str] = (group, name)
        ) -> None:
            adapter_name = getattr(obj, "name", None)
            if not callable(obj):
                errs.append(f"registered {obj!r}, which is not an adapter class")
            elif not isinstance(adapter_name, str) or not adapter_name:
                errs.append(f"adapter {obj!r} has no name")
            elif adapter_name in adapters and not _claims(owner, adapter_name, owners):
                errs.append(f"adapter name {adapter_name!r} is already taken")
            else:
                if adapter_name in adapters:
                    taken = owners[adapter_name]
                    fail(*taken, f"adapter name {adapter_name!r} is taken by its entry point")
                adapters[adapter_name] = obj
                owners[adapter_name] = owner

        hooks: tuple[tuple[str, Callable[[Any], None]], ...] = (
            ("ox_register_runners", add_runner),
            ("ox_register_handlers", add_handler),
            ("ox_register_adapters", add_adapter),
        )
        for hook_name, register in hooks:
            for impl in getattr(pm.hook, hook_name).get_hookimpls():
                if impl.plugin is not plugin:
                    continue
                told(f"{_plugin(*origin(group, name), name)}: {hook_name}")
                try:
                    impl.function(register=register)
                except PLUGIN_FAULTS as exc:
                    plugin_errors.append(f"{hook_name} raised {_describe(exc)}")
        for error in plugin_errors:
            fail(group, name, error)
    return LoadedPlugins(
        runners=dict(runners),
        handlers=dict(handlers),
        errors=tuple(errors),
        plugins=tuple(infos),
        adapters=dict(adapters),
    )
