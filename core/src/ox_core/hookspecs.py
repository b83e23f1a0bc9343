"""The hooks through which ox calls plugins. Plugin modules implement them with
`@ox_core.hookimpl`; an entry point in group `ox.runners`, `ox.handlers` or `ox.adapters`
names the module. (Commands, group `ox.commands`, are objects, not hooks: see
`ox_core.commands`.)

Hooks are synchronous and register classes; the classes carry the (async) behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from ox_core.contracts import Runner, WorkHandler

PROJECT = "ox"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def ox_register_runners(register: Callable[[type[Runner]], None]) -> None:
    """Register runner classes: call `register(RunnerSubclass)` once per class.

    Called once, when plugins are loaded. Return value ignored. A class whose `name` was
    already registered is reported as a plugin error and ignored.
    """


@hookspec
def ox_register_handlers(register: Callable[[type[WorkHandler]], None]) -> None:
    """Register work handler classes: call `register(WorkHandlerSubclass)` once per class.

    Called once, when plugins are loaded. Return value ignored. A class whose `type` was
    already registered is reported as a plugin error and ignored.
    """


@hookspec
def ox_register_adapters(register: Callable[[Callable[[], Any]], None]) -> None:
    """Register adapters: call `register(AdapterClass)` once per class.

    An adapter reads one agent's own files for a plugin that understands them (e.g. the
    session adapters of session capture, which turn a line of an agent's session file into
    transcript entries). A class (or zero-argument factory) with a non-empty `name`; the
    plugin that uses the adapters states the rest of their protocol. Called once, when
    adapters are loaded; a name already registered is reported as a plugin error and ignored.
    """
