"""condition_episodes against a sample-by-sample reference written here, on generated inputs.

The reference walks the samples one at a time, as the definition reads: a judged true sample
starts or extends the episode, judged false ones add up healthy hours that close it once they
pass the bridge, unjudged (NaN) ones are skipped. Inputs vary the cadence (hourly, 5-minute,
irregular to the nanosecond, with gaps), the time unit and zone (DST), the share of NaNs, the
bridge and the minimum hours, so that every path of the vectorised function is compared.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from belimo_cloud.analysis.episodes import EPISODE_COLUMNS, condition_episodes
from belimo_cloud.analysis.hydronics import sample_hours

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Just before the spring DST change in Zurich.
T0 = pd.Timestamp("2018-03-24T20:00Z")
STEPS_NS = {"hourly": 3_600 * 10**9, "5min": 300 * 10**9, "15min": 900 * 10**9}


def reference(condition: pd.Series[Any], bridge: str, min_hours: float) -> pd.DataFrame:
    """Episodes by walking the samples in time order."""
    cond = condition.sort_index()
    cond = cond[~cond.index.duplicated(keep="last")]
    hours = sample_hours(cond.index).to_numpy(dtype=np.float64)
    times = pd.DatetimeIndex(cond.index).tz_convert("UTC")
    limit = pd.Timedelta(bridge) / pd.Timedelta(hours=1)
    rows: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    healthy = 0.0
    for time, value, h in zip(times, cond.to_numpy(dtype=np.float64), hours, strict=True):
        if np.isnan(value):
            continue
        if value != 0:
            end = time + pd.Timedelta(hours=float(h))
            if current is None:
                current = {"start": time, "end": end, "hours": 0.0, "samples": 0}
            current["end"] = end
            current["hours"] += float(h)
            current["samples"] += 1
            healthy = 0.0
        elif current is not None:
            healthy += float(h)
            if healthy > limit:
                rows.append(current)
                current, healthy = None, 0.0
    if current is not None:
        rows.append(current)
    kept = [r for r in rows if r["hours"] >= min_hours]
    return pd.DataFrame(
        {
            "start": [r["start"] for r in kept],
            "end": [r["end"] for r in kept],
            "duration_h": [(r["end"] - r["start"]).total_seconds() / 3600.0 for r in kept],
            "hours": [r["hours"] for r in kept],
            "samples": [r["samples"] for r in kept],
        }
    )


@st.composite
def conditions(draw: st.DrawFn) -> pd.Series[Any]:
    n = draw(st.integers(1, 300), label="samples")
    cadence = draw(st.sampled_from([*STEPS_NS, "irregular"]), label="cadence")
    if cadence == "irregular":
        steps = np.asarray(
            draw(st.lists(st.integers(1, 2 * 3_600 * 10**9), min_size=n, max_size=n))
        )
    else:
        steps = np.full(n, STEPS_NS[cadence])
        gaps = draw(st.lists(st.integers(0, n - 1), max_size=3), label="gaps")
        steps[gaps] *= draw(st.integers(2, 40), label="gap length")
    ns = T0.value + np.cumsum(steps) - steps[0]
    index = pd.DatetimeIndex(ns.view("M8[ns]"), tz="UTC")
    unit = draw(st.sampled_from(["ns", "us", "s"]), label="unit")
    if unit != "ns" and cadence != "irregular":
        index = index.as_unit(unit)
    index = index.tz_convert(draw(st.sampled_from(["UTC", "Europe/Zurich"]), label="zone"))
    p_true = draw(st.floats(0.0, 1.0), label="share true")
    p_nan = draw(st.floats(0.0, 0.9), label="share NaN")
    codes = draw(
        st.lists(st.floats(0.0, 1.0, exclude_max=True), min_size=2 * n, max_size=2 * n),
        label="values",
    )
    values = np.where(np.asarray(codes[:n]) < p_true, 1.0, 0.0)
    values[np.asarray(codes[n:]) < p_nan] = np.nan
    return pd.Series(values, index=index)


@SETTINGS
@given(
    cond=conditions(),
    bridge=st.sampled_from(["0h", "15min", "55min", "1h", "2h", "6h", "24h"]),
    min_hours=st.sampled_from([0.0, 0.25, 1.0, 3.0, 12.0]),
)
def test_condition_episodes_equal_a_sample_by_sample_walk(
    cond: pd.Series[Any], bridge: str, min_hours: float
) -> None:
    got = condition_episodes(cond, bridge=bridge, min_hours=min_hours)
    want = reference(cond, bridge, min_hours)
    assert list(got.columns) == EPISODE_COLUMNS
    assert len(got) == len(want)
    # Exactly equal, not approximately: the same instants and the same float hours.
    for column in EPISODE_COLUMNS:
        assert got[column].tolist() == want[column].tolist(), column


@SETTINGS
@given(data=st.data())
def test_shuffled_samples_give_the_same_episodes(data: st.DataObject) -> None:
    cond = data.draw(conditions())
    order = data.draw(st.permutations(range(len(cond))), label="order")
    shuffled = cond.iloc[list(order)]
    pd.testing.assert_frame_equal(
        condition_episodes(shuffled, bridge="2h"),
        condition_episodes(cond, bridge="2h"),
        check_exact=True,
    )
