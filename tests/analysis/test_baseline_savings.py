"""Savings against a baseline: a known reduction is found, no change is indistinguishable
from zero; sufficiency, typical year, NAC and the fleet table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from belimo_cloud.analysis.baseline import (
    check_sufficiency,
    cumulative_savings,
    fit_baseline,
    normalised_annual_consumption,
    pair_days,
    savings,
    typical_year,
)
from belimo_cloud.analysis.mv_fleet import FLEET, Period, fleet_savings

TZ = "Europe/Zurich"
DAYS = pd.date_range("2017-01-01", "2018-12-31", freq="D", tz=TZ)


def _temperature(seed: int = 1) -> pd.Series[float]:
    rng = np.random.default_rng(seed)
    doy = np.arange(len(DAYS))
    values = 9.6 - 9.4 * np.cos(2 * np.pi * (doy - 17) / 365.25) + rng.normal(0, 3, len(DAYS))
    return pd.Series(values, index=DAYS, name="temperature")


def _energy(temp: pd.Series[float], *, cut: float, seed: int) -> pd.Series[float]:
    """Heating energy, lowered by ``cut`` from 2018 on at equal weather."""
    rng = np.random.default_rng(seed)
    base = 15.0 + 10.0 * np.maximum(0.0, 15.0 - temp.to_numpy())
    factor = np.where(temp.index >= pd.Timestamp("2018-01-01", tz=TZ), 1.0 - cut, 1.0)
    return pd.Series(base * factor + rng.normal(0, 6, len(temp)), index=temp.index)


BASE = Period(pd.Timestamp("2017-01-01", tz=TZ), pd.Timestamp("2018-01-01", tz=TZ))
REPORT = Period(pd.Timestamp("2018-01-01", tz=TZ), pd.Timestamp("2019-01-01", tz=TZ))


def _split(paired: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    cut = pd.Timestamp("2018-01-01", tz=TZ)
    return paired[paired.index < cut], paired[paired.index >= cut]


def test_a_known_cut_is_recovered() -> None:
    temp = _temperature()
    base, rep = _split(pair_days(temp, _energy(temp, cut=0.12, seed=2)))
    model = fit_baseline(base)
    result = savings(model, rep)
    assert result.percent == pytest.approx(12.0, abs=1.5)
    assert result.significant
    assert result.avoided == pytest.approx(result.predicted - result.actual)
    assert result.savings_ok


def test_no_change_is_indistinguishable_from_zero() -> None:
    # At 95 % confidence about 1 in 20 unchanged series is flagged: the interval is honest
    # when that share stays near 5 %, neither far above (too narrow) nor at 0 (too wide).
    flagged = []
    for seed in range(100):
        temp = _temperature(100 + seed)
        base, rep = _split(pair_days(temp, _energy(temp, cut=0.0, seed=500 + seed)))
        result = savings(fit_baseline(base), rep, confidence=0.95)
        assert result.uncertainty > 0
        flagged.append(result.significant)
    assert 0 < sum(flagged) <= 10


def test_cumulative_savings_add_up() -> None:
    temp = _temperature()
    base, rep = _split(pair_days(temp, _energy(temp, cut=0.1, seed=5)))
    model = fit_baseline(base)
    daily = cumulative_savings(model, rep)
    assert daily["cumulative"].iloc[-1] == pytest.approx(savings(model, rep).avoided)
    assert (daily["avoided"] == daily["predicted"] - daily["actual"]).all()


def test_sufficiency_counts_days() -> None:
    temp = _temperature()
    energy = _energy(temp, cut=0.0, seed=6)
    energy = energy[(energy.index.month != 2) | (energy.index.year != 2017)]  # 28 days lost
    paired = pair_days(temp, energy)
    full = check_sufficiency(paired, BASE.start, BASE.end)
    assert (full.days, full.present) == (365, 337)
    assert full.ok
    strict = check_sufficiency(paired, BASE.start, BASE.end, min_coverage=0.95)
    assert not strict.ok
    assert "337 of 365" in strict.warnings[0]


def test_typical_year_and_nac() -> None:
    temp = _temperature()
    typical = typical_year(temp)
    assert typical.shape == (365,)
    assert typical.mean() == pytest.approx(temp.mean(), abs=0.2)
    model = fit_baseline(pair_days(temp, _energy(temp, cut=0.0, seed=7)))
    assert normalised_annual_consumption(model, typical) == pytest.approx(
        float(model.predict(typical).sum())
    )


def _long(series: dict[str, pd.Series[float]]) -> pd.DataFrame:
    parts = []
    for device, energy in series.items():
        parts.append(
            pd.DataFrame(
                {
                    "device_id": device,
                    "direction": "heating",
                    "period": energy.index,
                    "consumption": energy.to_numpy(),
                    "coverage": 1.0,
                }
            )
        )
    cooling = pd.DataFrame(
        {
            "device_id": "a",
            "direction": "cooling",
            "period": DAYS,
            "consumption": 0.0,
            "coverage": 1.0,
        }
    )
    return pd.concat([*parts, cooling], ignore_index=True)


def test_fleet_table_per_device_and_total() -> None:
    temp = _temperature()
    energy = {
        "a": _energy(temp, cut=0.2, seed=8),
        "b": _energy(temp, cut=0.0, seed=9),
    }
    frame = _long(energy)
    frame.loc[(frame["device_id"] == "b") & (frame.index % 50 == 0), "coverage"] = 0.5
    out = fleet_savings(frame, temp, baseline=BASE, reporting=REPORT)
    rows = out.set_index("device_id")
    assert list(out["device_id"]) == ["a", "b", FLEET]  # no row for a's empty cooling
    assert rows.loc["a", "savings_percent"] == pytest.approx(20.0, abs=1.5)
    assert abs(rows.loc["b", "savings_kwh"]) < rows.loc["b", "savings_uncertainty_kwh"]
    assert rows.loc["a", "normalised_savings_percent"] == pytest.approx(20.0, abs=2.0)
    assert rows.loc["b", "baseline_days"] < rows.loc["a", "baseline_days"]
    total = rows.loc[FLEET]
    assert total["savings_kwh"] == pytest.approx(rows.loc[["a", "b"], "savings_kwh"].sum())
    assert rows.loc["a", "heating_balance"] == pytest.approx(15.0, abs=0.5)
