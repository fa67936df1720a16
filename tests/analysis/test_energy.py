"""consumption(): hand-computed expected series for resets, glitches, gaps, DST, edges."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from belimo_cloud.analysis import (
    CounterPolicy,
    consumption,
    consumption_frame,
    counter_events,
    counter_events_frame,
)
from belimo_cloud.errors import DataError

KWH = 3.6e6  # J
TZ = "Europe/Zurich"


def hourly(start: str, values: list[float] | np.ndarray, unit: float = KWH) -> pd.Series:
    """Hourly readings (in kWh, given in J) from ``start`` UTC."""
    idx = pd.date_range(start, periods=len(values), freq="h", tz="UTC")
    return pd.Series(np.asarray(values, dtype=float) * unit, index=idx)


def local_day(day: str) -> pd.Timestamp:
    return pd.Timestamp(day).tz_localize(TZ)


def test_spring_forward_day_has_23_hours() -> None:
    # Local 2018-03-25 00:00 (+01:00) is 2018-03-24 23:00Z; the next midnight is 22:00Z.
    counter = hourly("2018-03-24 23:00", np.arange(24))  # 1 kWh per hour
    out = consumption(counter)
    assert list(out.index) == [local_day("2018-03-25")]
    assert out["consumption"].iloc[0] == pytest.approx(23.0)
    assert out["coverage"].iloc[0] == 1.0
    assert out["quality"].iloc[0] == "ok"
    hours = consumption(counter, freq="h")
    assert len(hours) == 23
    assert list(hours["consumption"]) == pytest.approx([1.0] * 23)
    # 02:00 does not exist that day: 01:00 is followed by 03:00 (+02:00).
    assert hours.index[2] == pd.Timestamp("2018-03-25 03:00+02:00")


def test_fall_back_day_has_25_hours() -> None:
    counter = hourly("2018-10-27 22:00", np.arange(26))
    out = consumption(counter)
    assert list(out.index) == [local_day("2018-10-28")]
    assert out["consumption"].iloc[0] == pytest.approx(25.0)
    hours = consumption(counter, freq="h")
    assert len(hours) == 25
    # 02:00 happens twice: once at +02:00, once at +01:00.
    assert hours.index[2] == pd.Timestamp("2018-10-28 02:00+02:00")
    assert hours.index[3] == pd.Timestamp("2018-10-28 02:00+01:00")


def test_days_are_local_not_utc() -> None:
    # 1 kWh per hour over two UTC days: local days start at 23:00Z in winter.
    counter = hourly("2018-01-01 23:00", np.arange(49))
    out = consumption(counter)
    assert list(out.index) == [local_day("2018-01-02"), local_day("2018-01-03")]
    assert list(out["consumption"]) == [24.0, 24.0]


def test_meter_replacement_continues_from_the_new_counter() -> None:
    # 100, 101, 102, then a new meter reading 0.5, 1.5, 2.5 (hourly, kWh)
    counter = hourly("2018-01-01 23:00", [100, 101, 102, 0.5, 1.5, 2.5])
    out = consumption(counter)
    # 1 + 1 + 1 (the drop's hour at the surrounding rate) + 1 + 1
    assert out["consumption"].iloc[0] == pytest.approx(5.0)
    assert out["quality"].iloc[0] == "reset,partial"
    first = consumption(counter, reset="first")
    assert first["consumption"].iloc[0] == pytest.approx(4.0)
    # The new meter counted from zero: its first reading, 0.5.
    zero = consumption(counter, policy=CounterPolicy(reset_policy="zero"))
    assert zero["consumption"].iloc[0] == pytest.approx(4.5)
    events = counter_events(counter)
    assert list(events["kind"]) == ["reset"]
    assert events["time"].iloc[0] == counter.index[3]
    assert events["before"].iloc[0] == pytest.approx(102.0)
    assert events["after"].iloc[0] == pytest.approx(0.5)


def test_zero_glitch_is_ignored_without_spike() -> None:
    counter = hourly("2018-01-01 23:00", [10, 11, 0, 13, 14])
    out = consumption(counter, freq="h")
    # The glitch reading is treated as absent: the counter rises 11 -> 13 over 2 hours.
    assert list(out["consumption"]) == pytest.approx([1.0, 1.0, 1.0, 1.0])
    # The zero reading sits on the boundary of two hours: both are interpolated across it.
    assert list(out["quality"]) == ["ok", "outage", "outage", "ok"]
    day = consumption(counter)
    assert day["consumption"].iloc[0] == pytest.approx(4.0)
    assert "outage" in day["quality"].iloc[0]
    assert "reset" not in day["quality"].iloc[0]
    events = counter_events(counter)
    assert list(events["kind"]) == ["outage"]
    assert events["time"].iloc[0] == counter.index[2]


def test_nan_glitch_is_ignored() -> None:
    counter = hourly("2018-01-01 23:00", [10, 11, np.nan, 13, 14])
    out = consumption(counter)
    assert out["consumption"].iloc[0] == pytest.approx(4.0)
    assert "outage" in out["quality"].iloc[0]
    assert "gap" not in out["quality"].iloc[0]


def test_multi_sample_dip_is_a_glitch() -> None:
    counter = hourly("2018-01-01 23:00", [10, 11, 0, 0, 12, 13])
    out = consumption(counter)
    assert out["consumption"].iloc[0] == pytest.approx(3.0)
    assert "reset" not in out["quality"].iloc[0]
    assert list(counter_events(counter)["kind"]) == ["outage"]


def test_spike_up_is_a_glitch() -> None:
    counter = hourly("2018-01-01 23:00", [10, 11, 5000, 12, 13])
    out = consumption(counter)
    assert out["consumption"].iloc[0] == pytest.approx(3.0)
    assert "spike" in out["quality"].iloc[0]


def test_gap_increase_is_kept_and_attributed_where_the_gap_ends() -> None:
    # Local day 1 = 2018-01-02 (23:00Z .. 23:00Z). Readings hourly, 1 kWh/h, but none from
    # 2018-01-02 17:00Z to 2018-01-03 03:00Z (the counter kept counting).
    full = hourly("2018-01-01 23:00", np.arange(49))
    counter = full[(full.index <= "2018-01-02 17:00Z") | (full.index >= "2018-01-03 03:00Z")]
    out = consumption(counter)
    assert out["consumption"].sum() == pytest.approx(48.0)  # total preserved
    # Day 1: 18 h before the gap; the 10 kWh of the gap go to day 2, where the gap ends.
    assert list(out["consumption"]) == pytest.approx([18.0, 30.0])
    assert list(out["quality"]) == ["gap", "gap"]
    assert out["coverage"].iloc[0] == pytest.approx(18 / 24)
    assert out["coverage"].iloc[1] == pytest.approx(20 / 24)
    spread = consumption(counter, spread_gaps=True)
    assert list(spread["consumption"]) == pytest.approx([24.0, 24.0])
    events = counter_events(counter)
    assert list(events["kind"]) == ["gap"]
    assert events["time"].iloc[0] == pd.Timestamp("2018-01-02 17:00Z")
    assert events["end"].iloc[0] == pd.Timestamp("2018-01-03 03:00Z")


def test_explicit_gap_threshold() -> None:
    counter = hourly("2018-01-01 23:00", np.arange(25)).iloc[::3]  # every 3 h
    assert consumption(counter)["quality"].iloc[0] == "ok"  # the typical step is no gap
    assert "gap" in consumption(counter, gap="2h")["quality"].iloc[0]


def test_empty_input_gives_empty_frame_with_columns() -> None:
    empty = pd.Series([], dtype=float, index=pd.DatetimeIndex([], tz="UTC"))
    out = consumption(empty)
    assert list(out.columns) == ["consumption", "coverage", "quality"]
    assert out.empty
    assert str(out.index.tz) == TZ
    assert counter_events(empty).empty
    all_nan = hourly("2018-01-01", [np.nan, np.nan])
    assert consumption(all_nan).empty


def test_single_sample_gives_one_zero_row() -> None:
    out = consumption(hourly("2018-01-01 12:00", [5.0]))
    assert len(out) == 1
    assert out.index[0] == local_day("2018-01-01")
    assert out["consumption"].iloc[0] == 0.0
    assert out["coverage"].iloc[0] == 0.0
    assert out["quality"].iloc[0] == "partial"


def test_partial_first_and_last_periods() -> None:
    counter = hourly("2018-01-02 05:00", np.arange(30))
    out = consumption(counter)
    assert list(out["quality"]) == ["partial", "partial"]
    assert out["coverage"].iloc[0] == pytest.approx(18 / 24)


def test_days_sum_to_months() -> None:
    rng = np.random.default_rng(1)
    inc = rng.uniform(0, 2, size=24 * 90)
    counter = hourly("2018-01-15", np.concatenate(([0.0], np.cumsum(inc))))
    days = consumption(counter, freq="D")
    months = consumption(counter, freq="MS")
    weeks = consumption(counter, freq="W-MON")
    assert days["consumption"].sum() == pytest.approx(months["consumption"].sum())
    assert weeks["consumption"].sum() == pytest.approx(inc.sum())
    for start, row in months.iterrows():
        end = start + pd.offsets.MonthBegin(1)
        in_month = days[(days.index >= start) & (days.index < end)]
        assert in_month["consumption"].sum() == pytest.approx(row["consumption"])


def test_month_and_year_labels_are_local_starts() -> None:
    counter = hourly("2017-12-31 22:00", np.arange(4))
    months = consumption(counter, freq="MS")
    assert list(months.index) == [
        pd.Timestamp("2017-12-01", tz=TZ),
        pd.Timestamp("2018-01-01", tz=TZ),
    ]
    years = consumption(counter, freq="YS")
    assert list(years["consumption"]) == pytest.approx([1.0, 2.0])


def test_implausible_jump_is_excluded_and_flagged() -> None:
    # 10 kW valve: at most 10 kWh per hour (x1.5 margin); one step of 500 kWh that lasts.
    counter = hourly("2018-01-01 23:00", [1, 5, 505, 510, 515])
    out = consumption(counter, max_power=10_000.0)
    # The step's hour counts the surrounding rate (5 kWh/h) instead of 500 kWh.
    assert out["consumption"].iloc[0] == pytest.approx(19.0)
    assert "spike" in out["quality"].iloc[0]
    events = counter_events(counter, max_power=10_000.0)
    assert list(events["kind"]) == ["spike"]
    assert events["after"].iloc[0] == pytest.approx(505.0)
    # Without a nominal power the bound derived from the series' own steps catches it too.
    assert consumption(counter)["consumption"].iloc[0] == pytest.approx(19.0)
    # With the plausibility bound off, the step is counted.
    plain = consumption(counter, policy=CounterPolicy(plausibility=False))
    assert plain["consumption"].iloc[0] == pytest.approx(514.0)


def test_rollover_adds_the_range_back() -> None:
    wrap = 2.0**32  # J
    values = np.array([wrap - 2 * KWH, wrap - KWH, 0.5 * KWH, 1.5 * KWH])
    counter = hourly("2018-01-01 23:00", values, unit=1.0)
    out = consumption(counter, rollover=wrap)
    assert out["consumption"].iloc[0] == pytest.approx(3.5)
    assert "rollover" in out["quality"].iloc[0]


def test_small_lasting_dip_rebases_without_lifetime_spike() -> None:
    counter = hourly("2018-01-01 23:00", [1000, 1001, 995, 996, 997, 998, 999])
    out = consumption(counter)
    assert 0 <= out["consumption"].iloc[0] <= 6.0


def test_bucket_starts_move_to_bucket_ends_with_resolution() -> None:
    # `last` buckets stamped 23:00Z..22:00Z hold the readings at 00:00Z..23:00Z.
    counter = hourly("2018-01-01 23:00", np.arange(25))
    shifted = consumption(counter, resolution="1h")
    plain = consumption(counter)
    assert plain["consumption"].iloc[0] == pytest.approx(24.0)
    assert shifted["consumption"].iloc[0] == pytest.approx(23.0)
    assert shifted["consumption"].sum() == pytest.approx(24.0)


def test_units_and_naive_index() -> None:
    counter = hourly("2018-01-01 23:00", np.arange(25))
    mwh = consumption(counter, to="MWh")
    assert mwh["consumption"].iloc[0] == pytest.approx(0.024)
    naive = counter.copy()
    naive.index = naive.index.tz_localize(None)
    assert consumption(naive)["consumption"].iloc[0] == pytest.approx(24.0)
    volume = pd.Series([1.0, 1.5, 2.0], index=counter.index[:3])
    litres = consumption(volume, unit="cubicMeter", to="l", freq="h")
    assert list(litres["consumption"]) == pytest.approx([500.0, 500.0])


def test_unsorted_and_duplicate_readings() -> None:
    counter = hourly("2018-01-01 23:00", np.arange(25))
    shuffled = pd.concat([counter.iloc[::-1], counter.iloc[[3]]])
    assert consumption(shuffled)["consumption"].iloc[0] == pytest.approx(24.0)


def test_bad_inputs_raise_data_error() -> None:
    counter = hourly("2018-01-01 23:00", np.arange(5))
    with pytest.raises(DataError):
        consumption(counter, to="kW")
    with pytest.raises(DataError):
        consumption(counter, freq="fortnight-ish")
    with pytest.raises(DataError):
        consumption([1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(DataError):
        consumption(counter, gap="-1h")
    with pytest.raises(DataError):
        consumption(counter, reset="sometimes")


def long_frame(series: dict[str, pd.Series]) -> pd.DataFrame:
    parts = [
        pd.DataFrame(
            {"device_id": dev, "datapoint_id": "evcloud.210", "timestamp": s.index, "value": s}
        )
        for dev, s in series.items()
    ]
    return pd.concat(parts, ignore_index=True)


def test_frame_matches_single_series() -> None:
    a = hourly("2018-01-01 23:00", [100, 101, 102, 0.5, 1.5, 2.5] + [3.5] * 20)
    b = hourly("2018-01-01 20:00", [10, 11, 0, 13, 14, 15])
    c = hourly("2018-01-03 00:00", [1.0])
    frame = long_frame({"b": b, "a": a, "c": c})
    out = consumption_frame(frame)
    assert list(out.columns) == [
        "device_id",
        "datapoint_id",
        "period",
        "consumption",
        "coverage",
        "quality",
    ]
    for dev, s in {"a": a, "b": b, "c": c}.items():
        mine = out[out["device_id"] == dev].set_index("period")
        single = consumption(s)
        assert list(mine.index) == list(single.index)
        assert list(mine["consumption"]) == pytest.approx(list(single["consumption"]))
        assert list(mine["quality"]) == list(single["quality"])
    # Shuffled rows give the same answer.
    shuffled = consumption_frame(frame.sample(frac=1.0, random_state=3))
    pd.testing.assert_frame_equal(out, shuffled)
    events = counter_events_frame(frame)
    assert set(events["kind"]) == {"reset", "outage"}
    assert set(events["device_id"]) == {"a", "b"}


def test_frame_with_per_device_power_and_empty_input() -> None:
    a = hourly("2018-01-01 23:00", [1, 5, 505, 510])
    frame = long_frame({"a": a, "b": a})
    plain = CounterPolicy(plausibility=False)
    out = consumption_frame(frame, max_power={"a": 10_000.0}, policy=plain)
    totals = out.groupby("device_id")["consumption"].sum()
    assert totals["a"] == pytest.approx(4.0 + 4.5 + 5.0)  # the step: median of 4 and 5 kWh/h
    assert totals["b"] == pytest.approx(509.0)
    empty = consumption_frame(frame.iloc[:0])
    assert empty.empty
    assert "consumption" in empty.columns
    with pytest.raises(DataError):
        consumption_frame(frame.drop(columns="value"))
