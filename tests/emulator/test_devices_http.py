"""Device routes over HTTP: list filters, sorting, paging, stats, state, timeline, isolation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from emulator_http import SECOND_USER, devices, error, first_valve, get, login, ok


@pytest.fixture(scope="module")
def token(emulator_url: str) -> str:
    return login(emulator_url)


def test_stats_match_the_tutorial(emulator_url: str, token: str) -> None:
    assert ok(get(emulator_url, token, "/devices/stats")) == {
        "totalDevices": 38,
        "connection": {"offline": 3, "online": 35},
        "health": {"problem": 1, "ok": 35},
        "transfer": {"incoming": 0, "outgoing": 0},
    }
    mine = ok(get(emulator_url, token, "/devices/stats", owner="__UserPlaceHolder__"))
    assert mine["totalDevices"] == 38
    foreign = ok(get(emulator_url, token, "/devices/stats", owner="someone@example.org"))
    assert foreign["totalDevices"] == 0


def test_list_envelope_and_default_page(emulator_url: str, token: str) -> None:
    body = ok(get(emulator_url, token, "/devices"))
    assert body["paging"] == {"total": 38, "offset": 0, "limit": 20}
    assert body["sorting"] == {"field": "displayName", "direction": "ASC"}
    assert body["filter"] == {}
    assert len(body["data"]) == 20
    names = [d["displayName"].casefold() for d in body["data"]]
    assert names == sorted(names)


def test_paging_walks_every_device_once(emulator_url: str, token: str) -> None:
    seen: list[str] = []
    offset = 0
    while True:
        body = ok(get(emulator_url, token, "/devices", limit=7, offset=offset))
        seen += [d["id"] for d in body["data"]]
        offset += len(body["data"])
        if offset >= body["paging"]["total"] or not body["data"]:
            break
    assert len(seen) == len(set(seen)) == 38
    assert ok(get(emulator_url, token, "/devices", offset=100))["data"] == []


def test_search_is_a_case_insensitive_substring(emulator_url: str, token: str) -> None:
    heating = devices(emulator_url, token, search="heizung")
    assert len(heating) >= 5
    assert all("heizung" in d["displayName"].casefold() for d in heating)
    serial = heating[0]["serialNumber"]
    by_serial = devices(emulator_url, token, search=serial[-9:])
    assert heating[0]["id"] in [d["id"] for d in by_serial]
    assert devices(emulator_url, token, search="no such valve") == []


def test_state_filter(emulator_url: str, token: str) -> None:
    registered = devices(emulator_url, token, state="REGISTERED")
    unregistered = devices(emulator_url, token, state="unregistered")
    assert all(d["health"].get("lastSeen") for d in registered)
    assert not any(d["health"].get("lastSeen") for d in unregistered)
    assert len(registered) + len(unregistered) == 38
    body = ok(get(emulator_url, token, "/devices", state="registered"))
    assert body["filter"] == {"state": "REGISTERED"}


@pytest.mark.parametrize(
    "field",
    [
        "id",
        "productionId",
        "serialNumber",
        "deviceType",
        "health.state",
        "addressCity",
        "dataprofile.displayName",
        "owner.displayName",
        "projectName",
    ],
)
def test_sorting_by_every_kind_of_field(emulator_url: str, token: str, field: str) -> None:
    def value(device: dict[str, Any]) -> str:
        found: Any = device
        for part in field.split("."):
            found = (found or {}).get(part)
        return str(found or "").casefold()

    for direction in ("ASC", "DESC"):
        body = ok(
            get(emulator_url, token, "/devices", limit=2000, sortBy=field, sortDirection=direction)
        )
        assert body["sorting"] == {"field": field, "direction": direction}
        values = [value(d) for d in body["data"]]
        assert values == sorted(values, reverse=direction == "DESC")


def test_owner_filter(emulator_url: str, token: str) -> None:
    body = ok(get(emulator_url, token, "/devices", owner="__UserPlaceHolder__"))
    assert body["paging"]["total"] == 38
    assert body["filter"] == {"owner": "__UserPlaceHolder__"}
    assert devices(emulator_url, token, owner=SECOND_USER[0]) == []


def test_one_device_and_its_state(emulator_url: str, token: str) -> None:
    valve = first_valve(emulator_url, token)
    body = ok(get(emulator_url, token, f"/devices/{valve['id']}"))
    assert body["id"] == valve["id"]
    assert body["dataprofile"]["ref"] == "/definitions/dataprofiles/energyvalve3/1.2"
    datapoints = body["state"]["datapoints"]
    assert isinstance(datapoints["evcloud.210"]["value"], float)
    now = ok(get(emulator_url, token, f"/devices/{valve['id']}/data"))
    assert set(now) == {"timestamp", "datapoints"}
    assert now["timestamp"] <= "2026-11-20T12:00:00.000Z"


def test_data_at_accepts_iso_and_epoch_ms(emulator_url: str, token: str) -> None:
    valve = first_valve(emulator_url, token)
    at = datetime(2018, 6, 20, 11, 4, 6, tzinfo=UTC)
    iso = ok(get(emulator_url, token, f"/devices/{valve['id']}/data", at="2018-06-20T11:04:06Z"))
    millis = ok(
        get(emulator_url, token, f"/devices/{valve['id']}/data", at=int(at.timestamp() * 1000))
    )
    assert iso == millis
    assert iso["timestamp"].startswith("2018-06-20T11:0")
    later = ok(get(emulator_url, token, f"/devices/{valve['id']}/data", at="2018-12-20T11:04:06Z"))
    heating = "evcloud.210"
    assert later["datapoints"][heating]["value"] > iso["datapoints"][heating]["value"]


def test_timeline_is_newest_first_and_pages(emulator_url: str, token: str) -> None:
    valve = first_valve(emulator_url, token)
    path = f"/devices/{valve['id']}/timeline"
    body = ok(get(emulator_url, token, path))
    assert body["sorting"] == {"field": "timestamp", "direction": "DESC"}
    assert "filter" not in body
    stamps = [e["timestamp"] for e in body["data"]]
    assert stamps == sorted(stamps, reverse=True)
    ascending = ok(get(emulator_url, token, path, sortDirection="ASC"))
    assert [e["timestamp"] for e in ascending["data"]] == sorted(stamps)
    first = ok(get(emulator_url, token, path, limit=1, offset=1))
    assert first["data"] == body["data"][1:2]
    assert first["paging"] == {"total": body["paging"]["total"], "offset": 1, "limit": 1}
    since = ok(get(emulator_url, token, path, **{"from": stamps[0]}))
    assert [e["timestamp"] for e in since["data"]] == [stamps[0]]


def test_tenants_are_isolated(emulator_url: str, token: str) -> None:
    other = login(emulator_url, SECOND_USER)
    theirs = devices(emulator_url, other)
    assert len(theirs) == 3
    ours = {d["id"] for d in devices(emulator_url, token)}
    assert not ours & {d["id"] for d in theirs}
    assert ok(get(emulator_url, other, "/devices/stats"))["totalDevices"] == 3
    foreign = first_valve(emulator_url, token)["id"]
    for path in (
        f"/devices/{foreign}",
        f"/devices/{foreign}/data",
        f"/devices/{foreign}/timeline",
        f"/devices/{foreign}/data/history/timeseries?datapointIds=evcloud.210",
        f"/devices/{foreign}/data/history/datapoints/evcloud.210",
        f"/devices/{foreign}/data/download",
    ):
        error(get(emulator_url, other, path), 404, "not_found")
    # ... and the owner sees it.
    ok(get(emulator_url, token, f"/devices/{foreign}"))


def test_unknown_device_is_404(emulator_url: str, token: str) -> None:
    error(get(emulator_url, token, "/devices/00000000-0000-0000-0000-000000000000"), 404)


def test_gateway_network_lists_the_valves(emulator_url: str, token: str) -> None:
    gateway = next(d for d in devices(emulator_url, token, search="Gateway"))
    networks = ok(get(emulator_url, token, f"/devices/{gateway['id']}/networks"))
    assert networks == {"networks": [{"name": "ipv4", "type": "ethernet"}]}
    network = ok(get(emulator_url, token, f"/devices/{gateway['id']}/networks/ipv4"))
    assert network["devices"]
    error(get(emulator_url, token, f"/devices/{gateway['id']}/networks/can"), 404)
    valve = first_valve(emulator_url, token)
    assert ok(get(emulator_url, token, f"/devices/{valve['id']}/networks")) == {"networks": []}


def test_user(emulator_url: str, token: str) -> None:
    user = ok(get(emulator_url, token, "/user"))
    assert user["email"] == "__UserPlaceHolder__"
    assert set(user) == {
        "id",
        "email",
        "accountActivated",
        "locale",
        "roles",
        "firstName",
        "lastName",
    }


def test_data_before_the_first_sample_is_an_empty_state(emulator_url: str, token: str) -> None:
    valve = first_valve(emulator_url, token)
    body = ok(get(emulator_url, token, f"/devices/{valve['id']}/data", at="0"))
    assert body == {"timestamp": "1970-01-01T00:00:00.000Z", "datapoints": {}}
