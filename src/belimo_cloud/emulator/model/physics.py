"""Energy Valve physics: load, temperatures, flow and power of one valve, vectorised.

The load follows the weather and the occupancy schedule; the valve delivers it at a delta T
near its setpoint: flow = P / (rho * cp * dT), capped at Vmax (the power is then what the
capped flow carries). Power is held constant over each 5-minute sample interval, so an
energy counter is exactly ``E0 + 300 s * sum(P)`` of the samples before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from belimo_cloud.emulator.model.weather import EPOCH0, ClimateSamples

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

RHO = 998.0  # [kg/m3] water
CP = 4186.0  # [J/(kg K)] water
SAMPLE_S = 300
KELVIN = 273.15

#: Nominal flow [m3/s] of an Energy Valve by DN.
NOMINAL_FLOW = {
    15: 0.35e-3,
    20: 0.65e-3,
    25: 1.15e-3,
    32: 1.8e-3,
    40: 2.5e-3,
    50: 4.8e-3,
    65: 8.0e-3,
    80: 11.0e-3,
}


@dataclass(frozen=True)
class ValveParams:
    """The hydronic facts of one valve.

    ``kind`` "heating" or "cooling"; ``vmax`` [m3/s]; ``pmax`` [W]; ``sp_dt`` [K];
    ``t_limit`` [degC] heating limit (heating) or cooling start (cooling); ``solar_gain``
    [0..1] how much sun the zone gets; ``constant_load`` [0..1] a 24/7 load (server room)
    instead of the weather-driven one; ``phase`` [0..1) shifts the shared noise;
    ``low_dt`` an epoch-second window [start, end) with low-dT syndrome (cooling), or None;
    ``override`` the written override control (forces the valve closed, to minimum or open);
    ``measure`` (epoch s, share): from then on the load is ``1 - share`` of what it was (a
    designed efficiency measure, :mod:`belimo_cloud.emulator.model.measures`), or None.
    """

    kind: str
    dn: int
    vmax: float
    pmax: float
    sp_dt: float
    t_limit: float
    solar_gain: float
    phase: float
    constant_load: float = 0.0
    low_dt: tuple[int, int] | None = None
    override: int = 0  # Override_Write: 0 none, 1|2 closed, 3 minimum, 4|8 open, else auto
    measure: tuple[int, float] | None = None


@dataclass(frozen=True)
class Signals:
    """Per-sample valve values in SI units: power [W] (magnitude), flow [m3/s], T1/T2 [K],
    dt [K] (magnitude), rel_flow and rel_power [%]."""

    power: FloatArray
    flow: FloatArray
    t1: FloatArray
    t2: FloatArray
    dt: FloatArray
    rel_flow: FloatArray
    rel_power: FloatArray


def _heating_demand(p: ValveParams, c: ClimateSamples, w: FloatArray) -> FloatArray:
    design = -8.0
    need = np.clip((p.t_limit - c.effective) / (p.t_limit - design), 0.0, 1.0)
    demand = need * (c.heating_schedule * (1.0 + 0.08 * w) - 0.3 * p.solar_gain * c.solar)
    return np.clip(demand, 0.0, 1.0)


def _cooling_demand(p: ValveParams, c: ClimateSamples, w: FloatArray) -> FloatArray:
    if p.constant_load > 0.0:
        return np.clip(p.constant_load * (1.0 + 0.06 * w + 0.004 * (c.outdoor - 10.0)), 0.0, 1.0)
    design = 32.0
    weather = np.clip((c.effective - p.t_limit) / (design - p.t_limit), 0.0, 1.0)
    load = 0.8 * weather + 0.12 + 0.45 * p.solar_gain * c.solar
    return np.clip(load * c.cooling_schedule * (1.0 + 0.08 * w), 0.0, 1.0)


#: Override_Write values that force the flow, as a fraction of Vmax (others: automatic).
_FORCED_FLOW = {1: 0.0, 2: 0.0, 3: 0.32, 4: 1.0, 8: 1.0}


@dataclass(frozen=True)
class _Core:
    power: FloatArray
    flow: FloatArray
    dt: FloatArray
    supply: FloatArray
    open_: npt.NDArray[np.bool_]
    w: FloatArray


def _core(p: ValveParams, times: IntArray, c: ClimateSamples) -> _Core:
    """Power and flow (what the counters integrate) and what the temperatures need."""
    w = (c.u + p.phase) % 1.0 * 2.0 - 1.0  # uniform in [-1, 1), the valve's own noise
    w2 = (c.u + (p.phase + 0.381966)) % 1.0 * 2.0 - 1.0
    heating = p.kind == "heating"
    demand = _heating_demand(p, c, w) if heating else _cooling_demand(p, c, w)
    if p.measure is not None:
        demand = np.where(times >= p.measure[0], demand * (1.0 - p.measure[1]), demand)
    open_ = demand >= 0.03
    if heating:
        supply = c.heating_supply
        dt = np.clip(p.sp_dt * (0.86 + 0.18 * demand) + 0.4 * w2, 2.0, supply - 21.0)
    else:
        supply = 6.5 + 1.5 * (1.0 - demand)
        dt = p.sp_dt * (0.8 + 0.2 * demand) + 0.25 * w2
        if p.low_dt is not None:
            sick = (times >= p.low_dt[0]) & (times < p.low_dt[1])
            dt = np.where(sick, 2.0 + 0.35 * w2, dt)
        dt = np.clip(dt, 1.0, 22.0 - supply)
    forced = _FORCED_FLOW.get(p.override)
    if forced is not None:
        open_ = np.full(times.shape, forced > 0.0)
    dt = np.where(open_, dt, 0.5 + 0.3 * np.abs(w2))
    flow = np.minimum(demand * (p.pmax / (RHO * CP)) / dt, p.vmax)
    if forced is not None:
        flow = np.full(times.shape, forced * p.vmax)
    flow[~open_] = 0.0
    power = flow * (RHO * CP) * dt
    return _Core(power=power, flow=flow, dt=dt, supply=supply, open_=open_, w=w)


def valve_power_flow(
    p: ValveParams, times: IntArray, c: ClimateSamples
) -> tuple[FloatArray, FloatArray]:
    """Power [W] and flow [m3/s] of valve ``p``: the integrands of its counters."""
    core = _core(p, times, c)
    return core.power, core.flow


def valve_signals(p: ValveParams, times: IntArray, c: ClimateSamples) -> Signals:
    """Every measured value of valve ``p`` at ``times`` (epoch s) under climate ``c``."""
    core = _core(p, times, c)
    idle = 22.0 if p.kind == "heating" else 20.0
    t1 = np.where(core.open_, core.supply, 0.5 * (core.supply + idle)) + 0.05 * core.w + KELVIN
    t2 = t1 - core.dt if p.kind == "heating" else t1 + core.dt
    return Signals(
        power=core.power,
        flow=core.flow,
        t1=t1,
        t2=t2,
        dt=core.dt,
        rel_flow=core.flow * (100.0 / p.vmax),
        rel_power=core.power * (100.0 / p.pmax),
    )


def exclusive_cumsum(x: FloatArray) -> FloatArray:
    """``out[k] = sum(x[:k])``: what a counter has accumulated before sample k."""
    out = np.empty_like(x)
    out[0] = 0.0
    np.cumsum(x[:-1], out=out[1:])
    return out


def grid(start: int, end: int) -> IntArray:
    """Sample times of the 5-minute grid in [start, end), never before 2017-01-01."""
    first = max(start, EPOCH0)
    first += -first % SAMPLE_S
    if end <= first:
        return np.empty(0, dtype=np.int64)
    return np.arange(first, end, SAMPLE_S, dtype=np.int64)
