"""Properties of consumption(): never negative, additive, totals kept across gaps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from belimo_cloud.analysis import consumption

KWH = 3.6e6

counters = st.lists(st.floats(min_value=0.0, max_value=50.0), min_size=2, max_size=400)
starts = st.integers(min_value=0, max_value=24 * 365 * 2)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def build(increments: list[float], start_h: int, step_min: int = 60) -> pd.Series:
    t0 = pd.Timestamp("2017-01-01T00:00Z") + pd.Timedelta(hours=start_h)
    idx = pd.date_range(t0, periods=len(increments), freq=f"{step_min}min")
    values = np.cumsum(np.asarray(increments)) * KWH
    return pd.Series(values, index=idx)


@SETTINGS
@given(increments=counters, start_h=starts, data=st.data())
def test_never_negative_even_with_resets_and_glitches(
    increments: list[float], start_h: int, data: st.DataObject
) -> None:
    counter = build(increments, start_h)
    values = counter.to_numpy().copy()
    n = len(values)
    for _ in range(data.draw(st.integers(0, 3))):
        i = data.draw(st.integers(0, n - 1))
        kind = data.draw(st.sampled_from(["zero", "nan", "reset", "spike"]))
        if kind == "zero":
            values[i] = 0.0
        elif kind == "nan":
            values[i] = np.nan
        elif kind == "reset":
            values[i:] = values[i:] - values[i] + data.draw(st.floats(0, 5)) * KWH
        else:
            values[i] = values[i] * 10 + 1e9
    counter = pd.Series(values, index=counter.index)
    for freq in ("h", "D", "MS"):
        out = consumption(counter, freq=freq)
        assert (out["consumption"] >= 0).all()
        assert out["coverage"].between(0.0, 1.0).all()


@SETTINGS
@given(increments=counters, start_h=starts)
def test_sub_periods_sum_to_the_whole(increments: list[float], start_h: int) -> None:
    counter = build(increments, start_h)
    whole = float(counter.iloc[-1] - counter.iloc[0]) / KWH
    for freq in ("h", "D", "W-MON", "MS", "YS"):
        out = consumption(counter, freq=freq)
        assert out["consumption"].sum() == pytest.approx(whole, rel=1e-9, abs=1e-6)
    days = consumption(counter, freq="D")
    months = consumption(counter, freq="MS")
    by_month = days["consumption"].groupby(days.index.tz_localize(None).to_period("M")).sum()
    assert list(by_month) == pytest.approx(list(months["consumption"]), rel=1e-9, abs=1e-6)


@SETTINGS
@given(increments=counters, start_h=starts, data=st.data())
def test_totals_preserved_across_gaps(
    increments: list[float], start_h: int, data: st.DataObject
) -> None:
    counter = build(increments, start_h, step_min=15)
    n = len(counter)
    lo = data.draw(st.integers(1, max(n - 2, 1)))
    hi = data.draw(st.integers(lo, max(n - 2, lo)))
    holed = pd.concat([counter.iloc[:lo], counter.iloc[hi:]])
    whole = float(counter.iloc[-1] - counter.iloc[0]) / KWH
    for spread in (False, True):
        out = consumption(holed, spread_gaps=spread)
        assert out["consumption"].sum() == pytest.approx(whole, rel=1e-9, abs=1e-6)
        assert (out["consumption"] >= 0).all()
