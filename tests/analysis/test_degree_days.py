"""Degree days: HDD/CDD with a base, Swiss HGT 20/12, per day, month and year."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from belimo_cloud.analysis.degree_days import cdd, degree_days, hdd, hgt
from belimo_cloud.errors import DataError


def _daily(values: list[float], start: str = "2018-01-30") -> pd.Series[float]:
    index = pd.date_range(start, periods=len(values), freq="D", tz="Europe/Zurich")
    return pd.Series(values, index=index, dtype="float64")


def test_each_day_by_hand() -> None:
    temps = np.array([-5.0, 10.0, 12.0, 12.5, 25.0])
    assert list(hdd(temps, 18.0)) == [23.0, 8.0, 6.0, 5.5, 0.0]
    assert list(cdd(temps, 18.0)) == [0.0, 0.0, 0.0, 0.0, 7.0]
    # HGT 20/12: only days at or below the 12 degC heating limit count, against 20 degC.
    assert list(hgt(temps)) == [25.0, 10.0, 8.0, 0.0, 0.0]


def test_months_add_up_their_days() -> None:
    daily = _daily([0.0, 2.0, 14.0, 20.0, 30.0])  # 30, 31 Jan, 1, 2, 3 Feb
    out = degree_days(daily, base=15.0, cooling_base=22.0, by="month")
    jan, feb = out.iloc[0], out.iloc[1]
    assert out.index[0] == pd.Timestamp("2018-01-01", tz="Europe/Zurich")
    assert (jan["days"], jan["hdd"], jan["cdd"], jan["hgt"]) == (2, 28.0, 0.0, 38.0)
    assert (feb["days"], feb["hdd"], feb["cdd"], feb["hgt"]) == (3, 1.0, 8.0, 0.0)
    assert feb["mean_temperature"] == pytest.approx(64.0 / 3.0)
    by_day = degree_days(daily, base=15.0, cooling_base=22.0)
    assert by_day["hdd"].sum() == out["hdd"].sum()


def test_one_base_for_both_and_years() -> None:
    daily = _daily([10.0, 20.0], start="2018-12-31")
    out = degree_days(daily, base=16.0, by="year")
    assert list(out["hdd"]) == [6.0, 0.0]
    assert list(out["cdd"]) == [0.0, 4.0]
    assert list(out.index.year) == [2018, 2019]


def test_unknown_period() -> None:
    with pytest.raises(DataError, match="day, month, year"):
        degree_days(_daily([1.0]), by="week")  # type: ignore[arg-type]
