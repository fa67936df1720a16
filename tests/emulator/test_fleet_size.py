"""fleet_size: the demo tenant's N valves are the designed ones, then generated ones, all
deterministic from the seed, with plausible data (model level; HTTP in test_fleet_size_http)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from belimo_cloud.emulator.model.data import COOLING_E, HEATING_E, VOLUME
from belimo_cloud.emulator.model.fleet import DESIGNED_FAULTS, DeviceSpec, Fleet
from belimo_cloud.emulator.model.generated import MAX_FLEET_SIZE, designed_valves

SIZE = 150
NOW = datetime(2019, 3, 1, 12, tzinfo=UTC)
NOW_S = int(NOW.timestamp())
YEAR_2018 = (
    int(datetime(2018, 1, 1, tzinfo=UTC).timestamp()),
    int(datetime(2019, 1, 1, tzinfo=UTC).timestamp()),
)
POWER, FLOW, SETPOINT = "evcloud.140", "evcloud.110", "evcloud.40"


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return Fleet(0, SIZE)


def valves_of(fleet: Fleet) -> list[DeviceSpec]:
    return [d for d in fleet.devices_of(fleet.tenants[0]) if d.kind != "gateway"]


def generated(fleet: Fleet) -> list[DeviceSpec]:
    return valves_of(fleet)[designed_valves() :]


def test_the_demo_tenant_has_n_valves_the_designed_ones_first(fleet: Fleet) -> None:
    designed = Fleet(0)
    valves = valves_of(fleet)
    assert len(valves) == SIZE
    assert valves[: designed_valves()] == valves_of(designed)
    gateways = [d for d in fleet.devices_of(fleet.tenants[0]) if d.kind == "gateway"]
    assert len(gateways) == 2
    # The second tenant is untouched.
    assert fleet.devices_of(fleet.tenants[1]) == designed.devices_of(designed.tenants[1])
    assert Fleet(0, designed_valves()).devices == designed.devices


def test_designed_valves_keep_their_faults_and_generated_ones_have_none(fleet: Fleet) -> None:
    assert fleet.designed_faults(NOW) == Fleet(0).designed_faults(NOW)
    for fault in DESIGNED_FAULTS:
        device = fleet.device(fault["device_id"])
        assert device is not None and device.display_name == fault["display_name"]
    glitch = next(f for f in DESIGNED_FAULTS if f["kind"] == "glitch")
    at = int(datetime.fromisoformat(glitch["start"].replace("Z", "+00:00")).timestamp())
    device = fleet.device(glitch["device_id"])
    assert device is not None
    history = fleet.history(device, [HEATING_E], at - 300, at + 600, NOW_S)
    assert history.values[HEATING_E].tolist()[1] == 0.0 < history.values[HEATING_E][0]
    for valve in generated(fleet):
        assert fleet.model(valve).faults == []
        assert fleet.health(valve, NOW)["state"] == "OK"


def test_the_same_seed_gives_the_same_devices_and_readings() -> None:
    first, again, other = Fleet(3, SIZE), Fleet(3, SIZE), Fleet(4, SIZE)
    assert first.devices == again.devices
    a, b, c = generated(first)[-1], generated(again)[-1], generated(other)[-1]
    ids = [POWER, HEATING_E, COOLING_E, VOLUME]
    start, end = YEAR_2018[0], YEAR_2018[0] + 7 * 86_400
    mine = first.history(a, ids, start, end, NOW_S).values
    same = again.history(b, ids, start, end, NOW_S).values
    for dp in ids:
        assert np.array_equal(mine[dp], same[dp])
    assert {d.id for d in generated(first)}.isdisjoint(d.id for d in generated(other))
    different = other.history(c, ids, start, end, NOW_S).values
    assert not np.array_equal(mine[VOLUME], different[VOLUME])
    # A larger fleet starts with the smaller one.
    assert Fleet(3, SIZE + 50).devices[: len(first.devices)] == first.devices


def test_generated_valves_are_varied_and_named_uniquely(fleet: Fleet) -> None:
    valves = generated(fleet)
    models = [fleet.model(v) for v in valves]
    assert {v.kind for v in valves} == {"heating", "cooling"}
    assert len({m.valve.dn for m in models if m.valve}) >= 4
    assert len({m.valve.sp_dt for m in models if m.valve}) >= 4
    assert len({v.project_name for v in valves}) >= 3
    everyone = valves_of(fleet)
    for field in ("id", "display_name", "serial_number", "production_id"):
        assert len({getattr(d, field) for d in everyone}) == len(everyone), field
    productions = [d.production_id for d in fleet.devices]
    assert productions == sorted(productions)


@pytest.mark.parametrize("kind", ["heating", "cooling"])
def test_a_generated_valve_counts_its_energy_monotonically(fleet: Fleet, kind: str) -> None:
    valve = next(v for v in generated(fleet) if v.kind == kind)
    own, other = (HEATING_E, COOLING_E) if kind == "heating" else (COOLING_E, HEATING_E)
    values = fleet.history(valve, [own, other, VOLUME, POWER, FLOW], *YEAR_2018, NOW_S).values
    counter, power = values[own], values[POWER]
    assert not np.isnan(counter).any()
    assert (np.diff(counter) >= 0).all() and (np.diff(values[VOLUME]) >= 0).all()
    assert counter[0] > 0 and counter[-1] - counter[0] > 3.6e9  # > 1 MWh in a year
    assert (values[other] == values[other][0]).all()
    # Power is held over each 5-minute interval: what the counter adds is power x 300 s.
    np.testing.assert_allclose(np.diff(counter), power[:-1] * 300.0, rtol=1e-9, atol=1e-3)
    np.testing.assert_allclose(np.diff(values[VOLUME]), values[FLOW][:-1] * 300.0, atol=1e-9)


def test_a_written_set_point_changes_a_generated_valve_and_its_counter_stays_monotonic() -> None:
    fleet = Fleet(0, SIZE)
    valve = next(v for v in generated(fleet) if v.kind == "heating")
    at = YEAR_2018[0] + 30 * 86_400
    before = fleet.history(valve, [SETPOINT, HEATING_E, POWER], *YEAR_2018, NOW_S).values
    fleet.changes.apply(valve.id, at, {SETPOINT: 25.0}, "CONFIGURATION_CHANGE")
    after = fleet.history(valve, [SETPOINT, HEATING_E, POWER], *YEAR_2018, NOW_S).values
    later = np.arange(*YEAR_2018, 300) > at
    assert (after[SETPOINT][later] == 25.0).all() and (after[SETPOINT][~later] != 25.0).all()
    assert not np.array_equal(after[POWER][later], before[POWER][later])
    assert (np.diff(after[HEATING_E]) >= 0).all()


def test_a_fleet_size_outside_the_bounds_is_refused_in_one_line() -> None:
    least = designed_valves()
    with pytest.raises(ValueError, match=f"fewer than the {least} designed valves"):
        Fleet(0, least - 1)
    with pytest.raises(ValueError, match="more than"):
        Fleet(0, MAX_FLEET_SIZE + 1)
