"""The emulated fleet: tenants, devices, counters, designed-in faults, JSON shapes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from belimo_cloud.emulator.model.fleet import DESIGNED_FAULTS, DeviceSpec, Fleet
from belimo_cloud.emulator.model.physics import CP, RHO

NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)
NOW_S = int(NOW.timestamp())
HEAT, COOL, POWER, FLOW, VOLUME = (
    "evcloud.210",
    "evcloud.200",
    "evcloud.140",
    "evcloud.110",
    "evcloud.220",
)
T1, T2, DT, RELFLOW = "evcloud.160", "evcloud.170", "evcloud.180", "evcloud.100"
MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return Fleet(0)


def demo(fleet: Fleet) -> list[DeviceSpec]:
    tenant = fleet.tenant_by_email("__UserPlaceHolder__")
    assert tenant is not None
    return fleet.devices_of(tenant)


def by_name(fleet: Fleet, name: str) -> DeviceSpec:
    return next(d for d in demo(fleet) if d.display_name == name)


def fault(kind: str) -> dict[str, Any]:
    return next(f for f in DESIGNED_FAULTS if f["kind"] == kind)


def test_same_seed_same_fleet_other_seed_other_ids(fleet: Fleet) -> None:
    again = Fleet(0)
    assert [d.id for d in again.devices] == [d.id for d in fleet.devices]
    device = demo(fleet)[3]
    assert again.device_json(device, NOW) == fleet.device_json(device, NOW)
    window = (ts("2018-02-01T00:00:00Z"), ts("2018-02-02T00:00:00Z"))
    a = fleet.history(device, [HEAT, POWER], *window, NOW_S)
    b = again.history(device, [HEAT, POWER], *window, NOW_S)
    np.testing.assert_array_equal(a.values[HEAT], b.values[HEAT])
    other = Fleet(1)
    assert not {d.id for d in other.devices} & {d.id for d in fleet.devices}


def test_tenants_and_counts(fleet: Fleet) -> None:
    devices = demo(fleet)
    assert len(devices) == 38
    second = fleet.tenant_by_email("facility@example.org")
    assert second is not None and second.password == "Second-Tenant-Password-1"
    theirs = fleet.devices_of(second)
    assert len(theirs) == 3
    assert not {d.id for d in theirs} & {d.id for d in devices}
    assert fleet.stats(devices, NOW) == {
        "totalDevices": 38,
        "connection": {"offline": 3, "online": 35},
        "health": {"problem": 1, "ok": 35},
        "transfer": {"incoming": 0, "outgoing": 0},
    }
    assert fleet.stats(theirs, NOW)["connection"] == {"offline": 0, "online": 3}
    assert fleet.device(devices[0].id) is devices[0]
    assert fleet.device("nope") is None
    assert fleet.tenant_by_email("nobody@example.org") is None


def test_names_kinds_and_identifiers(fleet: Fleet) -> None:
    devices = demo(fleet)
    heating = [d for d in devices if "Heizung" in d.display_name]
    cooling = [d for d in devices if "Kühlung" in d.display_name]
    gateways = [d for d in devices if d.kind == "gateway"]
    assert len(heating) >= 5 and len(cooling) >= 5 and gateways
    assert "Energieventil Heizung 2.OG Nord-West" in {d.display_name for d in heating}
    placed = [d.display_name.split() for d in heating if len(d.display_name.split()) == 4]
    floors = {words[2] for words in placed}
    facades = {words[3] for words in placed}
    assert len(floors) >= 3 and len(facades) >= 4
    assert {d.dataprofile for d in heating + cooling} == {"energyvalve3/1.2"}
    assert all(d.dataprofile != "energyvalve3/1.2" for d in gateways)
    assert len({d.device_type for d in devices}) == 2
    for d in devices:
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", d.id)
        assert re.fullmatch(r"\d{5}-\d{5}-\d{3}-\d{3}", d.serial_number)
        assert d.production_id.startswith("MPUID")
        assert d.project_name and d.address_city and d.address_country == "CH"
    assert all(re.fullmatch(r"EV\d{3}R2\+BAC", d.material_number) for d in heating + cooling)


def test_device_json_shape(fleet: Fleet) -> None:
    body = fleet.device_json(demo(fleet)[0], NOW)
    json.dumps(body)
    assert MS.match(body["productionDate"]) and MS.match(body["health"]["lastSeen"])
    assert MS.match(body["state"]["timestamp"])
    assert body["dataprofile"]["ref"] == "/definitions/dataprofiles/energyvalve3/1.2"
    assert body["owner"]["ref"] == f"/users/{body['owner']['entityId']}"
    assert body["health"] == {
        "lastSeen": "2026-11-20T12:00:00.000Z",
        "onlineDays": body["health"]["onlineDays"],
        "state": "OK",
        "description": "",
    }
    assert body["health"]["onlineDays"] > 3000
    values = {k: v["value"] for k, v in body["state"]["datapoints"].items()}
    assert set(fleet.datapoint_ids(demo(fleet)[0])) <= set(values)
    assert isinstance(values["evcloud.10"], int) and isinstance(values[HEAT], float)
    assert values["metadata.5"] is True and values["default.1"] == "OK"
    assert values["metadata.1001"] == body["displayName"]


@pytest.mark.spec
def test_device_json_has_every_key_of_the_spec_examples(fleet: Fleet, spec: dict[str, Any]) -> None:
    def example(path: str) -> Any:
        return json.loads(
            spec["paths"][path]["get"]["responses"]["200"]["examples"]["application/json"]
        )

    def assert_keys(theirs: dict[str, Any], ours: dict[str, Any], where: str) -> None:
        missing = set(theirs) - set(ours)
        assert not missing, (where, missing)
        for key, value in theirs.items():
            if isinstance(value, dict) and isinstance(ours[key], dict):
                assert_keys(value, ours[key], f"{where}.{key}")

    body = fleet.device_json(demo(fleet)[0], NOW)
    assert_keys(example("/api/v3/devices/{deviceId}"), body, "device")
    assert_keys(example("/api/v3/devices")["data"][0], body, "list item")
    assert set(example("/api/v3/devices/stats")) == set(fleet.stats(demo(fleet), NOW))
    event = fleet.timeline(demo(fleet)[0], NOW)[0]
    assert set(example("/api/v3/devices/{deviceId}/timeline")["data"][0]) == set(event)


def test_problem_and_offline_devices(fleet: Fleet) -> None:
    problem = [d for d in demo(fleet) if fleet.health(d, NOW)["state"] in ("WARNING", "ERROR")]
    assert len(problem) == 1
    health = fleet.health(problem[0], NOW)
    assert health["state"] in {"WARNING", "ERROR"} and health["description"]
    texts = fleet.history(problem[0], ["default.1", "default.2"], NOW_S - 600, NOW_S + 1, NOW_S)
    assert list(texts.values["default.1"]) == ["WARN"] * 3
    assert set(texts.values["default.2"]) == {health["description"]}

    offline = fault("offline")
    device = fleet.device(offline["device_id"])
    assert device is not None
    seen = fleet.last_seen(device, NOW)
    assert seen == NOW - timedelta(days=3)
    for other in demo(fleet):
        if other.id != device.id and fleet.health(other, NOW)["state"] != "UNKNOWN":
            other_seen = fleet.last_seen(other, NOW)
            assert other_seen is not None and NOW - other_seen <= timedelta(minutes=5)
    after = fleet.history(device, [HEAT, "default.1"], NOW_S - 4 * 86_400, NOW_S, NOW_S)
    sent = after.times <= NOW_S - 3 * 86_400
    assert not np.isnan(after.values[HEAT][sent]).any()
    assert np.isnan(after.values[HEAT][~sent]).all()
    assert all(v is None for v in after.values["default.1"][~sent])
    assert fleet.state(device, NOW, NOW)["timestamp"] == "2026-11-17T12:00:00.000Z"
    dated = fleet.designed_faults(NOW)[-1]
    assert dated["kind"] == "offline" and dated["start"] == "2026-11-17T12:05:00Z"


def test_designed_faults_shape() -> None:
    kinds = [f["kind"] for f in DESIGNED_FAULTS]
    assert sorted(kinds) == sorted(["meter_replacement", "gap", "glitch", "low_delta_t", "offline"])
    assert len({f["device_id"] for f in DESIGNED_FAULTS}) == 5
    for f in DESIGNED_FAULTS:
        assert set(f) == {
            "kind",
            "device_id",
            "display_name",
            "datapoint_id",
            "start",
            "end",
            "description",
        }
        if f["kind"] != "offline":
            assert f["start"].startswith("2018-") and f["start"].endswith("Z")
    assert fault("glitch")["start"].endswith("T23:55:00Z")


def test_counters_are_monotonic_through_2018(fleet: Fleet) -> None:
    replaced = fault("meter_replacement")["device_id"]
    glitchy = fault("glitch")["device_id"]
    start, end = ts("2017-12-01T00:00:00Z"), ts("2018-12-01T00:00:00Z")
    for device in demo(fleet):
        if device.kind == "gateway" or device.id in {replaced, glitchy}:
            continue
        h = fleet.history(device, [HEAT, COOL, VOLUME], start, end, NOW_S)
        for dp in (HEAT, COOL, VOLUME):
            values = h.values[dp][~np.isnan(h.values[dp])]
            assert (np.diff(values) >= 0).all(), (device.display_name, dp)


def test_energy_is_the_integral_of_power(fleet: Fleet) -> None:
    device = by_name(fleet, "Energieventil Heizung 1.OG Nord-West")
    start, end = ts("2018-01-10T07:20:00Z"), ts("2018-01-13T15:00:00Z")
    h = fleet.history(device, [HEAT, POWER, FLOW, VOLUME, T1, T2, DT], start, end, NOW_S)
    v = h.values
    np.testing.assert_allclose(np.diff(v[HEAT]), v[POWER][:-1] * 300.0, rtol=1e-6, atol=1e-3)
    np.testing.assert_allclose(np.diff(v[VOLUME]), v[FLOW][:-1] * 300.0, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(v[POWER], RHO * CP * v[FLOW] * v[DT], rtol=1e-9)
    np.testing.assert_allclose(v[T1] - v[T2], v[DT], atol=1e-9)
    kwh = (v[HEAT][-1] - v[HEAT][0]) / 3.6e6
    assert 100.0 < kwh < 10_000.0


def test_windows_agree_bitwise(fleet: Fleet) -> None:
    device = by_name(fleet, "Energieventil Kühlung 3.OG Süd")
    start, end = ts("2018-07-01T00:00:00Z"), ts("2018-07-05T00:00:00Z")
    whole = fleet.history(device, [COOL, VOLUME, POWER], start, end, NOW_S)
    middle = ts("2018-07-02T17:35:00Z")
    first = fleet.history(device, [COOL, VOLUME, POWER], start, middle, NOW_S)
    second = fleet.history(device, [COOL, VOLUME, POWER], middle, end, NOW_S)
    np.testing.assert_array_equal(np.concatenate([first.times, second.times]), whole.times)
    for dp in (COOL, VOLUME, POWER):
        np.testing.assert_array_equal(
            np.concatenate([first.values[dp], second.values[dp]]), whole.values[dp]
        )
    at = fleet.state(device, datetime.fromtimestamp(middle, tz=UTC), NOW)
    assert at["datapoints"][COOL]["value"] == second.values[COOL][0]


def test_winter_days_use_far_more_heat_than_summer_days(fleet: Fleet) -> None:
    device = by_name(fleet, "Energieventil Heizung EG Nord-West")
    start, end = ts("2017-12-01T00:00:00Z"), ts("2018-12-01T00:00:00Z")
    h = fleet.history(device, [HEAT], start, end, NOW_S)
    daily_last = h.values[HEAT][287::288]  # the 23:55 sample of each UTC day
    kwh = np.diff(daily_last) / 3.6e6
    assert (kwh >= 0).all() and kwh.max() < 2_000.0
    days = (h.times[287::288][1:] - start) // 86_400
    winter = kwh[(days >= 31) & (days < 90)].mean()  # January, February 2018
    summer = kwh[(days >= 212) & (days < 273)].mean()  # July, August 2018
    assert winter > 100.0 and winter > 10 * summer


def test_meter_replacement(fleet: Fleet) -> None:
    f = fault("meter_replacement")
    device = fleet.device(f["device_id"])
    assert device is not None
    at = ts(f["start"])
    h = fleet.history(device, [HEAT, VOLUME, POWER], at - 86_400, at + 86_400, NOW_S)
    heat = h.values[HEAT]
    i = int(np.searchsorted(h.times, at))
    assert heat[i - 1] > 1e10 and heat[i] < 1e7
    assert (np.diff(heat[:i]) >= 0).all() and (np.diff(heat[i:]) >= 0).all()
    np.testing.assert_allclose(np.diff(heat[i:]), h.values[POWER][i:-1] * 300.0, rtol=1e-6)
    assert h.values[VOLUME][i] < 1.0 < h.values[VOLUME][i - 1]
    later = fleet.history(
        device, [HEAT], ts("2019-01-01T00:00:00Z"), ts("2019-01-02T00:00:00Z"), NOW_S
    )
    assert heat[i] < later.values[HEAT][0] < heat[i - 1]
    events = fleet.timeline(device, NOW)
    assert any(
        e["type"] == "CONFIGURATION_CHANGE" and e["timestamp"] == f["start"][:-1] + ".000Z"
        for e in events
    )


def test_gap(fleet: Fleet) -> None:
    f = fault("gap")
    device = fleet.device(f["device_id"])
    assert device is not None
    start, end = ts(f["start"]), ts(f["end"])
    assert end - start >= 3 * 86_400
    h = fleet.history(device, [HEAT, POWER, "default.1"], start - 3600, end + 3600, NOW_S)
    inside = (h.times >= start) & (h.times < end)
    assert np.isnan(h.values[HEAT][inside]).all() and np.isnan(h.values[POWER][inside]).all()
    assert all(v is None for v in h.values["default.1"][inside])
    assert not np.isnan(h.values[HEAT][~inside]).any()
    before = h.values[HEAT][~inside][h.times[~inside] < start][-1]
    after = h.values[HEAT][~inside][h.times[~inside] >= end][0]
    assert after - before > 50 * 3.6e6  # days of February heating happened in the gap
    state = fleet.state(device, datetime.fromtimestamp(start + 86_400, tz=UTC), NOW)
    assert state["timestamp"] == datetime.fromtimestamp(start - 300, tz=UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"
    )


def test_glitch(fleet: Fleet) -> None:
    f = fault("glitch")
    device = fleet.device(f["device_id"])
    assert device is not None
    at = ts(f["start"])
    h = fleet.history(device, [HEAT], at - 3600, at + 3600, NOW_S)
    heat = h.values[HEAT]
    i = int(np.searchsorted(h.times, at))
    assert heat[i] == 0.0
    assert heat[i - 1] > 1e9 and heat[i + 1] >= heat[i - 1]
    assert (np.delete(heat, i) > 0).all()


def test_low_delta_t_summer_2018(fleet: Fleet) -> None:
    f = fault("low_delta_t")
    device = fleet.device(f["device_id"])
    assert device is not None and "Kühlung" in device.display_name
    start = ts(f["start"])
    dps = [DT, RELFLOW, "evcloud.190"]
    sick = fleet.history(device, dps, start, start + 14 * 86_400, NOW_S).values
    well = fleet.history(device, dps, start - 21 * 86_400, start - 7 * 86_400, NOW_S).values
    busy = sick[RELFLOW] > 50.0
    assert busy.mean() > 0.1
    assert np.median(sick[DT][busy]) < 3.0 and sick["evcloud.190"][0] == 6.0
    assert np.median(sick[RELFLOW][busy]) > 95.0
    open_ = well[RELFLOW] > 5.0
    assert np.median(well[DT][open_]) > 4.0


def test_history_types_and_unknown_ids(fleet: Fleet) -> None:
    device = demo(fleet)[0]
    ids = ["default.1", HEAT, "nope.1", "metadata.5", "evcloud.10"]
    h = fleet.history(device, ids, NOW_S - 3600, NOW_S + 3600, NOW_S)
    assert list(h.values) == ["default.1", HEAT, "metadata.5", "evcloud.10"]
    assert h.times[-1] == NOW_S and len(h.times) == 13
    assert h.values[HEAT].dtype == np.float64 and h.values["default.1"].dtype == object
    assert fleet.numeric(device, HEAT) and fleet.numeric(device, "evcloud.10")
    assert not fleet.numeric(device, "default.1") and not fleet.numeric(device, "metadata.5")
    assert not fleet.numeric(device, "nope.1")
    early = fleet.history(device, [HEAT], 0, ts("2017-01-01T00:10:00Z"), NOW_S)
    assert list(early.times) == [ts("2017-01-01T00:00:00Z"), ts("2017-01-01T00:05:00Z")]
    assert fleet.state(device, datetime(2016, 1, 1, tzinfo=UTC), NOW)["timestamp"] is None
    for empty in (
        fleet.history(device, ids, NOW_S, NOW_S + 3600, NOW_S - 86_400),
        fleet.history(device, ids, 0, 1000, NOW_S),
    ):
        assert empty.times.size == 0 and all(v.size == 0 for v in empty.values.values())


def test_gateway(fleet: Fleet) -> None:
    gateway = next(d for d in demo(fleet) if d.kind == "gateway")
    ids = fleet.datapoint_ids(gateway)
    assert "default.1" in ids and "metadata.1001" in ids
    h = fleet.history(gateway, ids, NOW_S - 86_400, NOW_S, NOW_S)
    for dp in ids:
        if fleet.numeric(gateway, dp):
            assert not np.isnan(h.values[dp]).any(), dp
    body = fleet.device_json(gateway, NOW)
    assert body["dataprofile"]["entityId"] == gateway.dataprofile


def test_timeline(fleet: Fleet) -> None:
    device = demo(fleet)[0]
    events = fleet.timeline(device, NOW)
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps, reverse=True)
    assert all(MS.match(s) for s in stamps)
    assert {e["type"] for e in events} == {"METADATA_CHANGE", "SOFTWARE_CHANGE"}
    first = events[-1]
    assert first["type"] == "METADATA_CHANGE"
    assert first["details"]["values"]["metadata.1001"] == device.display_name
    assert len(fleet.timeline(device, datetime(2017, 6, 1, tzinfo=UTC))) < len(events)


def test_never_connected_and_unregistered_devices(fleet: Fleet) -> None:
    """Real accounts hold devices that never sent anything: ``lastSeen`` null or missing."""
    silent = [d for d in demo(fleet) if fleet.health(d, NOW)["state"] == "UNKNOWN"]
    assert len(silent) == 2
    bodies = [fleet.device_json(d, NOW) for d in silent]
    never = [b for b in bodies if "lastSeen" in b["health"]]
    unregistered = [b for b in bodies if "lastSeen" not in b["health"]]
    assert len(never) == len(unregistered) == 1
    assert never[0]["health"]["lastSeen"] is None
    for device, body in zip(silent, bodies, strict=True):
        assert body["health"]["onlineDays"] == 0 and body["health"]["description"] is None
        assert body["state"] == {"timestamp": None, "datapoints": {}}
        assert fleet.last_seen(device, NOW) is None
        history = fleet.history(device, [HEAT], NOW_S - 3600, NOW_S + 1, NOW_S)
        assert np.isnan(history.values[HEAT]).all()
