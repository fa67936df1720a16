"""The valve answers writes physically, and samples already sent never change."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from belimo_cloud.emulator.model.fleet import Fleet
from belimo_cloud.emulator.model.physics import NOMINAL_FLOW
from belimo_cloud.emulator.model.types import DeviceSpec

NOW_S = int(datetime(2026, 11, 20, 12, 0, tzinfo=UTC).timestamp())
LATER_S = NOW_S + 20 * 3600  # past the next midnight, where the counters take a new base
HEAT, POWER, FLOW, VOLUME = "evcloud.210", "evcloud.140", "evcloud.110", "evcloud.220"
SETPOINT, VMAX, OVERRIDE, DN = "evcloud.40", "evcloud.50", "evcloud.30", "evcloud.10"
IDS = [HEAT, POWER, FLOW, VOLUME, SETPOINT, VMAX, OVERRIDE, DN]


def busy_valve(fleet: Fleet) -> DeviceSpec:
    """A heating valve of the demo tenant with flow all through the window."""
    for device in fleet.devices:
        if device.kind != "heating" or device.owner is not fleet.tenants[0]:
            continue
        flow = fleet.history(device, [FLOW], NOW_S, LATER_S, LATER_S).values[FLOW]
        if np.all(flow > 0):
            return device
    raise AssertionError("no heating valve runs all day")


def written(values: dict[str, float]) -> tuple[Fleet, Fleet, DeviceSpec]:
    plain, changed = Fleet(0), Fleet(0)
    device = busy_valve(plain)
    changed.changes.apply(device.id, NOW_S, values, "CONFIGURATION_CHANGE")
    return plain, changed, device


def window(fleet: Fleet, device: DeviceSpec) -> dict[str, np.ndarray]:  # type: ignore[type-arg]
    history = fleet.history(device, IDS, NOW_S - 3600, LATER_S, LATER_S)
    return {"t": history.times, **history.values}


def test_samples_before_the_write_never_change() -> None:
    plain, changed, device = written({VMAX: 10.0})
    a, b = window(plain, device), window(changed, device)
    sent = a["t"] <= NOW_S
    assert sent.sum() == 13
    for dp in IDS:
        np.testing.assert_array_equal(a[dp][sent], b[dp][sent])


def test_lower_vmax_caps_flow_and_power_and_the_counters_follow() -> None:
    plain, changed, device = written({VMAX: 10.0})
    a, b = window(plain, device), window(changed, device)
    after = b["t"] > NOW_S
    cap = 0.10 * NOMINAL_FLOW[int(b[DN][0])]
    assert np.all(b[FLOW][after] <= cap * (1 + 1e-9))
    assert np.all(b[VMAX][after] == pytest.approx(10.0))
    assert b[POWER][after].sum() < a[POWER][after].sum()
    # The counter is the running sum of the power actually delivered, across midnight too.
    steps = np.diff(b[HEAT])
    np.testing.assert_allclose(steps, b[POWER][:-1] * 300, rtol=1e-9, atol=1e-3)
    np.testing.assert_allclose(np.diff(b[VOLUME]), b[FLOW][:-1] * 300, rtol=1e-9, atol=1e-9)
    assert b[HEAT][-1] < a[HEAT][-1]


def test_a_larger_setpoint_needs_less_flow_for_the_same_load() -> None:
    plain, changed, device = written({SETPOINT: 25.0})
    a, b = window(plain, device), window(changed, device)
    after = b["t"] > NOW_S
    assert np.all(b[SETPOINT][after] == 25.0)
    assert b[FLOW][after].mean() < a[FLOW][after].mean()


def test_override_closed_stops_the_valve() -> None:
    _, changed, device = written({OVERRIDE: 1})
    b = window(changed, device)
    after = b["t"] > NOW_S
    assert np.all(b[FLOW][after] == 0) and np.all(b[POWER][after] == 0)
    assert np.all(b[OVERRIDE][after] == 1)
    assert np.ptp(b[HEAT][after]) == 0


def test_the_state_shows_an_applied_write_before_the_next_sample() -> None:
    fleet = Fleet(0)
    device = busy_valve(fleet)
    now = datetime.fromtimestamp(NOW_S, tz=UTC)
    fleet.changes.apply(device.id, NOW_S, {SETPOINT: 21.0}, "CONFIGURATION_CHANGE")
    state = fleet.state(device, now, now)
    assert state["timestamp"] == "2026-11-20T12:00:00.000Z"
    assert state["datapoints"][SETPOINT] == {"value": 21.0}
    sample = fleet.history(device, [SETPOINT], NOW_S, NOW_S + 1, NOW_S).values[SETPOINT]
    assert sample[0] != 21.0
