"""Written values in the generated data: valve settings as physics, others as overrides.

A write of a valve setting (override, delta-T setpoint, Vmax) gives the valve new parameters
from the write's effective sample on; the physics then yields other flows and powers. Every
written value also replaces the generated one from that sample on, as the device reports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from belimo_cloud.emulator.model.changes import Change
from belimo_cloud.emulator.model.physics import NOMINAL_FLOW, ValveParams

IntArray = npt.NDArray[np.int64]

OVERRIDE, SETPOINT, VMAX_REL = "evcloud.30", "evcloud.40", "evcloud.50"
SETPOINT_APPLIED = "evcloud.190"
#: Written datapoints the valve physics follows.
SETTINGS = frozenset({OVERRIDE, SETPOINT, VMAX_REL})


def _sp_dt(p: ValveParams) -> float:
    return p.sp_dt


def _vmax_rel(p: ValveParams) -> float:
    return p.vmax * 100.0 / NOMINAL_FLOW[p.dn]


def _override(p: ValveParams) -> float:
    return float(p.override)


#: What each written valve setting reads, in raw units, from the valve's parameters.
SETTING_READERS: dict[str, Callable[[ValveParams], float]] = {
    SETPOINT: _sp_dt,
    SETPOINT_APPLIED: _sp_dt,
    VMAX_REL: _vmax_rel,
    OVERRIDE: _override,
}


def segments_of(valve: ValveParams, changes: list[Change]) -> list[tuple[int, ValveParams]]:
    """(effective time, parameters) of the valve after each write of a physics setting."""
    segments: list[tuple[int, ValveParams]] = []
    params = valve
    for change in changes:
        values = change.values
        if SETTINGS.isdisjoint(values):
            continue
        if SETPOINT in values:
            params = replace(params, sp_dt=float(values[SETPOINT]))
        if VMAX_REL in values:
            params = replace(params, vmax=float(values[VMAX_REL]) / 100.0 * NOMINAL_FLOW[valve.dn])
        if OVERRIDE in values:
            params = replace(params, override=int(values[OVERRIDE]))
        if segments and segments[-1][0] == change.effective:
            segments[-1] = (change.effective, params)
        else:
            segments.append((change.effective, params))
    return segments


def apply_changes(changes: list[Change], times: IntArray, out: dict[str, npt.NDArray[Any]]) -> None:
    """Written values hold from their effective sample on (as the device then reports them)."""
    for change in changes:
        after = times >= change.effective
        if not after.any():
            continue
        for dp, value in change.values.items():
            column = out.get(dp)
            if column is not None:
                column[after] = float(value) if column.dtype.kind == "f" else value
