"""Unit conversion by profile unit strings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from belimo_cloud import units
from belimo_cloud.analysis import units as analysis_units
from belimo_cloud.errors import DataError


@pytest.mark.parametrize(
    ("value", "src", "dst", "expected"),
    [
        (3.6e6, "joule", "kWh", 1.0),
        (3.6e9, "joule", "MWh", 1.0),
        (3600.0, "joule", "Wh", 1.0),
        (5.0, "joule", "J", 5.0),
        (293.15, "kelvin", "degC", 20.0),
        (20.0, "degC", "kelvin", 293.15),
        (300.0, "kelvin", "K", 300.0),
        (0.001, "cubicMeterPerSecond", "l/s", 1.0),
        (1.0, "cubicMeterPerSecond", "m3/h", 3600.0),
        (1500.0, "watt", "kW", 1.5),
        (2.5e6, "watt", "MW", 2.5),
        (1.0, "cubicMeter", "l", 1000.0),
        (50.0, "percent", "%", 50.0),
        (90.0, "degree", "deg", 90.0),
        (2.0, "hour", "h", 2.0),
    ],
)
def test_scalar_conversions(value: float, src: str, dst: str, expected: float) -> None:
    assert units.convert(value, src, dst) == pytest.approx(expected)


def test_kwh_is_exact() -> None:
    assert units.convert(3.6e6, "joule", "kWh") == 1.0


def test_arrays_and_series_keep_shape_and_index() -> None:
    arr = units.convert(np.array([273.15, 283.15]), "kelvin", "degC")
    assert isinstance(arr, np.ndarray)
    np.testing.assert_allclose(arr, [0.0, 10.0], atol=1e-12)
    idx = pd.date_range("2018-01-01", periods=2, freq="h", tz="UTC")
    series = pd.Series([7.2e6, np.nan], index=idx, name="Heating_E_J")
    out = units.convert(series, "joule", "kWh")
    assert isinstance(out, pd.Series)
    assert out.index.equals(idx)
    assert out.name == "Heating_E_J"
    assert out.iloc[0] == 2.0
    assert np.isnan(out.iloc[1])


def test_temperature_difference_has_no_offset() -> None:
    assert units.convert(5.0, "kelvin", "degC", delta=True) == 5.0
    assert units.convert_delta(5.0, "kelvin", "degC") == 5.0
    assert units.convert(5.0, "kelvin", "degC") == pytest.approx(-268.15)


@pytest.mark.parametrize(("src", "dst"), [("joule", "kW"), ("kelvin", "l/s"), ("furlong", "kWh")])
def test_unknown_or_mismatched_pairs_raise_data_error(src: str, dst: str) -> None:
    with pytest.raises(DataError):
        units.convert(1.0, src, dst)


def test_display_and_defaults() -> None:
    assert units.display_unit("joule") == "J"
    assert units.display_unit("kWh") == "kWh"
    assert units.display_unit("degC") == "°C"
    assert units.display_unit("cubicMeterPerSecond") == "m³/s"
    assert units.display_unit("something odd") == "something odd"
    assert units.display_unit(None) == ""
    assert units.default_target("joule") == "kWh"
    assert units.default_target("kelvin") == "degC"
    assert "MWh" in units.targets("joule")
    assert units.scale_factor("watt", "kW") == pytest.approx(1e-3)


def test_analysis_units_is_the_same_module_api() -> None:
    assert analysis_units.convert is units.convert
    assert analysis_units.display_unit is units.display_unit
