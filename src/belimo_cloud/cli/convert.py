"""Turn the library's models (msgspec Structs, dataclasses, mappings) into flat records."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["as_record", "snake"]

_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake(name: str) -> str:
    """camelCase to snake_case (totalDevices -> total_devices)."""
    return _CAMEL.sub(r"_\1", name).lower()


def _fields(obj: Any) -> Mapping[str, Any] | None:
    if isinstance(obj, Mapping):
        return obj
    struct_fields = getattr(type(obj), "__struct_fields__", None)
    if struct_fields is not None:
        return {name: getattr(obj, name) for name in struct_fields}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.repr}
    return None


def as_record(obj: Any, prefix: str = "") -> dict[str, Any]:
    """A flat dict of a model: nested models become ``outer_inner`` keys, in snake_case."""
    flat: dict[str, Any] = {}
    fields = _fields(obj)
    if fields is None:
        return {prefix or "value": obj}
    for key, value in fields.items():
        name = f"{prefix}_{snake(str(key))}" if prefix else snake(str(key))
        if _fields(value) is not None:
            flat.update(as_record(value, name))
        else:
            flat[name] = value
    return flat
