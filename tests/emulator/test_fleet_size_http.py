"""fleet_size over HTTP: paging walks every device, and every endpoint serves generated valves."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from emulator_http import HTTP, get, login, ok
from live_http import StreamReader, post, wait_job, write_token

from belimo_cloud.emulator import EmulatorOptions, running_emulator
from belimo_cloud.emulator.model.resample import resample

SIZE = 240
NOW = datetime(2019, 3, 1, 12, tzinfo=UTC)
POWER, HEAT, COOL, SETPOINT = "evcloud.140", "evcloud.210", "evcloud.200", "evcloud.40"
WEEK = {"from": "2018-11-05T00:00:00Z", "to": "2018-11-12T00:00:00Z"}


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    options = EmulatorOptions(seed=0, now=NOW, rate_limit=0, fleet_size=SIZE, job_delay=0.05)
    with running_emulator(options) as base:
        yield base


@pytest.fixture(scope="module")
def token(url: str) -> str:
    return write_token(url)


def newest_valves(url: str, token: str, count: int) -> list[dict[str, Any]]:
    """The last-produced valves: generated ones."""
    page = ok(get(url, token, "/devices", sortBy="productionId", sortDirection="DESC", limit=count))
    return list(page["data"])


def test_paging_walks_every_device_once(url: str, token: str) -> None:
    seen: list[str] = []
    total = None
    while total is None or len(seen) < total:
        page = ok(get(url, token, "/devices", limit=37, offset=len(seen)))
        total = page["paging"]["total"]
        assert page["data"], "a page before the end is never empty"
        for body in page["data"]:
            # Page bodies are whole device objects: the state of each one that ever sent.
            assert bool(body["state"]["datapoints"]) == bool(body["health"].get("lastSeen"))
        seen.extend(body["id"] for body in page["data"])
    assert total == SIZE + 2  # the valves and the two gateways
    assert len(set(seen)) == len(seen) == total
    names = [ok(get(url, token, f"/devices/{device_id}"))["displayName"] for device_id in seen[:40]]
    assert names == sorted(names, key=str.casefold)  # the default order: by display name


def test_search_finds_generated_valves_by_building(url: str, token: str) -> None:
    valve = newest_valves(url, token, 1)[0]
    street = valve["displayName"].split(" ", 2)[2].rsplit(" ", 2)[0]  # "Aeschengraben 12"
    found = ok(get(url, token, "/devices", search=street, limit=2000))
    assert found["paging"]["total"] == len(found["data"]) >= 1
    assert valve["id"] in {d["id"] for d in found["data"]}
    assert all(street in d["displayName"] for d in found["data"])


def test_every_read_endpoint_serves_a_generated_valve(url: str, token: str) -> None:
    valve = newest_valves(url, token, 1)[0]
    path = f"/devices/{valve['id']}"
    device = ok(get(url, token, path))
    assert device["dataprofile"]["entityId"] == "energyvalve3/1.2"
    assert device["health"]["state"] == "OK"
    assert device["state"]["timestamp"] == "2019-03-01T12:00:00.000Z"
    current = ok(get(url, token, f"{path}/data"))["datapoints"]
    assert current[HEAT]["value"] > 0 or current[COOL]["value"] > 0
    assert ok(get(url, token, f"{path}/timeline"))["data"]
    raw = ok(get(url, token, f"{path}/data/history/datapoints/{POWER}", **WEEK, limit=50))
    assert raw["paging"]["total"] == 7 * 288 and len(raw["data"]) == 50
    profile = ok(get(url, token, "/definitions/dataprofiles/energyvalve3/1.2"))
    assert POWER in {dp["id"] for dp in profile["datapoints"]}
    csv = HTTP.get(
        f"{url}/api/v3{path}/data/download",
        params={"datapointIds": POWER, **WEEK},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert csv.status_code == 200 and len(csv.text.splitlines()) == 7 * 288 + 1


@pytest.mark.parametrize("aggregation", ["last", "first", "min", "max", "avg", "sum", "count"])
@pytest.mark.parametrize("resolution", ["5m", "15m", "1h", "1d", "7d", "50"])
def test_timeseries_of_a_generated_valve_at_every_resolution_and_aggregation(
    url: str, token: str, resolution: str, aggregation: str
) -> None:
    valve = newest_valves(url, token, 1)[0]["id"]
    path = f"/devices/{valve}"
    raw = ok(get(url, token, f"{path}/data/history/datapoints/{POWER}", **WEEK, limit=2000))
    rest = ok(get(url, token, f"{path}/data/history/datapoints/{POWER}", **WEEK, offset=2000))
    samples = raw["data"] + rest["data"]
    times = np.array(
        [
            int(datetime.fromisoformat(s["timestamp"].replace("Z", "+00:00")).timestamp())
            for s in samples
        ]
    )
    values = np.array([float(s["value"]) for s in samples])
    body = ok(
        get(
            url,
            token,
            f"{path}/data/history/timeseries",
            datapointIds=POWER,
            resolution=resolution,
            aggregation=aggregation,
            **WEEK,
        )
    )
    answered_step = body["resolution"]  # a point count is answered as a duration
    step = int(answered_step[:-1]) * {"m": 60, "h": 3600, "d": 86_400}[answered_step[-1]]
    _, expected = resample(times, values, step, aggregation)
    answered = [v["value"] for v in body["series"][0]["values"]]
    np.testing.assert_allclose(answered, expected, rtol=1e-12)


def test_a_write_to_a_generated_valve_becomes_a_job_and_shows(url: str, token: str) -> None:
    valve = next(v for v in newest_valves(url, token, 20) if v["remoteControlEnabled"])["id"]
    job = ok(post(url, token, f"/devices/{valve}/data", {"datapoints": {SETPOINT: 21.5}}))
    assert wait_job(url, token, job["id"])["state"] == "SUCCESS"
    state = ok(get(url, token, f"/devices/{valve}/data"))
    assert state["datapoints"][SETPOINT]["value"] == 21.5


def test_a_change_stream_carries_a_generated_valve(make_emulator: Callable[..., str]) -> None:
    url = make_emulator(rate_limit=0, fleet_size=SIZE, now=NOW, speed=3000.0, heartbeat=0.5)
    token = login(url)
    valve = newest_valves(url, token, 1)[0]["id"]
    got = ok(
        post(
            url,
            token,
            "/devices/change-stream",
            {"includedDeviceIds": [valve], "includedDatapointIds": [POWER]},
        )
    )
    reader = StreamReader(url, got["token"])
    assert reader.wait_for(lambda r: sum("device" in e for e in r.events()) >= 3)
    events = [e for e in reader.events() if "device" in e]
    assert {e["deviceId"] for e in events} == {valve}
    for event in events[:3]:
        state = event["device"]["state"]
        raw = ok(
            get(
                url,
                token,
                f"/devices/{valve}/data/history/datapoints/{POWER}",
                **{"from": state["timestamp"]},
                limit=1,
            )
        )
        assert raw["data"][0]["value"] == state["datapoints"][POWER]["value"]
