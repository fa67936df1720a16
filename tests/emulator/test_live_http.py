"""The change stream: offers, events per sample at a fast fleet clock, heartbeats, expiry,
drops and stalls from the control plane, writes and tenant isolation."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from emulator_http import HTTP, SECOND_USER, error, first_valve, get, login, ok
from live_http import StreamReader, post, write_token

POWER, SETPOINT = "evcloud.140", "evcloud.40"


def offer(url: str, token: str, **body: Any) -> dict[str, Any]:
    found: dict[str, Any] = ok(post(url, token, "/devices/change-stream", body))
    return found


def valves(url: str, token: str, count: int) -> list[str]:
    found = ok(get(url, token, "/devices", search="Heizung", state="REGISTERED", limit=100))
    return [d["id"] for d in found["data"] if d["health"]["state"] == "OK"][:count]


def samples(reader: StreamReader) -> list[tuple[str, str]]:
    return [
        (e["deviceId"], e["device"]["state"]["timestamp"]) for e in reader.events() if "device" in e
    ]


def test_offer_shape_and_the_token_as_credential(make_emulator: Callable[..., str]) -> None:
    url = make_emulator(rate_limit=0, heartbeat=0.1)
    token = login(url)
    got = offer(url, token)
    assert set(got) == {"token", "validUntil"}
    assert got["validUntil"].endswith("Z") and len(got["validUntil"]) == 24
    reader = StreamReader(url, got["token"])  # no bearer token
    assert reader.wait_for(lambda r: r.lines.count(":heartbeat") >= 3)
    assert reader.status == 200 and reader.content_type.startswith("text/event-stream")
    assert reader.events() == []  # a frozen fleet sends no samples
    error(HTTP.get(f"{url}/api/v3/devices/change-stream/unknown"), 404, "not_found")
    error(post(url, None, "/devices/change-stream", {}), 401)
    bad = {"includedDeviceIds": "all"}
    error(post(url, token, "/devices/change-stream", bad), 400, "invalid_request")


def test_offers_expire(make_emulator: Callable[..., str]) -> None:
    url = make_emulator(rate_limit=0, subscription_ttl=1.0, heartbeat=0.1)
    got = offer(url, login(url))
    reader = StreamReader(url, got["token"])
    assert reader.ended.wait(10), "the stream ends when its offer expires"
    assert reader.error is None
    error(HTTP.get(f"{url}/api/v3/devices/change-stream/{got['token']}"), 410, "expired")


def test_a_fast_clock_streams_every_sample_once_and_as_history_has_it(
    make_emulator: Callable[..., str],
) -> None:
    url = make_emulator(rate_limit=0, speed=3000.0, heartbeat=0.5)
    token = login(url)
    three = valves(url, token, 3)
    got = offer(url, token, includedDeviceIds=three, includedDatapointIds=[POWER])
    reader = StreamReader(url, got["token"])
    assert reader.wait_for(lambda r: len(samples(r)) >= 15)
    # Heartbeats keep their beat while events flow.
    assert reader.wait_for(lambda r: r.lines.count(":heartbeat") >= 3)
    seen = samples(reader)
    assert len(seen) == len(set(seen)), "no sample twice"
    assert {device for device, _ in seen} == set(three)
    event = next(e for e in reader.events() if "device" in e)
    assert set(event["device"]["state"]["datapoints"]) == {POWER}
    assert event["device"]["id"] == event["deviceId"]
    for device in three:
        stamps = sorted(t for d, t in seen if d == device)
        first, last = stamps[0], stamps[-1]
        raw = ok(
            get(
                url,
                token,
                f"/devices/{device}/data/history/datapoints/{POWER}",
                limit=2000,
                **{"from": first, "to": last[:-5] + ".001Z"},
            )
        )["data"]
        assert [s["timestamp"] for s in raw] == [t[:-5] + "Z" for t in stamps]
        streamed = {
            e["device"]["state"]["timestamp"]: e["device"]["state"]["datapoints"][POWER]["value"]
            for e in reader.events()
            if e["deviceId"] == device
        }
        assert [s["value"] for s in raw] == [streamed[t] for t in stamps]


@pytest.mark.parametrize("abort", [True, False])
def test_the_control_plane_drops_streams(make_emulator: Callable[..., str], abort: bool) -> None:
    url = make_emulator(rate_limit=0, heartbeat=0.1)
    got = offer(url, login(url))
    reader = StreamReader(url, got["token"])
    assert reader.wait_for(lambda r: ":heartbeat" in r.lines)
    assert ok(HTTP.get(f"{url}/_emulator/streams"))["open"] == 1
    dropped = ok(HTTP.post(f"{url}/_emulator/streams/drop", json={"abort": abort}))
    assert dropped["dropped"] == 1
    assert reader.ended.wait(10)
    assert (reader.error is not None) is abort
    again = StreamReader(url, got["token"])  # the same offer opens again until it expires
    assert again.wait_for(lambda r: ":heartbeat" in r.lines)
    assert again.error is None


def test_the_control_plane_stalls_streams(make_emulator: Callable[..., str]) -> None:
    url = make_emulator(rate_limit=0, heartbeat=0.05)
    reader = StreamReader(url, offer(url, login(url))["token"])
    assert reader.wait_for(lambda r: ":heartbeat" in r.lines)
    stalled = ok(HTTP.post(f"{url}/_emulator/streams/stall", json={"seconds": 60}))
    assert stalled["stalledFor"] > 0
    time.sleep(0.2)  # let a line already on its way arrive
    quiet = len(reader.lines)
    time.sleep(0.5)
    assert len(reader.lines) == quiet, "a stalled stream sends nothing, not even heartbeats"
    ok(HTTP.post(f"{url}/_emulator/streams/stall", json={"seconds": 0}))
    assert reader.wait_for(lambda r: len(r.lines) > quiet)
    error(HTTP.post(f"{url}/_emulator/streams/stall", json={"seconds": -1}), 400)


def test_writes_and_metadata_reach_the_stream(make_emulator: Callable[..., str]) -> None:
    url = make_emulator(rate_limit=0, job_delay=0.05, heartbeat=0.2)
    token = write_token(url)
    valve = first_valve(url, token)["id"]
    reader = StreamReader(url, offer(url, token, includedDeviceIds=[valve])["token"])
    assert reader.wait_for(lambda r: ":heartbeat" in r.lines)
    ok(post(url, token, f"/devices/{valve}/data", {"datapoints": {SETPOINT: 22.0}}))

    def written(r: StreamReader) -> bool:
        return any(
            e["device"]["state"]["datapoints"].get(SETPOINT) == {"value": 22.0} for e in r.events()
        )

    assert reader.wait_for(written)
    meta = {"datapoints": {"metadata.1001": "Streamed name"}}
    assert post(url, token, f"/devices/{valve}/metadata", meta).status_code == 204
    assert reader.wait_for(
        lambda r: any(e["device"]["displayName"] == "Streamed name" for e in r.events())
    )


def test_a_stream_shows_only_the_tenants_devices(make_emulator: Callable[..., str]) -> None:
    url = make_emulator(rate_limit=0, speed=1500.0, heartbeat=0.2)
    demo = login(url)
    theirs = valves(url, demo, 2)
    other = login(url, SECOND_USER)
    reader = StreamReader(url, offer(url, other, includedDeviceIds=theirs)["token"])
    assert reader.wait_for(lambda r: r.lines.count(":heartbeat") >= 2)
    events = reader.events()
    assert events == [{"deviceId": device} for device in theirs]
    everything = StreamReader(url, offer(url, other)["token"])
    assert everything.wait_for(lambda r: len(samples(r)) >= 3)
    mine = ok(get(url, other, "/devices", limit=100))["data"]
    assert {d for d, _ in samples(everything)} <= {d["id"] for d in mine}


def test_the_clock_runs_at_the_set_speed(make_emulator: Callable[..., str]) -> None:
    url = make_emulator()
    frozen = ok(HTTP.get(f"{url}/_emulator/clock"))
    running = ok(HTTP.put(f"{url}/_emulator/clock", json={"speed": 3600}))
    assert running["speed"] == 3600 and running["frozen"] is False
    assert running["now"] >= frozen["now"]
    time.sleep(0.3)
    later = ok(HTTP.get(f"{url}/_emulator/clock"))
    assert later["now"] > frozen["now"]
    error(HTTP.put(f"{url}/_emulator/clock", json={"speed": -2}), 400)
    error(HTTP.put(f"{url}/_emulator/clock", json={"speed": "fast"}), 400)


def test_devices_without_the_included_datapoints_send_nothing(
    make_emulator: Callable[..., str],
) -> None:
    url = make_emulator(rate_limit=0, speed=3000.0, heartbeat=0.1)
    token = login(url)
    listed = ok(get(url, token, "/devices", limit=100))["data"]
    gateway = next(d["id"] for d in listed if "gateway" in d["dataprofile"]["entityId"])
    valve = valves(url, token, 1)[0]
    body = {"includedDeviceIds": [gateway, valve], "includedDatapointIds": [POWER]}
    reader = StreamReader(url, offer(url, token, **body)["token"])
    assert reader.wait_for(lambda r: len(samples(r)) >= 5)
    assert {device for device, _ in samples(reader)} == {valve}
