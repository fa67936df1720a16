"""Every designed-in fault of the demo fleet and how each one shapes a device's data.

The data faults (FAULT_PLANS: meter replacement, gap, glitch, low-dT syndrome, offline) are
what the analytics must find; the health fault (SENSOR_ERROR) gives one device a warning.
Each plan is built into one device's model (``DeviceModel.faults``); the functions here take
those per-device lists, so nothing downstream looks a device up by its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from belimo_cloud.emulator.model.types import SAMPLE_PERIOD_S

IntArray = npt.NDArray[np.int64]


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _epoch(text: str) -> int:
    return int(_utc(text).timestamp())


@dataclass(frozen=True)
class FaultPlan:
    """A designed-in fault: its kind, the device it is built into and its times (ISO Z).

    ``display_name`` names the device only while the fleet is built (build.py attaches each
    plan to its device's model); from then on a device's faults are ``DeviceModel.faults``.
    """

    kind: str
    display_name: str
    datapoint_id: str | None
    start: str | None
    end: str | None
    description: str


FAULT_PLANS: tuple[FaultPlan, ...] = (
    FaultPlan(
        "meter_replacement",
        "Energieventil Heizung 3.OG Süd-West",
        "evcloud.210",
        "2018-03-14T09:35:00Z",
        None,
        "Valve replaced: Heating_E_J, Cooling_E_J and Flow_Volume_total_m3 restart near 0 "
        "at this sample and stay monotonic after.",
    ),
    FaultPlan(
        "gap",
        "Energieventil Heizung 2.OG Nord-Ost",
        None,
        "2018-02-05T06:00:00Z",
        "2018-02-09T14:30:00Z",
        "No samples of any datapoint in [start, end); the counters kept integrating, so the "
        "increase across the gap is real consumption.",
    ),
    FaultPlan(
        "glitch",
        "Energieventil Heizung 4.OG Süd-Ost",
        "evcloud.210",
        "2018-01-17T23:55:00Z",
        "2018-01-18T00:00:00Z",
        "Heating_E_J reads 0 at this one sample, then back to its level.",
    ),
    FaultPlan(
        "low_delta_t",
        "Energieventil Kühlung 2.OG Süd",
        "evcloud.180",
        "2018-06-18T00:00:00Z",
        "2018-08-27T00:00:00Z",
        "Low-dT syndrome: DeltaT_K about 2 K against a 6 K setpoint while the valve is open, "
        "flow pinned at Vmax and power limited by it.",
    ),
    FaultPlan(
        "offline",
        "Energieventil Kühlung 4.OG Ost",
        None,
        None,
        None,
        "Offline now: its last sample is 3 days before now; nothing after that.",
    ),
)

REPLACED_ENERGY_J = 2.16e6  # [J] the new meter's factory test reading (0.6 kWh)
REPLACED_VOLUME_M3 = 0.05  # [m3]
REPLACEMENT_EVENT: dict[str, Any] = {
    "values": {"evcloud.210": "2160000.0", "evcloud.200": "0.0", "evcloud.220": "0.05"}
}

PROBLEM_DESCRIPTION = "Flow_sensor_error"
PROBLEM_SINCE = timedelta(days=2)  # the warning started this long before now
OFFLINE_FOR = timedelta(days=3)

#: A health fault: the device reports a warning since PROBLEM_SINCE before now. Not among
#: the data faults the analytics must find, so not in FAULT_PLANS (nor designed_faults()).
SENSOR_ERROR = FaultPlan(
    "sensor_error",
    "Energieventil Heizung 3.OG Nord-West",
    "default.1",
    None,
    None,
    "Warning Flow_sensor_error since 2 days before now (health WARNING, default.1 WARN).",
)


def plans_for(display_name: str) -> list[FaultPlan]:
    """The plans built into the demo tenant's device of this name (build time only)."""
    every = (*FAULT_PLANS, SENSOR_ERROR)
    return [plan for plan in every if plan.display_name == display_name]


def of_kind(faults: list[FaultPlan], kind: str) -> FaultPlan | None:
    """The device's fault of this kind, or None."""
    return next((fault for fault in faults if fault.kind == kind), None)


def offline_last_sample(now: int) -> int:
    """The offline device's last sample: on the grid, OFFLINE_FOR before now."""
    last = now - int(OFFLINE_FOR.total_seconds())
    return last - last % SAMPLE_PERIOD_S


def last_sent(faults: list[FaultPlan], t: int, now: int) -> int:
    """The latest grid time <= ``t`` the faults let the device send (may precede its data)."""
    for fault in faults:
        if fault.kind == "offline":
            t = min(t, offline_last_sample(now))
        elif fault.kind == "gap" and fault.start and fault.end:
            start, end = _epoch(fault.start), _epoch(fault.end)
            if start <= t < end:
                t = start - SAMPLE_PERIOD_S
    return t


def missing(faults: list[FaultPlan], times: IntArray, now: int) -> npt.NDArray[np.bool_]:
    """Which sample times the faults removed (a gap, after going offline)."""
    gone = np.zeros(len(times), dtype=bool)
    for fault in faults:
        if fault.kind == "gap" and fault.start and fault.end:
            gone |= (times >= _epoch(fault.start)) & (times < _epoch(fault.end))
        elif fault.kind == "offline":
            gone |= times > offline_last_sample(now)
    return gone


def lost_days(faults: list[FaultPlan], last_seen: datetime) -> int:
    """Whole days without any connection inside gaps that ended before ``last_seen``."""
    lost = 0
    for fault in faults:
        if fault.kind == "gap" and fault.start and fault.end and _utc(fault.end) <= last_seen:
            gap = _utc(fault.end) - _utc(fault.start)
            lost += max(gap // timedelta(days=1) - 1, 0)
    return lost


def warning_since(faults: list[FaultPlan], now: int) -> int | None:
    """Since when (epoch s) the device reports its health warning, or None if healthy."""
    if of_kind(faults, "sensor_error") is None:
        return None
    return now - int(PROBLEM_SINCE.total_seconds())


def replacement_at(faults: list[FaultPlan]) -> int | None:
    """When the device's meter was replaced (epoch s), or None."""
    fault = of_kind(faults, "meter_replacement")
    return None if fault is None or fault.start is None else _epoch(fault.start)


def glitch_at(faults: list[FaultPlan]) -> int | None:
    """The one sample (epoch s) at which Heating_E_J reads 0, or None."""
    fault = of_kind(faults, "glitch")
    return None if fault is None or fault.start is None else _epoch(fault.start)


def timeline_events(faults: list[FaultPlan]) -> list[tuple[datetime, str, dict[str, Any]]]:
    """Timeline events the faults leave: the meter replacement's configuration change."""
    return [
        (_utc(fault.start), "CONFIGURATION_CHANGE", dict(REPLACEMENT_EVENT))
        for fault in faults
        if fault.kind == "meter_replacement" and fault.start
    ]
