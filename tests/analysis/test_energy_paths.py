"""consumption_frame gives the same numbers whichever internal path a series takes.

The engine checks time order inside its one pass over the readings (sorting only when it is
wrong), finds the reading before each period boundary by arithmetic when a series' readings
all come at one interval and by guesses and searches otherwise, bins in chunks of groups,
and reads keys as categorical codes, Arrow strings or numbers. Every path must give exactly
what each series gives alone, sorted, with plain keys.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from belimo_cloud.analysis import consumption, consumption_frame, counter_events_frame

STEP = pd.Timedelta(minutes=15)
T0 = pd.Timestamp("2018-03-20T00:00Z")  # a DST change in the data


def counter(n: int, seed: int, *, start: pd.Timestamp = T0) -> pd.Series:
    rng = np.random.default_rng(seed)
    values = 1e9 + np.cumsum(rng.uniform(0, 5e6, n))
    index = pd.DatetimeIndex(start + STEP * np.arange(n)).as_unit("ns")
    return pd.Series(values, index=index)


def series_set() -> dict[str, pd.Series]:
    """A regular counter, one with a gap, an irregular one, one with a reset and a glitch."""
    regular = counter(3000, 1)
    gap = counter(3000, 2).drop(counter(3000, 2).index[1200:1500])
    rng = np.random.default_rng(3)
    irregular = counter(3000, 3)
    irregular.index = irregular.index + pd.to_timedelta(rng.integers(-300, 300, 3000), unit="s")
    faulty = counter(3000, 4)
    faulty.iloc[1000:] -= faulty.iloc[999] - 10.0
    faulty.iloc[2000] = 0.0
    late = counter(500, 5, start=T0 + pd.Timedelta(days=20))
    return {"regular": regular, "gap": gap, "irregular": irregular, "faulty": faulty, "late": late}


def long_frame(series: dict[str, pd.Series]) -> pd.DataFrame:
    parts = [
        pd.DataFrame({"device_id": key, "timestamp": s.index, "value": s.to_numpy()})
        for key, s in series.items()
    ]
    return pd.concat(parts, ignore_index=True)


def expected(series: dict[str, pd.Series], freq: str) -> pd.DataFrame:
    """Each series alone, then in key order, as consumption_frame lays rows out."""
    parts = []
    for key in sorted(series):
        one = consumption(series[key].sort_index(), freq=freq).reset_index()
        one.insert(0, "device_id", key)
        parts.append(one)
    return pd.concat(parts, ignore_index=True)


def with_store_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """The keys as categorical codes over an Arrow dictionary, as Store.read_batches has them."""
    codes, names = pd.factorize(frame["device_id"], sort=True)
    arr = pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), pa.array(names))
    return frame.assign(device_id=pd.Series(arr.to_pandas(), copy=False))


def test_every_path_matches_each_series_alone() -> None:
    series = series_set()
    frame = long_frame(series)
    for freq in ("h", "D", "MS"):
        want = expected(series, freq)
        got = consumption_frame(frame, by=("device_id",), freq=freq)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        stored = consumption_frame(with_store_keys(frame), by=("device_id",), freq=freq)
        pd.testing.assert_frame_equal(
            stored.astype({"device_id": "str"}), want.astype({"device_id": "str"}), check_exact=True
        )


def test_time_order_is_checked_in_every_block_of_a_long_series() -> None:
    # Longer than one block of the pass: the disorder sits in a later block only.
    long = counter(200_000, 6)
    frame = long_frame({"long": long, "other": counter(3000, 7)})
    want = consumption_frame(frame, by=("device_id",), freq="D")
    swapped = frame.copy()
    rows = swapped.index[150_000:150_002]
    swapped.loc[rows, ["timestamp", "value"]] = swapped.loc[
        rows[::-1], ["timestamp", "value"]
    ].to_numpy()
    got = consumption_frame(swapped, by=("device_id",), freq="D")
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    # A duplicate reading in a later block: the later row wins, as when sorted (the earlier
    # one, far below, would otherwise be a spike).
    earlier = frame.iloc[[150_000]].assign(value=frame["value"].iloc[150_000] - 5e8)
    duplicated = pd.concat([frame.iloc[:150_000], earlier, frame.iloc[150_000:]], ignore_index=True)
    got = consumption_frame(duplicated, by=("device_id",), freq="D")
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert counter_events_frame(duplicated, by=("device_id",)).empty


def test_many_groups_bin_in_chunks_like_one_by_one() -> None:
    # Enough hourly boundaries to bin in several chunks.
    series = {f"d{i:03d}": counter(2000, 100 + i) for i in range(40)}
    series["d005"] = series["d005"].drop(series["d005"].index[700:900])
    frame = long_frame(series)
    got = consumption_frame(frame, by=("device_id",), freq="h")
    pd.testing.assert_frame_equal(got, expected(series, "h"), check_exact=True)


def test_keys_with_nulls_group_alike_as_strings_categories_and_objects() -> None:
    series = series_set()
    frame = long_frame(series)
    keys = frame["device_id"].where(frame["device_id"] != "gap", None)
    results = []
    for column in (
        pd.Series(keys.to_list(), dtype=object),
        pd.Series(pd.array(keys.to_list(), dtype="str")),
        pd.Series(keys.to_list(), dtype=object).astype("category"),
    ):
        out = consumption_frame(frame.assign(device_id=column), by=("device_id",), freq="D")
        results.append(out.astype({"device_id": object}))
    for other in results[1:]:
        pd.testing.assert_frame_equal(other, results[0], check_exact=True)
    events = [
        counter_events_frame(frame.assign(device_id=c), by=("device_id",)).astype(
            {"device_id": object}
        )
        for c in (pd.Series(keys.to_list(), dtype=object), pd.Series(keys.to_list(), dtype="str"))
    ]
    pd.testing.assert_frame_equal(events[1], events[0], check_exact=True)


def by_hand(s: pd.Series, freq: str, *, interpolate: bool) -> list[float]:
    """Consumption [kWh] of a clean counter between local period starts, from its readings.

    The curve at a boundary is the reading at or before it (across a gap nothing is spread)
    or, for readings off the boundaries, the straight line between the two around it.
    """
    t = s.index.asi8
    v = s.to_numpy() - s.iloc[0]
    local = s.index.tz_convert("Europe/Zurich")
    # The periods from the one holding the first reading to the one the last reading ends.
    edges = pd.date_range(local[0].floor(freq), local[-1].ceil(freq), freq=freq)
    bounds = edges.asi8
    if interpolate:
        curve = np.interp(bounds, t, v, left=0.0)
    else:
        at = np.searchsorted(t, bounds, side="right") - 1
        curve = np.where(at >= 0, v[np.maximum(at, 0)], 0.0)
    return list(np.diff(curve) / 3.6e6)


def test_clean_counters_match_a_computation_by_hand() -> None:
    series = series_set()
    frame = long_frame(series)
    for freq in ("h", "D"):
        got = consumption_frame(frame, by=("device_id",), freq=freq)
        for key, interpolate in (
            ("regular", False),
            ("gap", False),
            ("late", False),
            ("irregular", True),
        ):
            mine = got[got["device_id"] == key]["consumption"].to_list()
            want = by_hand(series[key], freq, interpolate=interpolate)
            assert mine == pytest.approx(want, rel=1e-9, abs=1e-9), (key, freq)
