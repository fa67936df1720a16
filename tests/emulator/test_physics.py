"""Weather and valve physics: seasons, calendar, and the flow/power/dT relations."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from belimo_cloud.emulator.model.physics import (
    CP,
    KELVIN,
    RHO,
    ValveParams,
    exclusive_cumsum,
    grid,
    valve_signals,
)
from belimo_cloud.emulator.model.weather import EPOCH0, Climate


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def month(year: int, m: int) -> np.ndarray:
    start = ts(f"{year}-{m:02d}-01T00:00:00")
    return np.arange(start, start + 28 * 86_400, 300, dtype=np.int64)


HEATING = ValveParams(
    kind="heating", dn=25, vmax=1.0e-3, pmax=40_000.0, sp_dt=12.0, t_limit=15.0,
    solar_gain=0.5, phase=0.3,
)  # fmt: skip
COOLING = ValveParams(
    kind="cooling", dn=32, vmax=1.5e-3, pmax=30_000.0, sp_dt=6.0, t_limit=18.0,
    solar_gain=1.0, phase=0.7,
)  # fmt: skip


@pytest.fixture(scope="module")
def climate() -> Climate:
    return Climate(0)


def test_weather_has_seasons_and_days(climate: Climate) -> None:
    january = climate.at(month(2018, 1)).outdoor
    july = climate.at(month(2018, 7)).outdoor
    assert july.mean() - january.mean() > 10.0
    assert january.min() > -25.0 and july.max() < 40.0
    day = climate.at(np.arange(ts("2018-07-10T00:00:00"), ts("2018-07-11T00:00:00"), 300))
    afternoon, night = day.outdoor[14 * 12], day.outdoor[3 * 12]
    assert afternoon > night


def test_weather_is_smooth_and_deterministic(climate: Climate) -> None:
    times = month(2019, 3)
    outdoor = climate.at(times).outdoor
    assert np.abs(np.diff(outdoor)).max() < 0.5  # K per 5 minutes: no white noise
    assert np.array_equal(outdoor, Climate(0).at(times).outdoor)
    assert not np.array_equal(outdoor, Climate(1).at(times).outdoor)


def test_calendar_local_time_and_workdays(climate: Climate) -> None:
    winter = climate.at(np.array([ts("2018-01-15T10:00:00")]))  # a Monday
    summer = climate.at(np.array([ts("2018-07-02T10:00:00")]))  # a Monday, CEST
    sunday = climate.at(np.array([ts("2018-07-01T10:00:00")]))
    assert winter.local_hour[0] == 11.0 and summer.local_hour[0] == 12.0
    assert winter.occupied[0] and summer.occupied[0] and not sunday.workday[0]
    night = climate.at(np.array([ts("2018-07-02T01:00:00")]))
    assert not night.occupied[0] and night.solar[0] == 0.0


@pytest.mark.parametrize("params", [HEATING, COOLING], ids=["heating", "cooling"])
def test_flow_power_delta_t_relations(climate: Climate, params: ValveParams) -> None:
    times = np.concatenate([month(2018, 1), month(2018, 7)])
    s = valve_signals(params, times, climate.at(times))
    np.testing.assert_allclose(s.power, RHO * CP * s.flow * s.dt, rtol=1e-12)
    assert (s.flow >= 0).all() and (s.flow <= params.vmax).all()
    np.testing.assert_allclose(s.rel_flow, s.flow / params.vmax * 100.0, rtol=1e-12)
    np.testing.assert_allclose(s.rel_power, s.power / params.pmax * 100.0, rtol=1e-12)
    sign = 1.0 if params.kind == "heating" else -1.0
    np.testing.assert_allclose(sign * (s.t1 - s.t2), s.dt, atol=1e-9)
    assert (s.dt > 0).all()
    open_ = s.flow > 0
    assert 0.6 * params.sp_dt < np.median(s.dt[open_]) <= 1.1 * params.sp_dt
    supply = s.t1[open_] - KELVIN
    if params.kind == "heating":
        assert supply.min() >= 25.0 and supply.max() <= 61.0
    else:
        assert supply.min() >= 5.0 and supply.max() <= 9.0


def test_heating_follows_winter_and_cooling_summer(climate: Climate) -> None:
    jan, jul = month(2018, 1), month(2018, 7)
    heat_jan = valve_signals(HEATING, jan, climate.at(jan)).power.mean()
    heat_jul = valve_signals(HEATING, jul, climate.at(jul)).power.mean()
    cool_jan = valve_signals(COOLING, jan, climate.at(jan)).power.mean()
    cool_jul = valve_signals(COOLING, jul, climate.at(jul)).power.mean()
    assert heat_jan > 20 * max(heat_jul, 1.0)
    assert cool_jul > 2 * cool_jan


def test_heating_curve_raises_supply_when_cold(climate: Climate) -> None:
    times = np.concatenate([month(2018, 1), month(2018, 4)])
    c = climate.at(times)
    s = valve_signals(HEATING, times, c)
    open_ = s.flow > 0
    cold = open_ & (c.effective < 0.0)
    mild = open_ & (c.effective > 10.0)
    assert s.t1[cold].mean() > s.t1[mild].mean() + 10.0


def test_low_delta_t_window_pins_flow(climate: Climate) -> None:
    times = month(2018, 7)
    sick = ValveParams(**{**COOLING.__dict__, "low_dt": (int(times[0]), int(times[-1]) + 300)})
    healthy = valve_signals(COOLING, times, climate.at(times))
    s = valve_signals(sick, times, climate.at(times))
    open_ = s.flow > 0
    assert np.median(s.dt[open_]) < 2.6
    assert np.median(healthy.dt[healthy.flow > 0]) > 5.0
    busy = open_ & (healthy.rel_flow > 30.0)
    assert np.median(s.rel_flow[busy]) > 95.0
    assert (s.power <= healthy.power + 1e-6).all()


def test_exclusive_cumsum_and_grid() -> None:
    np.testing.assert_array_equal(exclusive_cumsum(np.array([1.0, 2.0, 3.0])), [0.0, 1.0, 3.0])
    times = grid(EPOCH0 - 1000, EPOCH0 + 901)
    np.testing.assert_array_equal(times, [EPOCH0, EPOCH0 + 300, EPOCH0 + 600, EPOCH0 + 900])
    assert grid(EPOCH0 + 1, EPOCH0 + 300).size == 0
    assert grid(EPOCH0 + 1, EPOCH0 + 301)[0] == EPOCH0 + 300
