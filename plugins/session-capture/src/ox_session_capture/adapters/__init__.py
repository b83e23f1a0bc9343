"""Session adapters: turn one line of an agent's own session file into raw entries (SPEC §3.9).

An adapter is found by name through the entry-point group `ox.session_adapters`, so a third
party can add one from its own distribution::

    [project.entry-points."ox.session_adapters"]
    my-agent = "my_package.adapter:MyAgentAdapter"

The entry point names a class (or any zero-argument callable) returning a `SessionAdapter`.
"""

from __future__ import annotations

from ox_handler_session_finalize.adapters.base import (
    ADAPTERS_GROUP,
    AdapterError,
    BaseAdapter,
    SessionAdapter,
    adapter_names,
    load_adapter,
)

__all__ = [
    "ADAPTERS_GROUP",
    "AdapterError",
    "BaseAdapter",
    "SessionAdapter",
    "adapter_names",
    "load_adapter",
]
