"""Hydronic KPIs and fleet views on small hand-built frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from belimo_cloud.analysis import (
    coil_saturation,
    delta_t,
    delta_t_vs_flow,
    device_status,
    energy_by_device,
    energy_check,
    fleet_summary,
    heating_cooling_split,
    low_delta_t,
    named_samples,
    power_check,
    problem_devices,
    ranking,
    sample_hours,
    time_at_vmax,
    valve_kpis,
)
from belimo_cloud.analysis.fleet import fleet_periods
from belimo_cloud.errors import DataError

IDX = pd.date_range("2018-07-01", periods=10, freq="h", tz="UTC")
NOW = pd.Timestamp("2026-11-20 12:00Z")


def s(values: list[float], idx: pd.DatetimeIndex = IDX) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=idx[: len(values)])


def test_delta_t_directions() -> None:
    t1, t2 = s([330.0, 331.0]), s([320.0, 322.0])
    assert list(delta_t(t1, t2)) == [10.0, 9.0]
    assert list(delta_t(t1, t2, mode="cooling")) == [-10.0, -9.0]
    assert list(delta_t(t2, t1, mode="abs")) == [10.0, 9.0]
    with pytest.raises(DataError):
        delta_t(t1, t2, mode="sideways")


def test_sample_hours_caps_gaps() -> None:
    idx = IDX[[0, 1, 2, 8]]
    assert list(sample_hours(idx)) == [1.0, 1.0, 2.0, 1.0]


def test_low_delta_t_hours() -> None:
    # 10 hourly samples: flow 80 % in the first 6, 3 % (closed) in the rest.
    flow = s([80.0] * 6 + [3.0] * 4)
    dt = s([2.0, 2.0, 2.0, 5.8, 5.8, 5.8, 0.1, 0.1, 0.1, 0.1])
    out = low_delta_t(dt, 6.0, flow)
    assert out["evaluated_hours"] == 6.0
    assert out["high_flow_hours"] == 6.0
    assert out["low_hours"] == 3.0  # 2 K < 0.8 x 6 K; 5.8 K is fine
    assert out["low_share"] == 0.5
    assert out["mean_dt"] == pytest.approx(3.9)


def test_delta_t_vs_flow_bins_and_saturation() -> None:
    idx = pd.date_range("2018-07-01", periods=100, freq="h", tz="UTC")
    flow = pd.Series(np.linspace(6, 100, 100), index=idx)
    dt = pd.Series(10.0 - flow / 20, index=idx)
    linear = pd.Series(flow * 100.0, index=idx)
    binned = delta_t_vs_flow(dt, flow, power=linear)
    assert len(binned) == 10
    assert binned["samples"].sum() == 100
    assert binned["dt_mean"].iloc[-1] < binned["dt_mean"].iloc[1]
    assert coil_saturation(binned) == pytest.approx(1.0, rel=0.05)
    flat = pd.Series(np.minimum(flow, 50.0) * 100.0, index=idx)
    assert coil_saturation(delta_t_vs_flow(dt, flow, power=flat)) < 0.1
    assert np.isnan(coil_saturation(delta_t_vs_flow(dt, flow)))


def test_time_at_vmax() -> None:
    out = time_at_vmax(s([100.0, 99.0, 50.0, 50.0, 0.0]))
    assert out["hours_at_vmax"] == 2.0
    assert out["flow_hours"] == 4.0
    assert out["share"] == 0.5
    assert out["max_flow"] == 100.0


def test_power_and_energy_checks() -> None:
    flow = s([0.001] * 4)  # 1 l/s
    dt = s([5.0] * 4)
    expected_w = 998.0 * 4186.0 * 0.001 * 5.0
    exact = power_check(flow, dt, s([expected_w] * 4))
    assert exact["mismatch_pct"] == pytest.approx(0.0, abs=1e-9)
    low = power_check(flow, dt, s([expected_w * 1.25] * 4))
    assert low["mismatch_pct"] == pytest.approx(-20.0)
    power = s([1000.0] * 4)  # 4 samples x 1 h x 1 kW = 4 kWh
    assert energy_check(power, 4 * 3.6e6)["mismatch_pct"] == pytest.approx(0.0)
    assert energy_check(power, 5 * 3.6e6)["mismatch_pct"] == pytest.approx(-20.0)


def devices() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "device_id": ["a", "b", "c", "d"],
            "display_name": ["Heizung A", "Kühlung B", "Heizung C", None],
            "serial_number": ["1", "2", "3", "4"],
            "production_id": ["p1", "p2", "p3", "p4"],
            "device_type": ["1:energyValve3"] * 4,
            "dataprofile": ["energyvalve3/1.2"] * 4,
            "health_state": ["OK", "OK", "WARNING", "UNKNOWN"],
            "health_description": ["", "", "Flow_sensor_error", ""],
            "last_seen": pd.to_datetime(
                [NOW, NOW - pd.Timedelta(days=3), NOW - pd.Timedelta(minutes=5), pd.NaT], utc=True
            ),
            "online_days": [10, 10, 10, 0],
            "project_name": ["P"] * 4,
            "address_city": ["Zürich"] * 4,
            "address_country": ["CH"] * 4,
        }
    )


def catalogue() -> pd.DataFrame:
    names = {
        "evcloud.210": ("Heating_E_J", "joule"),
        "evcloud.200": ("Cooling_E_J", "joule"),
        "evcloud.100": ("RelFlow_Fb_Rel2Vmax", "percent"),
        "x.dt": ("DeltaT_K", "kelvin"),
        "x.sp": ("SpDeltaT_applied_K", "kelvin"),
    }
    return pd.DataFrame(
        {
            "dataprofile": "energyvalve3/1.2",
            "datapoint_id": list(names),
            "name": [v[0] for v in names.values()],
            "description": "",
            "unit": [v[1] for v in names.values()],
            "access": "r",
            "basetype": "real",
        }
    )


def samples() -> pd.DataFrame:
    idx = pd.date_range("2018-01-01 23:00", periods=49, freq="h", tz="UTC")
    rows = []
    for dev, dp, per_h in (("a", "evcloud.210", 2.0), ("b", "evcloud.200", 1.0)):
        values = np.arange(49) * per_h * 3.6e6
        rows.append(
            pd.DataFrame({"device_id": dev, "datapoint_id": dp, "timestamp": idx, "value": values})
        )
    for dev, flow, dt in (("a", 80.0, 10.0), ("b", 100.0, 2.0)):
        for dp, val in (("evcloud.100", flow), ("x.dt", dt), ("x.sp", 6.0)):
            rows.append(
                pd.DataFrame({"device_id": dev, "datapoint_id": dp, "timestamp": idx, "value": val})
            )
    return pd.concat(rows, ignore_index=True)


def test_named_energy_ranking_and_split() -> None:
    named = named_samples(samples(), catalogue(), devices())
    assert set(named["name"].dropna()) >= {"Heating_E_J", "Cooling_E_J"}
    energy = energy_by_device(named, start="2018-01-02", end="2018-01-04")
    assert set(energy["direction"]) == {"heating", "cooling"}
    per_device = energy.groupby("device_id")["consumption"].sum()
    assert per_device["a"] == pytest.approx(96.0)
    assert per_device["b"] == pytest.approx(48.0)
    rank = ranking(energy, devices())
    # One ranking per direction, never a heating + cooling sum.
    assert list(zip(rank["direction"], rank["device_id"], rank["rank"], strict=True)) == [
        ("cooling", "b", 1),
        ("heating", "a", 1),
    ]
    assert list(rank["display_name"]) == ["Kühlung B", "Heizung A"]
    assert list(rank["consumption"]) == [pytest.approx(48.0), pytest.approx(96.0)]
    assert rank.groupby("direction")["share"].sum().tolist() == [1.0, 1.0]
    assert list(ranking(energy, devices(), direction="heating")["device_id"]) == ["a"]
    with pytest.raises(DataError):
        ranking(energy, direction="total")
    split = heating_cooling_split(energy)
    assert list(split.columns) == ["heating", "cooling"]
    assert split["heating"].sum() == pytest.approx(96.0)
    assert split["cooling"].sum() == pytest.approx(48.0)


def test_unused_counters_give_no_rows() -> None:
    named = named_samples(samples(), catalogue(), devices())
    unused = named[named["name"] == "Cooling_E_J"].assign(value=0.0, device_id="a")
    energy = energy_by_device(
        pd.concat([named, unused], ignore_index=True), start="2018-01-02", end="2018-01-04"
    )
    pairs = set(zip(energy["device_id"], energy["direction"], strict=True))
    assert pairs == {("a", "heating"), ("b", "cooling")}


def test_fleet_periods_flag_in_proportion() -> None:
    days = pd.date_range("2018-01-01", periods=2, freq="D", tz="Europe/Zurich")
    rows = []
    for i in range(10):
        for day in days:
            glitch = i == 3 and day == days[0]
            rows.append(
                {
                    "device_id": f"v{i}",
                    "direction": "heating",
                    "period": day,
                    "consumption": 10.0 * (i + 1),
                    "coverage": 1.0,
                    "quality": "glitch" if glitch else "ok",
                }
            )
    rows.append(
        {
            "device_id": "c",
            "direction": "cooling",
            "period": days[0],
            "consumption": 5.0,
            "coverage": 0.5,
            "quality": "gap",
        }
    )
    out = fleet_periods(pd.DataFrame(rows)).set_index(["direction", "period"])
    first = out.loc[("heating", days[0])]
    assert first["quality"] == "glitch 1/10"
    assert first["flagged_devices"] == 1
    assert first["flagged"] == 40.0
    assert first["flagged_share"] == pytest.approx(40.0 / 550.0)
    assert out.loc[("heating", days[1]), "quality"] == "ok"
    assert out.loc[("heating", days[1]), "flagged_share"] == 0.0
    # Heating and cooling stay apart: the cooling gap flags only the cooling row.
    assert out.loc[("cooling", days[0]), "quality"] == "gap 1/1"
    assert out.loc[("cooling", days[0]), "consumption"] == 5.0
    assert fleet_periods(pd.DataFrame(rows), direction="cooling")["direction"].tolist() == [
        "cooling"
    ]


def test_valve_kpis_find_the_low_delta_t_valve() -> None:
    named = named_samples(samples(), catalogue(), devices())
    kpis = valve_kpis(named, devices()).set_index("device_id")
    assert kpis.loc["a", "kind"] == "heating"
    assert kpis.loc["b", "kind"] == "cooling"
    assert not kpis.loc["a", "low_dt"]
    assert kpis.loc["b", "low_dt"]
    assert kpis.loc["b", "at_vmax"]
    assert not kpis.loc["a", "at_vmax"]


def test_device_status_and_summary() -> None:
    st = device_status(devices(), now=NOW).set_index("device_id")
    assert list(st["status"]) == ["ok", "offline", "problem", "offline"]
    assert st.loc["b", "last_seen_age_h"] == pytest.approx(72.0)
    summary = fleet_summary(devices(), now=NOW)
    assert summary == {
        "total": 4,
        "online": 2,
        "offline": 2,
        "ok": 2,
        "problem": 1,
        "warning": 1,
        "error": 0,
        "unknown": 1,
    }
    bad = problem_devices(devices(), now=NOW)
    assert set(bad["device_id"]) == {"b", "c", "d"}
    with pytest.raises(DataError):
        device_status(devices().drop(columns="last_seen"))
