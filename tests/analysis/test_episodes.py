"""Findings as dated episodes, on hand-built hourly series with known start and end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from belimo_cloud.analysis.episodes import (
    RECOMMENDATIONS,
    condition_episodes,
    event_episodes,
    low_delta_t_episodes,
    vmax_episodes,
)
from belimo_cloud.analysis.fleet import named_samples
from belimo_cloud.analysis.valves import valve_episodes, valve_kpis
from belimo_cloud.errors import DataError

HOURS = pd.date_range("2018-07-01", "2018-07-21", freq="h", tz="UTC", inclusive="left")
T = pd.Timestamp


def span(first: str, stop: str) -> np.ndarray:
    """True for the hours in [first, stop)."""
    hours = HOURS
    return np.asarray((hours >= T(first)) & (hours < T(stop)))


def daytime() -> np.ndarray:
    """True from 08:00 to 18:00 UTC: the valve is open by day, closed at night."""
    return (HOURS.hour >= 8) & (HOURS.hour < 18)


def test_condition_runs_become_episodes_with_dates() -> None:
    cond = pd.Series(0.0, index=HOURS)
    cond[T("2018-07-03 10:00Z") : T("2018-07-03 15:00Z")] = 1.0
    cond[T("2018-07-10 00:00Z") : T("2018-07-12 23:00Z")] = 1.0
    eps = condition_episodes(cond, bridge="6h")
    assert list(eps["start"]) == [T("2018-07-03 10:00Z"), T("2018-07-10 00:00Z")]
    # The end is the end of the last sample in the condition (an hourly sample lasts 1 h).
    assert list(eps["end"]) == [T("2018-07-03 16:00Z"), T("2018-07-13 00:00Z")]
    assert list(eps["duration_h"]) == [6.0, 72.0]
    assert list(eps["hours"]) == [6.0, 72.0]
    assert list(eps["samples"]) == [6, 72]


def test_unjudged_samples_neither_break_nor_extend_an_episode() -> None:
    # Low dT every open hour from the 5th to the 8th; nights are closed (not judged).
    open_ = daytime()
    cond = pd.Series(np.where(open_, 0.0, np.nan), index=HOURS)
    sick = open_ & span("2018-07-05 00:00Z", "2018-07-09 00:00Z")
    cond[sick] = 1.0
    eps = condition_episodes(cond, bridge="2h")
    assert len(eps) == 1
    assert eps.loc[0, "start"] == T("2018-07-05 08:00Z")
    assert eps.loc[0, "end"] == T("2018-07-08 18:00Z")
    assert eps.loc[0, "hours"] == 40.0  # 4 days x 10 open hours


def test_healthy_spells_longer_than_the_bridge_split_and_short_ones_do_not() -> None:
    cond = pd.Series(0.0, index=HOURS[:48])
    cond.iloc[0:10] = 1.0
    cond.iloc[13:20] = 1.0  # 3 healthy hours: bridged
    cond.iloc[30:40] = 1.0  # 10 healthy hours: a new episode
    eps = condition_episodes(cond, bridge="4h")
    assert list(eps["start"]) == [HOURS[0], HOURS[30]]
    assert list(eps["hours"]) == [17.0, 10.0]
    assert list(condition_episodes(cond, bridge="4h", min_hours=12)["start"]) == [HOURS[0]]


def test_condition_episodes_edge_cases() -> None:
    assert condition_episodes(pd.Series(dtype="float64")).empty
    assert condition_episodes(pd.Series(0.0, index=HOURS)).empty
    with pytest.raises(DataError):
        condition_episodes([1.0, 0.0])  # type: ignore[arg-type]


def test_low_delta_t_episode_spans_the_sick_days_only() -> None:
    open_ = daytime()
    flow = pd.Series(np.where(open_, 80.0, 0.0), index=HOURS)
    sick = span("2018-07-06 00:00Z", "2018-07-15 00:00Z")
    dt = pd.Series(np.where(sick, 2.0, 5.8), index=HOURS)
    eps = low_delta_t_episodes(dt, 6.0, flow, bridge="24h", min_hours=12)
    assert len(eps) == 1
    assert eps.loc[0, "start"] == T("2018-07-06 08:00Z")
    assert eps.loc[0, "end"] == T("2018-07-14 18:00Z")
    assert eps.loc[0, "hours"] == 90.0


def test_vmax_episodes() -> None:
    flow = pd.Series(60.0, index=HOURS)
    flow[T("2018-07-02 00:00Z") : T("2018-07-02 23:00Z")] = 100.0
    flow[T("2018-07-15 06:00Z") : T("2018-07-15 07:00Z")] = 99.0  # 2 h: too short
    eps = vmax_episodes(flow, min_hours=12)
    assert list(eps["start"]) == [T("2018-07-02 00:00Z")]
    assert list(eps["end"]) == [T("2018-07-03 00:00Z")]


def test_event_episodes_name_and_recommend() -> None:
    events = pd.DataFrame(
        {
            "time": [T("2018-02-05 06:00Z"), T("2018-02-14 09:00Z")],
            "end": [T("2018-02-09 14:00Z"), T("2018-02-14 09:00Z")],
            "kind": ["gap", "reset"],
        }
    )
    eps = event_episodes(events)
    assert list(eps["finding"]) == ["gap", "meter_replacement"]
    assert list(eps["duration_h"]) == [104.0, 0.0]
    assert list(eps["recommendation"]) == [
        RECOMMENDATIONS["gap"],
        RECOMMENDATIONS["meter_replacement"],
    ]
    with pytest.raises(DataError):
        event_episodes(events.drop(columns="end"))


PROFILE = "energyvalve3/1.2"
DP = {
    "Heating_E_J": "evcloud.210",
    "RelFlow_Fb_Rel2Vmax": "evcloud.100",
    "DeltaT_K": "evcloud.180",
    "SpDeltaT_applied_K": "evcloud.190",
    "AbsPower_Fb_W": "evcloud.140",
}


def catalogue() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dataprofile": PROFILE,
            "datapoint_id": list(DP.values()),
            "name": list(DP),
            "unit": "x",
        }
    )


def long(device: str, name: str, values: np.ndarray, aggregation: str = "avg") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "device_id": device,
            "datapoint_id": DP[name],
            "timestamp": HOURS,
            "value": values,
            "aggregation": aggregation,
        }
    )


def fleet() -> pd.DataFrame:
    n = len(HOURS)
    open_ = daytime()
    sick = span("2018-07-06 00:00Z", "2018-07-15 00:00Z")
    power = np.where(open_, 10_000.0, 0.0)  # [W] hourly average
    counter = 1e9 + np.cumsum(power) * 3600.0  # [J], the reading at each bucket's end
    parts = []
    for dev, flow, dt in (
        ("low", np.where(open_, 80.0, 0.0), np.where(sick, 2.0, 5.8)),
        ("vmax", np.where(open_, 100.0, 0.0), np.full(n, 5.9)),
    ):
        parts += [
            long(dev, "RelFlow_Fb_Rel2Vmax", flow),
            long(dev, "DeltaT_K", dt),
            long(dev, "SpDeltaT_applied_K", np.full(n, 6.0)),
            long(dev, "AbsPower_Fb_W", power),
            long(dev, "Heating_E_J", counter, "last"),
            # The last sample of each hour is misleading: power ramps up within the hour.
            long(dev, "AbsPower_Fb_W", power * 1.5, "last"),
        ]
    return pd.concat(parts, ignore_index=True)


def test_valve_episodes_keep_each_finding_to_its_valve() -> None:
    named = named_samples(fleet(), catalogue())
    eps = valve_episodes(named)
    low = eps[eps["finding"] == "low_delta_t"]
    vmax = eps[eps["finding"] == "at_vmax"]
    assert list(low["device_id"]) == ["low"]
    assert list(low["start"]) == [T("2018-07-06 08:00Z")]
    assert list(low["end"]) == [T("2018-07-14 18:00Z")]
    assert set(vmax["device_id"]) == {"vmax"}
    assert (eps["recommendation"].str.len() > 20).all()


def test_energy_check_integrates_average_power() -> None:
    named = named_samples(fleet(), catalogue())
    kpis = valve_kpis(named, resolution="1h").set_index("device_id")
    assert kpis.loc["low", "power_basis"] == "avg"
    # avg power x 1 h per bucket equals the counter's increase: no bias.
    assert abs(kpis.loc["low", "energy_mismatch_pct"]) < 0.5
    avg_power = (named["name"] == "AbsPower_Fb_W") & (named["aggregation"] == "avg")
    biased = valve_kpis(named[~avg_power], resolution="1h")
    assert biased.set_index("device_id").loc["low", "power_basis"] == "last"
    assert biased.set_index("device_id").loc["low", "energy_mismatch_pct"] > 40.0
