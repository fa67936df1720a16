"""Properties of consumption() on counters built with a known truth, with real meter faults.

A true counter is generated (a plausible, varying rate; regular, irregular or lossy cadence,
across DST), faults are injected (outages of any length, spikes at any position including the
first and last reading, lasting drops, jitter), and the result is held to the truth: the total
never gains or loses more than one reading interval's energy per fault, and the flags name
what was injected.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from belimo_cloud.analysis import CounterPolicy, consumption, counter_events

KWH = 3.6e6
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Around the autumn DST change, so that days of 25 hours are in play.
T0 = pd.Timestamp("2018-10-20T00:00Z")


def truth(
    data: st.DataObject, *, n_min: int = 60, irregular: bool = False, loss: float = 0.0
) -> pd.Series:
    """A true counter [J]: 15-minute (or irregular) readings of a rate between 2 and 10 kW."""
    n = data.draw(st.integers(n_min, 600), label="readings")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    rng = np.random.default_rng(seed)
    step = rng.uniform(5, 25, n) if irregular else np.full(n, 15.0)  # [min]
    t = T0 + pd.to_timedelta(np.cumsum(step), unit="min")
    power = rng.uniform(2e3, 10e3, n)  # [W]
    values = 1e10 + np.cumsum(power * step * 60.0)
    series = pd.Series(values, index=pd.DatetimeIndex(t).as_unit("ns"))
    if loss:
        keep = rng.uniform(size=n) >= loss
        keep[[0, -1]] = True
        series = series[keep]
    return series


def total(out: pd.DataFrame) -> float:
    return float(out["consumption"].sum()) * KWH


def interval_energy(series: pd.Series) -> float:
    """The largest energy of one interval between true readings [J]."""
    return float(np.diff(series.to_numpy()).max())


def flags(out: pd.DataFrame) -> set[str]:
    return {f for q in out["quality"] for f in q.split(",")}


@SETTINGS
@given(data=st.data())
def test_clean_counters_are_ok_whatever_the_cadence(data: st.DataObject) -> None:
    irregular = data.draw(st.booleans(), label="irregular")
    loss = data.draw(st.sampled_from([0.0, 0.02]), label="loss")
    series = truth(data, irregular=irregular, loss=loss)
    # Lost readings in a row can leave a hole clearly longer than the cadence: that is a gap,
    # rightly flagged. The property is about series whose holes stay within the cadence.
    steps = np.diff(series.index.asi8)
    assume(steps.max() <= 0.8 * CounterPolicy().gap_factor * np.quantile(steps, 0.9))
    for freq in ("h", "D"):
        out = consumption(series, freq=freq)
        assert total(out) == pytest.approx(series.iloc[-1] - series.iloc[0], rel=1e-9)
        inner = out.iloc[1:-1]
        assert set(inner["quality"]) <= {"ok"}
        assert (inner["coverage"] == 1.0).all()
        assert flags(out) <= {"ok", "partial"}
    assert counter_events(series).empty


@SETTINGS
@given(data=st.data())
def test_outage_of_any_length_is_never_a_reset(data: st.DataObject) -> None:
    series = truth(data)
    values = series.to_numpy().copy()
    n = len(values)
    a = data.draw(st.integers(1, n - 2), label="start")
    b = data.draw(st.integers(a + 1, n - 1), label="end")
    fill = data.draw(st.sampled_from([0.0, np.nan]), label="fill")
    values[a:b] = fill
    faulty = pd.Series(values, index=series.index)
    out = consumption(faulty, freq="D")
    true = series.iloc[-1] - series.iloc[0]
    assert abs(total(out) - true) <= interval_energy(series) + 1e-6 * true
    assert "outage" in flags(out)
    assert "reset" not in flags(out)
    assert set(counter_events(faulty)["kind"]) <= {"outage", "gap"}


@SETTINGS
@given(data=st.data())
def test_spike_anywhere_is_excluded_and_flagged(data: st.DataObject) -> None:
    series = truth(data)
    values = series.to_numpy().copy()
    n = len(values)
    i = data.draw(st.sampled_from([0, n - 1, data.draw(st.integers(1, n - 2))]), label="at")
    kind = data.draw(st.sampled_from(["high", "zero", "low"]), label="kind")
    values[i] = {"high": values[i] * 50, "zero": 0.0, "low": values[i] * 0.3}[kind]
    faulty = pd.Series(values, index=series.index)
    out = consumption(faulty, freq="h")
    true = series.iloc[-1] - series.iloc[0]
    assert abs(total(out) - true) <= interval_energy(series) + 1e-6 * true
    found = flags(out)
    assert found & {"spike", "outage"}
    assert "reset" not in found
    # Every hour is plausible: at most the true hour's energy plus one interval's.
    assert out["consumption"].max() * KWH <= 10e3 * 3600 * 1.5 + interval_energy(series)


@SETTINGS
@given(data=st.data())
def test_lasting_drop_is_a_reset_without_invented_energy(data: st.DataObject) -> None:
    series = truth(data)
    values = series.to_numpy().copy()
    n = len(values)
    i = data.draw(st.integers(2, n - 3), label="at")
    share = data.draw(st.sampled_from([0.0, 0.5, 0.95]), label="share")
    offset = values[i - 1] * (1 - share) + 1e6  # the new meter reads lower by this
    values[i:] -= offset
    faulty = pd.Series(values, index=series.index)
    out = consumption(faulty, freq="D")
    true = series.iloc[-1] - series.iloc[0]
    assert abs(total(out) - true) <= interval_energy(series) + 1e-6 * true
    assert "reset" in flags(out)
    assert list(counter_events(faulty)["kind"]) == ["reset"]


@SETTINGS
@given(data=st.data())
def test_jitter_is_noise(data: st.DataObject) -> None:
    series = truth(data)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="jitter seed"))
    idle = series.copy()
    idle.iloc[len(idle) // 2 :] = idle.iloc[len(idle) // 2]  # the valve closes half-way
    noisy = idle + rng.integers(-3, 4, len(idle))  # joule-level noise
    out = consumption(noisy, freq="D")
    true = idle.iloc[-1] - idle.iloc[0]
    assert abs(total(out) - true) <= 20.0
    assert flags(out) <= {"ok", "partial"}


@SETTINGS
@given(data=st.data())
def test_gap_keeps_the_total_and_lowers_coverage(data: st.DataObject) -> None:
    series = truth(data, n_min=200)
    n = len(series)
    a = data.draw(st.integers(1, n - 60), label="start")
    holed = pd.concat([series.iloc[:a], series.iloc[a + 48 :]])  # 12 hours without readings
    true = series.iloc[-1] - series.iloc[0]
    for spread in (False, True):
        out = consumption(holed, freq="D", policy=CounterPolicy(spread_gaps=spread))
        assert total(out) == pytest.approx(true, rel=1e-9)
        assert "gap" in flags(out)
        assert out["coverage"].min() < 1.0
        assert (out["consumption"] >= 0).all()


@SETTINGS
@given(data=st.data())
def test_sub_periods_sum_to_the_whole(data: st.DataObject) -> None:
    series = truth(data, irregular=True)
    whole = total(consumption(series, freq="YS"))
    for freq in ("h", "D", "W-MON", "MS"):
        assert total(consumption(series, freq=freq)) == pytest.approx(whole, rel=1e-9)


def test_a_boundary_interval_is_split_by_time() -> None:
    # Readings at 22:30Z and 23:30Z around local midnight (23:00Z): 6 kWh split 3 + 3.
    idx = pd.DatetimeIndex(["2018-01-01T22:30Z", "2018-01-01T23:30Z", "2018-01-02T00:30Z"])
    out = consumption(pd.Series([0.0, 6.0, 12.0]).set_axis(idx) * KWH + 1e9, freq="D")
    assert list(out["consumption"]) == pytest.approx([3.0, 9.0])
