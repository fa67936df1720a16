"""Unit conversion by the data profile's unit string: the one place that knows the factors.

Profile units are the ``default.unit`` feature values (``joule``, ``watt``, ``percent``,
``kelvin``, ``cubicMeterPerSecond``, ``cubicMeter``, ``degree``, ``hour``); targets are short
symbols (``kWh``, ``MWh``, ``Wh``, ``J``, ``degC``, ``K``, ``l/s``, ``m3/h``, ``kW``, ``MW``,
``l`` ...). Every conversion is linear (``y = x * scale + offset``); the only offset is kelvin
to degree Celsius for absolute temperatures, which a temperature difference must skip
(``delta=True`` or :func:`convert_delta`), because a difference of 1 K is 1 degC.
"""

from __future__ import annotations

from typing import Any, Final, overload

import numpy as np
import numpy.typing as npt
import pandas as pd

from belimo_cloud.errors import DataError

__all__ = [
    "CANONICAL",
    "DEFAULT_TARGET",
    "J_PER_KWH",
    "KELVIN_OFFSET",
    "canonical_unit",
    "convert",
    "convert_delta",
    "default_target",
    "display_unit",
    "scale_factor",
    "targets",
]

J_PER_KWH: Final = 3.6e6
KELVIN_OFFSET: Final = 273.15

# Aliases (profile strings, SI symbols, common spellings) -> one canonical key per unit.
_ALIASES: Final[dict[str, str]] = {
    # energy
    "joule": "J",
    "j": "J",
    "kj": "kJ",
    "mj": "MJ",
    "gj": "GJ",
    "wh": "Wh",
    "kwh": "kWh",
    "mwh": "MWh",
    "gwh": "GWh",
    # power
    "watt": "W",
    "w": "W",
    "kw": "kW",
    "kilowatt": "kW",
    "mw": "MW",
    "megawatt": "MW",
    # temperature
    "kelvin": "K",
    "k": "K",
    "degc": "degC",
    "°c": "degC",
    "celsius": "degC",
    "degreecelsius": "degC",
    # flow
    "cubicmeterpersecond": "m3/s",
    "m3/s": "m3/s",
    "m³/s": "m3/s",
    "m3/h": "m3/h",
    "m³/h": "m3/h",
    "cubicmeterperhour": "m3/h",
    "l/s": "l/s",
    "literpersecond": "l/s",
    "l/min": "l/min",
    "l/h": "l/h",
    # volume
    "cubicmeter": "m3",
    "m3": "m3",
    "m³": "m3",
    "l": "l",
    "liter": "l",
    "litre": "l",
    # dimensionless and others
    "percent": "%",
    "%": "%",
    "ratio": "ratio",
    "degree": "deg",
    "deg": "deg",
    "°": "deg",
    "hour": "h",
    "h": "h",
    "hours": "h",
    "second": "s",
    "s": "s",
    "min": "min",
    "minute": "min",
    "day": "d",
    "d": "d",
}

# Each canonical unit: (dimension, factor to the dimension's base unit, offset to base).
_UNITS: Final[dict[str, tuple[str, float, float]]] = {
    "J": ("energy", 1.0, 0.0),
    "kJ": ("energy", 1e3, 0.0),
    "MJ": ("energy", 1e6, 0.0),
    "GJ": ("energy", 1e9, 0.0),
    "Wh": ("energy", 3600.0, 0.0),
    "kWh": ("energy", J_PER_KWH, 0.0),
    "MWh": ("energy", 3.6e9, 0.0),
    "GWh": ("energy", 3.6e12, 0.0),
    "W": ("power", 1.0, 0.0),
    "kW": ("power", 1e3, 0.0),
    "MW": ("power", 1e6, 0.0),
    "K": ("temperature", 1.0, 0.0),
    "degC": ("temperature", 1.0, KELVIN_OFFSET),
    "m3/s": ("flow", 1.0, 0.0),
    "m3/h": ("flow", 1.0 / 3600.0, 0.0),
    "l/s": ("flow", 1e-3, 0.0),
    "l/min": ("flow", 1e-3 / 60.0, 0.0),
    "l/h": ("flow", 1e-3 / 3600.0, 0.0),
    "m3": ("volume", 1.0, 0.0),
    "l": ("volume", 1e-3, 0.0),
    "%": ("fraction", 0.01, 0.0),
    "ratio": ("fraction", 1.0, 0.0),
    "deg": ("angle", 1.0, 0.0),
    "s": ("time", 1.0, 0.0),
    "min": ("time", 60.0, 0.0),
    "h": ("time", 3600.0, 0.0),
    "d": ("time", 86400.0, 0.0),
}

CANONICAL: Final[tuple[str, ...]] = tuple(_UNITS)

#: What a profile unit is usually shown in (energy in kWh, temperatures in degC, ...).
DEFAULT_TARGET: Final[dict[str, str]] = {
    "J": "kWh",
    "W": "kW",
    "K": "degC",
    "m3/s": "l/s",
    "m3": "m3",
    "%": "%",
    "deg": "deg",
    "h": "h",
}

_DISPLAY: Final[dict[str, str]] = {
    "degC": "°C",
    "m3/s": "m³/s",
    "m3/h": "m³/h",
    "m3": "m³",
    "deg": "°",
}


