"""Checks a written value against its datapoint definition: access, base type, range, enum.

Each refusal carries a code a client can act on (``unknown_datapoint``, ``read_only``,
``invalid_type``, ``out_of_range``) and the datapoint it concerns.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

INT_RANGES = {
    "uint8": (0, 255),
    "int8": (-128, 127),
    "uint16": (0, 65_535),
    "int16": (-32_768, 32_767),
    "uint32": (0, 4_294_967_295),
    "int32": (-2_147_483_648, 2_147_483_647),
}
FLOAT32_MAX = 3.4028234663852886e38
_RANGE = re.compile(r"\[\s*(-?[\d.eE+-]+)\s*,\s*(-?[\d.eE+-]+)\s*\]")


class WriteRejected(ValueError):
    """A value the device would not take; ``code`` says why, ``datapoint`` which one."""

    def __init__(self, code: str, datapoint: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.datapoint = datapoint
        self.message = message


def _restrictions(features: Mapping[str, str]) -> list[str]:
    raw = features.get("default.restriction", "")
    # A regular expression may itself hold ';': it is always the last restriction.
    head, sep, regex = raw.partition("re:")
    parts = [p.strip() for p in head.split(";") if p.strip()]
    if sep:
        parts.append("re:" + regex)
    return parts


def _enum(features: Mapping[str, str]) -> list[str] | None:
    fmt = features.get("default.format", "")
    if fmt.startswith("application/vnd.belimo.enum;"):
        return fmt.split(";", 1)[1].split("|")
    return None


def _typed(dp: str, basetype: str, value: Any) -> Any:
    """``value`` as the base type wants it; WriteRejected ``invalid_type`` when it is not."""
    ok: bool
    if basetype == "bool":
        ok = isinstance(value, bool)
    elif basetype == "int":
        ok = not isinstance(value, bool) and (
            isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        )
        if ok:
            value = int(value)
    elif basetype == "real":
        ok = not isinstance(value, bool) and isinstance(value, int | float)
        if ok:
            value = float(value)
            ok = math.isfinite(value)
    else:
        ok = isinstance(value, str)
    if not ok:
        raise WriteRejected(
            "invalid_type", dp, f"{dp}: {value!r} is not a valid {basetype} value (send raw values)"
        )
    return value


def _check_range(dp: str, value: Any, restriction: str) -> None:
    if isinstance(value, str):
        if restriction.startswith("len:"):
            found = _RANGE.fullmatch(restriction[4:].strip())
            if found and not float(found[1]) <= len(value) <= float(found[2]):
                raise WriteRejected(
                    "out_of_range",
                    dp,
                    f"{dp}: text of {len(value)} characters; allowed {restriction[4:]}",
                )
        elif restriction.startswith("re:") and re.fullmatch(restriction[3:], value) is None:
            raise WriteRejected(
                "out_of_range", dp, f"{dp}: {value[:60]!r} does not match {restriction[3:]}"
            )
        return
    if isinstance(value, bool):
        return
    low: float
    high: float
    if restriction in INT_RANGES:
        low, high = INT_RANGES[restriction]
    elif restriction == "b32":
        low, high = -FLOAT32_MAX, FLOAT32_MAX
    else:
        found = _RANGE.fullmatch(restriction)
        if found is None:
            return
        low, high = float(found[1]), float(found[2])
    if not low <= value <= high:
        raise WriteRejected(
            "out_of_range", dp, f"{dp}: {value:g} is out of range [{low:g}, {high:g}]"
        )


def check_value(definition: Mapping[str, Any], value: Any) -> Any:
    """``value`` checked against one datapoint definition (as the API serves it), normalised."""
    dp = str(definition["id"])
    features: Mapping[str, str] = definition["featureValues"]
    if "w" not in features.get("default.access", "r"):
        raise WriteRejected("read_only", dp, f"{dp} is read-only (access r)")
    value = _typed(dp, features.get("default.basetype", "text"), value)
    choices = _enum(features)
    if choices is not None and str(value) not in choices:
        raise WriteRejected(
            "out_of_range", dp, f"{dp}: {value!r} is not one of {'|'.join(choices)}"
        )
    if features.get("default.format") == "application/vnd.belimo.iso3166;alpha2" and not (
        isinstance(value, str) and re.fullmatch(r"[A-Z]{2}", value)
    ):
        raise WriteRejected("out_of_range", dp, f"{dp}: {value!r} is not an ISO 3166 alpha-2 code")
    for restriction in _restrictions(features):
        _check_range(dp, value, restriction)
    return value


def check_values(
    definitions: Mapping[str, Mapping[str, Any]], values: Mapping[str, Any]
) -> dict[str, Any]:
    """Every value checked against its definition (``definitions`` keyed by datapoint id)."""
    checked: dict[str, Any] = {}
    for dp, value in values.items():
        definition = definitions.get(dp)
        if definition is None:
            raise WriteRejected(
                "unknown_datapoint", dp, f"{dp[:80]!r} is not a datapoint of the device's profile"
            )
        checked[dp] = check_value(definition, value)
    return checked
