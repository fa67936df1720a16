"""Change-point models recover a known balance point and slope; statistics by hand."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from belimo_cloud.analysis.baseline import GUIDELINE_14, meets_guideline_14
from belimo_cloud.analysis.mv_models import fit_change_point, predict
from belimo_cloud.errors import DataError

F64 = npt.NDArray[np.float64]


def _temperatures(seed: int, days: int = 730) -> F64:
    rng = np.random.default_rng(seed)
    doy = np.arange(days)
    return 9.6 - 9.4 * np.cos(2 * np.pi * (doy - 17) / 365.25) + rng.normal(0.0, 3.0, days)


@pytest.mark.parametrize(("balance", "slope", "base"), [(15.5, 12.0, 20.0), (12.0, 3.0, 0.0)])
def test_heating_signature_recovered(balance: float, slope: float, base: float) -> None:
    t = _temperatures(1)
    noise = np.random.default_rng(2).normal(0.0, 0.05 * slope * 10, t.size)
    y = base + slope * np.maximum(0.0, balance - t) + noise
    model = fit_change_point(t, y)
    assert model.form == "heating"
    assert model.heating_balance == pytest.approx(balance, abs=0.3)
    assert model.heating_slope == pytest.approx(slope, rel=0.03)
    assert model.intercept == pytest.approx(base, abs=0.1 * slope + 0.5)
    assert math.isnan(model.cooling_slope)


def test_cooling_signature_recovered() -> None:
    t = _temperatures(3)
    y = 5.0 + 8.0 * np.maximum(0.0, t - 17.0) + np.random.default_rng(4).normal(0, 2, t.size)
    model = fit_change_point(t, y)
    assert model.form == "cooling"
    assert model.cooling_balance == pytest.approx(17.0, abs=0.3)
    assert model.cooling_slope == pytest.approx(8.0, rel=0.03)


def test_heating_and_cooling_recovered() -> None:
    t = _temperatures(5)
    truth = 30.0 + 5.0 * np.maximum(0.0, 12.0 - t) + 9.0 * np.maximum(0.0, t - 19.0)
    y = truth + np.random.default_rng(6).normal(0, 2, t.size)
    model = fit_change_point(t, y)
    assert model.form == "heating_cooling"
    assert model.heating_balance == pytest.approx(12.0, abs=0.5)
    assert model.cooling_balance == pytest.approx(19.0, abs=0.5)
    assert model.heating_slope == pytest.approx(5.0, rel=0.05)
    assert model.cooling_slope == pytest.approx(9.0, rel=0.05)


def test_no_weather_dependence_gives_intercept_only() -> None:
    t = _temperatures(7)
    y = 40.0 + np.random.default_rng(8).normal(0, 3, t.size)
    model = fit_change_point(t, y)
    assert model.form == "intercept"
    assert model.intercept == pytest.approx(float(y.mean()))


def test_statistics_match_their_definitions() -> None:
    t = _temperatures(9, days=365)
    y = 10.0 + 4.0 * np.maximum(0.0, 14.0 - t) + np.random.default_rng(10).normal(0, 3, t.size)
    model = fit_change_point(t, y, forms=("heating",))
    resid = y - predict(model, t)
    n, p = len(y), model.p
    assert p == 3
    rmse = math.sqrt(float(resid @ resid) / (n - p))
    assert model.rmse == pytest.approx(rmse)
    assert model.cvrmse == pytest.approx(rmse / y.mean())
    assert model.nmbe == pytest.approx(resid.sum() / ((n - p) * y.mean()), abs=1e-9)
    sst = float(((y - y.mean()) ** 2).sum())
    assert model.r2 == pytest.approx(1.0 - float(resid @ resid) / sst)
    assert meets_guideline_14(model) == (
        model.cvrmse <= GUIDELINE_14["daily"]["cvrmse"]
        and abs(model.nmbe) <= GUIDELINE_14["daily"]["nmbe"]
    )


def test_missing_days_are_dropped_and_too_few_refused() -> None:
    t = _temperatures(11, days=100)
    y = 3.0 * np.maximum(0.0, 15.0 - t)
    y[::3] = np.nan
    model = fit_change_point(t, y)
    assert model.n == int(np.isfinite(y).sum())
    with pytest.raises(DataError, match="at least 20 days"):
        fit_change_point(t[:10], y[:10])
