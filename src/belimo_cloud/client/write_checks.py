"""Checks of one value against its datapoint definition, and its conversion to the raw value.

The profile decides: ``default.basetype`` (real, int, text, bool), ``default.unit`` (a value
given with another unit is converted; a temperature *difference* without the kelvin offset),
``default.restriction`` (``[a,b]``, ``(a,b)``, ``len:[a,b]``, ``re:(...)``, ``uint8``,
``int32``, ``b32``, joined by ``;``), ``default.format`` (``enum;0|1``, ISO 3166 alpha-2) and
the UI's ``min``/``max``/``enumeration``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from belimo_cloud import units
from belimo_cloud.client.models import Datapoint
from belimo_cloud.errors import DataError

__all__ = ["ReadOnlyDatapoint", "ValueOutOfRange", "WriteRefused", "coerce_value"]

# Limits of the integer and float restrictions seen in profiles.
_INT_LIMITS = {
    "int8": (-(2**7), 2**7 - 1),
    "uint8": (0, 2**8 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "uint16": (0, 2**16 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
}
_FLOAT32_MAX = 3.4028234663852886e38
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
# A number followed by an optional unit: "21", "21.5 degC", "-3e2K", "50 %".
_NUMBER_UNIT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\d\s].*?)?\s*$")
# Restrictions are joined by ';' - but a regex may contain one, so split only before a start.
_RESTRICTION_SPLIT = re.compile(r";(?=\s*(?:len:|re:|[\[(]|u?int\d+\b|b\d+\b))")
_RANGE = re.compile(r"^([\[(])\s*([^,]*)\s*,\s*([^\])]*)\s*([\])])$")


class WriteRefused(DataError):
    """The write cannot be sent: unknown datapoint, wrong type, remote control disabled, ...

    ``device_id`` and ``datapoint_id`` say where (None when not about one datapoint).
    """

    def __init__(
        self, message: str, *, device_id: str | None = None, datapoint_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.device_id = device_id
        self.datapoint_id = datapoint_id


class ReadOnlyDatapoint(WriteRefused):
    """The datapoint's access is ``r``: it can be read, never written."""


class ValueOutOfRange(WriteRefused):
    """The value is outside the datapoint's range, length, pattern or enumeration."""


def _is_delta(dp: Datapoint) -> bool:
    """A temperature difference (dT setpoints): converted without the kelvin offset."""
    text = f"{dp.name or ''} {dp.description or ''}".casefold()
    return "delta" in text or "dt_" in text or text.startswith("dt")


def _split_unit(given: Any) -> tuple[Any, str | None]:
    """(number or text, unit) from ``(50, "%")``, ``"21 degC"`` or a plain value."""
    if isinstance(given, tuple) and len(given) == 2 and isinstance(given[1], str):
        return given[0], given[1]
    if isinstance(given, str):
        match = _NUMBER_UNIT.match(given)
        if match and match.group(2):
            return match.group(1), match.group(2).strip()
    return given, None


def coerce_value(dp: Datapoint, given: Any, *, device_id: str | None = None) -> Any:
    """The raw value to send for ``given``: unit converted, base type coerced, restrictions met.

    Raises ValueOutOfRange for a value outside the datapoint's limits and WriteRefused for one
    that cannot be read as its base type.
    """
    where = {"device_id": device_id, "datapoint_id": dp.id}
    basetype = dp.basetype or "text"
    value, unit = _split_unit(given)
    if unit is not None:
        if basetype not in ("real", "int"):
            raise WriteRefused(
                f"{dp.id} is {basetype}; a unit ({unit}) makes no sense for it", **where
            )
        if not dp.unit:
            raise WriteRefused(
                f"{dp.id} has no unit in its profile; give the value without {unit!r}", **where
            )
        number = _number(dp, value, where)
        try:
            value = units.convert(number, unit, dp.unit, delta=_is_delta(dp))
        except DataError as exc:
            raise WriteRefused(f"{dp.id}: {exc}", **where) from None
    raw = _coerce_basetype(dp, basetype, value, where)
    _check_restrictions(dp, raw, where)
    return raw


def _number(dp: Datapoint, value: Any, where: dict[str, Any]) -> float:
    if isinstance(value, bool):
        raise WriteRefused(f"{dp.id} takes a number, not {value!r}", **where)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise WriteRefused(f"{dp.id} takes a number, got {value!r}", **where) from None
    if not math.isfinite(number):
        raise ValueOutOfRange(f"{dp.id} takes a finite number, got {value!r}", **where)
    return number


