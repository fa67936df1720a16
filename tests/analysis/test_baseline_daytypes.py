"""Workday and weekend signatures: recovered apart, and savings across both."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from belimo_cloud.analysis.baseline import fit_baseline, normalised_annual_consumption, savings
from belimo_cloud.analysis.mv_daytypes import WEEKEND, WEEKEND_SHARE, WORKDAY, day_type
from belimo_cloud.errors import DataError

TZ = "Europe/Zurich"


def _paired(days: pd.DatetimeIndex, seed: int, cut: float = 0.0) -> pd.DataFrame:
    """Workdays: 20 kWh/(K d) below 15 degC; weekends: 8 kWh/(K d) below 13 degC."""
    rng = np.random.default_rng(seed)
    doy = np.arange(len(days))
    t = 9.6 - 9.4 * np.cos(2 * np.pi * (doy - 17) / 365.25) + rng.normal(0, 3, len(days))
    weekend = np.asarray(days.day_of_week >= 5)
    energy = np.where(
        weekend, 4.0 + 8.0 * np.maximum(0, 13.0 - t), 10.0 + 20.0 * np.maximum(0, 15.0 - t)
    )
    energy = energy * (1.0 - cut) + rng.normal(0, 4, len(days))
    return pd.DataFrame({"temperature": t, "energy": energy}, index=days)


def test_weekend_days_by_local_calendar() -> None:
    days = pd.date_range("2018-03-23", periods=4, freq="D", tz=TZ)  # Fri, Sat, Sun, Mon
    assert list(day_type(days)) == [False, True, True, False]


def test_both_signatures_recovered() -> None:
    days = pd.date_range("2017-01-01", periods=730, freq="D", tz=TZ)
    model = fit_baseline(_paired(days, 1))
    assert model.day_types == "workday+weekend"
    parts = dict(model.segments)
    assert parts[WORKDAY].heating_balance == pytest.approx(15.0, abs=0.3)
    assert parts[WORKDAY].heating_slope == pytest.approx(20.0, rel=0.03)
    assert parts[WEEKEND].heating_balance == pytest.approx(13.0, abs=0.5)
    assert parts[WEEKEND].heating_slope == pytest.approx(8.0, rel=0.05)
    assert model.heating_balance == parts[WORKDAY].heating_balance  # the main model's
    single = fit_baseline(_paired(days, 1), day_types="single")
    assert single.day_types == "all"
    assert model.cvrmse < single.cvrmse / 2
    assert model.p == parts[WORKDAY].p + parts[WEEKEND].p


def test_prediction_by_day_and_on_average() -> None:
    days = pd.date_range("2017-01-01", periods=365, freq="D", tz=TZ)
    model = fit_baseline(_paired(days, 2), day_types="split")
    parts = dict(model.segments)
    t = np.array([0.0, 0.0])
    sat_mon = pd.DatetimeIndex(
        [pd.Timestamp("2018-01-06", tz=TZ), pd.Timestamp("2018-01-08", tz=TZ)]
    )
    by_day = model.predict(t, sat_mon)
    assert by_day[0] == pytest.approx(parts[WEEKEND].predict(t[:1])[0])
    assert by_day[1] == pytest.approx(parts[WORKDAY].predict(t[:1])[0])
    week = model.predict(t[:1])[0]
    assert week == pytest.approx((1 - WEEKEND_SHARE) * by_day[1] + WEEKEND_SHARE * by_day[0])
    assert normalised_annual_consumption(model, np.zeros(365)) == pytest.approx(365 * week)


def test_savings_across_day_types() -> None:
    base_days = pd.date_range("2017-01-01", periods=365, freq="D", tz=TZ)
    rep_days = pd.date_range("2018-01-01", periods=365, freq="D", tz=TZ)
    model = fit_baseline(_paired(base_days, 3))
    cut = savings(model, _paired(rep_days, 4, cut=0.1))
    assert cut.percent == pytest.approx(10.0, abs=1.0)
    assert cut.significant
    same = savings(model, _paired(rep_days, 5))
    assert abs(same.avoided) < same.uncertainty


def test_split_needs_days_of_both_types() -> None:
    days = pd.date_range("2017-01-02", periods=60, freq="D", tz=TZ)
    workdays = _paired(days, 6)
    workdays = workdays[np.asarray(workdays.index.day_of_week < 5)]
    assert fit_baseline(workdays).day_types == "all"
    with pytest.raises(DataError):
        fit_baseline(workdays, day_types="split")