def canonical_unit(unit: str) -> str:
    """The canonical symbol of a profile unit string or symbol (``joule`` -> ``J``).

    Raises DataError for a unit this module does not know.
    """
    if not isinstance(unit, str):
        raise DataError(f"unit must be a string, got {type(unit).__name__}")
    key = unit.strip()
    if key in _UNITS:
        return key
    found = _ALIASES.get(key.lower().replace(" ", "").replace("_", ""))
    if found is None:
        raise DataError(
            f"unknown unit {unit!r}; known: {', '.join(sorted(set(_ALIASES) | set(_UNITS)))}"
        )
    return found


def _pair(
    from_unit: str, to_unit: str
) -> tuple[tuple[str, float, float], tuple[str, float, float]]:
    src, dst = canonical_unit(from_unit), canonical_unit(to_unit)
    a, b = _UNITS[src], _UNITS[dst]
    if a[0] != b[0]:
        raise DataError(
            f"cannot convert {from_unit!r} ({a[0]}) to {to_unit!r} ({b[0]}); "
            f"choose a {a[0]} unit: one of {', '.join(targets(from_unit))}"
        )
    return a, b


def scale_factor(from_unit: str, to_unit: str) -> float:
    """The multiplicative factor from one unit to another (offsets ignored: a difference).

    ``scale_factor("joule", "kWh") == 1 / 3.6e6``. Raises DataError for an unknown pair.
    """
    a, b = _pair(from_unit, to_unit)
    return a[1] / b[1]


def _apply(x: Any, mul: float, div: float, offset: float) -> Any:
    if mul != 1.0:
        x = x * mul
    if div != 1.0:
        x = x / div
    if offset != 0.0:
        x = x + offset
    return x


@overload
def convert(values: float, from_unit: str, to_unit: str, *, delta: bool = ...) -> float: ...
@overload
def convert(
    values: npt.NDArray[Any], from_unit: str, to_unit: str, *, delta: bool = ...
) -> npt.NDArray[np.float64]: ...
@overload
def convert(
    values: pd.Series[Any], from_unit: str, to_unit: str, *, delta: bool = ...
) -> pd.Series[float]: ...
@overload
def convert(
    values: pd.DataFrame, from_unit: str, to_unit: str, *, delta: bool = ...
) -> pd.DataFrame: ...
def convert(values: Any, from_unit: str, to_unit: str, *, delta: bool = False) -> Any:
    """Convert scalars, numpy arrays, Series or DataFrames from one unit to another.

    ``delta=True`` treats the values as differences (a dT in K is the same number in degC).
    Series and DataFrames keep their index and names; NaN stays NaN. Raises DataError when
    either unit is unknown or the two measure different things.
    """
    a, b = _pair(from_unit, to_unit)
    # Dividing by an exact factor (3.6e6) keeps 3.6e6 J == 1.0 kWh exactly; 1/3.6e6 would not.
    mul, div = (a[1] / b[1], 1.0) if a[1] >= b[1] else (1.0, b[1] / a[1])
    offset = 0.0 if delta else (a[2] - b[2]) / b[1]
    if isinstance(values, pd.Series | pd.DataFrame):
        return _apply(values.astype("float64"), mul, div, offset)
    if isinstance(values, np.ndarray):
        return _apply(values.astype(np.float64, copy=True), mul, div, offset)
    if isinstance(values, int | float | np.integer | np.floating):
        return _apply(float(values), mul, div, offset)
    if isinstance(values, list | tuple):
        return _apply(np.asarray(values, dtype=np.float64), mul, div, offset)
    raise DataError(f"cannot convert a {type(values).__name__}; pass a number, array or Series")


@overload
def convert_delta(values: float, from_unit: str, to_unit: str) -> float: ...
@overload
def convert_delta(
    values: npt.NDArray[Any], from_unit: str, to_unit: str
) -> npt.NDArray[np.float64]: ...
@overload
def convert_delta(values: pd.Series[Any], from_unit: str, to_unit: str) -> pd.Series[float]: ...
def convert_delta(values: Any, from_unit: str, to_unit: str) -> Any:
    """Convert differences (temperature differences in particular): no offset applied."""
    return convert(values, from_unit, to_unit, delta=True)


def targets(unit: str) -> list[str]:
    """The units a value in ``unit`` can be converted to (same dimension), canonical symbols."""
    dim = _UNITS[canonical_unit(unit)][0]
    return [name for name, spec in _UNITS.items() if spec[0] == dim]


def default_target(unit: str) -> str:
    """The unit a profile unit is usually shown in (``joule`` -> ``kWh``); else itself."""
    canon = canonical_unit(unit)
    return DEFAULT_TARGET.get(canon, canon)


def display_unit(unit: str | None) -> str:
    """A label for axes and tables (``joule`` -> ``J``, ``degC`` -> ``°C``, ``m3/s`` -> ``m³/s``).

    Unknown or empty units come back unchanged (an empty string for None): labels never fail.
    """
    if not unit:
        return ""
    try:
        canon = canonical_unit(unit)
    except DataError:
        return unit
    return _DISPLAY.get(canon, canon)
