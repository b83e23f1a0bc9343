"""Session adapters: turn one line of an agent's own session file into raw entries.

Adapters are plugins of ox-core's loader, like runners and handlers, so a third party can add
one from its own distribution (and `ox-core plugins` lists it)::

    [project.entry-points."ox.adapters"]
    my-agent = "my_package.adapter"

where `my_package.adapter` implements the hook::

    @ox_core.hookimpl
    def ox_register_adapters(register):
        register(MyAgentAdapter)

and `MyAgentAdapter` (a class or any zero-argument callable) returns a `SessionAdapter`
(`name`, `roots`, `parse_line`, and optionally the faster `parse_fields`; see
`base.SessionAdapter`).
"""

from __future__ import annotations

from ox_session_capture.adapters.base import (
    AdapterError,
    BaseAdapter,
    Fields,
    SessionAdapter,
    adapter_names,
    load_adapter,
)

__all__ = [
    "AdapterError",
    "BaseAdapter",
    "Fields",
    "SessionAdapter",
    "adapter_names",
    "load_adapter",
]
