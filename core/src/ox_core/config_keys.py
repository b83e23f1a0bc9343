"""Every configuration key, of core and of each installed plugin, with its type, default and
description: what `ox-core config --show` prints and docs/configuration.md lists.

Read from the pydantic models themselves (core's `Settings` and `AgentWorkerConfig`, each
runner's and handler's `Options`), so the list cannot drift from what is validated.
"""

from __future__ import annotations

import json
import types
import typing
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

if TYPE_CHECKING:
    from pydantic.fields import FieldInfo

    from ox_core.plugins import LoadedPlugins


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " | ".join(json.dumps(a) for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is not None:
        args = ", ".join(_type_name(a) for a in typing.get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if annotation is type(None):
        return "None"
    return str(getattr(annotation, "__name__", annotation))


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "(required)"
    else:
        value = field.default
    if isinstance(value, BaseModel):
        return "(table)"
    if isinstance(value, frozenset | set | tuple):
        value = sorted(value)
    return json.dumps(value, default=str)


def model_rows(model: type[BaseModel], prefix: str, owner: str) -> list[dict[str, str]]:
    """One row per field of `model` under `prefix` (nested models flattened)."""
    rows: list[dict[str, str]] = []
    for name, field in model.model_fields.items():
        key = f"{prefix}.{name}" if prefix else name
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows.extend(model_rows(annotation, key, owner))
            continue
        rows.append(
            {
                "key": key,
                "type": _type_name(annotation),
                "default": _default(field),
                "description": " ".join((field.description or "").split()),
                "owner": owner,
            }
        )
    return rows


def core_rows() -> list[dict[str, str]]:
    """Core's keys: the top-level settings and `[agent_work]` (the plugin tables excluded)."""
    from ox_core.settings import Settings

    rows = model_rows(Settings, "", "ox-core")
    return [r for r in rows if r["key"] not in ("runners", "handlers")]


def plugin_rows(loaded: LoadedPlugins) -> list[dict[str, str]]:
    """Each installed runner's `[runners.<name>]` and handler's `[handlers.<type>]` keys."""
    dists = {(p.group, p.name): p.distribution for p in loaded.plugins}
    owners = {
        cls: dists.get((group, name), "?")
        for group, table in (("ox.runners", loaded.runners), ("ox.handlers", loaded.handlers))
        for name, cls in table.items()
    }
    rows: list[dict[str, str]] = []
    for name, runner in sorted(loaded.runners.items()):
        options = getattr(runner, "Options", None)
        if isinstance(options, type) and issubclass(options, BaseModel):
            rows += model_rows(options, f"runners.{name}", owners.get(runner, "?"))
    for type_name, handler in sorted(loaded.handlers.items()):
        rows += model_rows(handler.Options, f"handlers.{type_name}", owners.get(handler, "?"))
    return rows