def _coerce_basetype(dp: Datapoint, basetype: str, value: Any, where: dict[str, Any]) -> Any:
    if basetype == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().casefold()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise WriteRefused(f"{dp.id} takes true or false, got {value!r}", **where)
    if basetype == "int":
        number = _number(dp, value, where)
        if not number.is_integer():
            raise ValueOutOfRange(f"{dp.id} takes a whole number, got {value!r}", **where)
        return int(number)
    if basetype == "real":
        return _number(dp, value, where)
    if not isinstance(value, str):
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)
    return value


def _bound(text: str) -> float | None:
    text = text.strip()
    if not text or text in ("*", "inf", "+inf", "-inf"):
        return None
    return float(text)


def _in_range(spec: str, x: float) -> bool | None:
    """Whether x lies in "[a,b]"/"(a,b)"; None when ``spec`` is not a range."""
    match = _RANGE.match(spec.strip())
    if not match:
        return None
    try:
        lo, hi = _bound(match.group(2)), _bound(match.group(3))
    except ValueError:
        return None
    if lo is not None and (x < lo if match.group(1) == "[" else x <= lo):
        return False
    return not (hi is not None and (x > hi if match.group(4) == "]" else x >= hi))


def _enumeration(dp: Datapoint) -> list[str]:
    """Allowed raw values from the ``enum;0|1`` format or the UI's enumeration, as text."""
    allowed: list[str] = []
    fmt = dp.format or ""
    if "enum;" in fmt:
        allowed += [part.strip() for part in fmt.split("enum;", 1)[1].split("|") if part.strip()]
    gui = dp.feature("bMg3Fgui.enumeration")
    if gui and not allowed:
        for part in re.split(r"[|,]", gui):
            key = re.split(r"[:=]", part, maxsplit=1)[0].strip()
            if key:
                allowed.append(key)
    return allowed


def _check_restrictions(dp: Datapoint, raw: Any, where: dict[str, Any]) -> None:
    numeric = isinstance(raw, int | float) and not isinstance(raw, bool)
    for part in _RESTRICTION_SPLIT.split(dp.restriction or ""):
        spec = part.strip()
        if not spec:
            continue
        if spec.startswith("len:") and isinstance(raw, str):
            inside = _in_range(spec[4:], float(len(raw)))
            if inside is False:
                raise ValueOutOfRange(
                    f"{dp.id} takes text of length {spec[4:]}, got {len(raw)} characters", **where
                )
        elif spec.startswith("re:") and isinstance(raw, str):
            if re.fullmatch(spec[3:], raw) is None:
                raise ValueOutOfRange(
                    f"{dp.id} takes text matching {spec[3:]}, got {raw!r}", **where
                )
        elif numeric and spec in _INT_LIMITS:
            lo, hi = _INT_LIMITS[spec]
            if not lo <= raw <= hi:
                raise ValueOutOfRange(
                    f"{dp.id} takes {spec} values [{lo},{hi}], got {raw}", **where
                )
        elif numeric and spec == "b32":
            if abs(raw) > _FLOAT32_MAX:
                raise ValueOutOfRange(f"{dp.id} takes 32-bit values, got {raw}", **where)
        elif numeric and _in_range(spec, float(raw)) is False:
            raise ValueOutOfRange(f"{dp.id} takes values in {spec}, got {raw:g}", **where)
    if numeric:
        _check_gui_limits(dp, float(raw), where)
    iso = "iso3166" in (dp.format or "") and isinstance(raw, str) and bool(raw)
    if iso and re.fullmatch(r"[A-Z]{2}", raw) is None:
        raise ValueOutOfRange(
            f"{dp.id} takes an ISO 3166 alpha-2 country code such as CH, got {raw!r}", **where
        )
    allowed = _enumeration(dp)
    if allowed:
        text = ("true" if raw else "false") if isinstance(raw, bool) else _enum_text(raw)
        if text not in allowed:
            raise ValueOutOfRange(f"{dp.id} takes one of {', '.join(allowed)}, got {text}", **where)


def _check_gui_limits(dp: Datapoint, x: float, where: dict[str, Any]) -> None:
    """The UI's min and max (raw units), when the profile gives them."""
    lo_text, hi_text = dp.feature("bMg3Fgui.min"), dp.feature("bMg3Fgui.max")
    try:
        lo = float(lo_text) if lo_text else None
        hi = float(hi_text) if hi_text else None
    except ValueError:
        return
    if (lo is not None and x < lo) or (hi is not None and x > hi):
        shown = f"[{lo_text or '-inf'},{hi_text or 'inf'}]"
        raise ValueOutOfRange(f"{dp.id} takes values in {shown}, got {x:g}", **where)


def _enum_text(raw: Any) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)
