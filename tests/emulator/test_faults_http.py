"""Injected faults and limits over real HTTP, and the /_emulator/ control surface."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest
from emulator_http import HTTP, error, first_valve, get, login, ok


def data_path(url: str, token: str) -> str:
    return f"/devices/{first_valve(url, token)['id']}/data"


def test_rate_limit_answers_429_with_retry_after(make_emulator: Callable[..., str]) -> None:
    url = make_emulator(rate_limit=1.0, rate_burst=2)
    token = login(url)
    path = data_path(url, token)
    statuses = [get(url, token, path).status_code for _ in range(3)]
    assert statuses[:2] == [200, 200]
    assert statuses[2] == 429
    limited = get(url, token, path)
    body = error(limited, 429, "too_many_requests")
    assert "rate limit" in body["error_description"]
    retry_after = limited.headers["Retry-After"]
    assert retry_after.isdigit()
    assert int(retry_after) >= 1
    # Another token has its own bucket; non-data endpoints are not limited.
    other = login(url)
    ok(get(url, other, path))
    for _ in range(5):
        ok(get(url, token, "/devices/stats"))
    counters = ok(HTTP.get(f"{url}/_emulator/faults"))["counters"]
    assert counters["rateLimited"] >= 2


def test_rate_limit_recovers_after_retry_after(make_emulator: Callable[..., str]) -> None:
    url = make_emulator(rate_limit=5.0, rate_burst=1)
    token = login(url)
    path = data_path(url, token)
    ok(get(url, token, path))
    assert get(url, token, path).status_code == 429
    time.sleep(0.25)
    ok(get(url, token, path))


def test_rate_limit_covers_every_data_endpoint(make_emulator: Callable[..., str]) -> None:
    url = make_emulator(rate_limit=0.01, rate_burst=1)
    token = login(url)
    device = first_valve(url, token)["id"]
    window = {"from": "2018-01-01T00:00:00Z", "to": "2018-01-01T01:00:00Z"}
    for path, query in (
        (f"/devices/{device}/data", {}),
        (f"/devices/{device}/data/history/timeseries", {"datapointIds": "evcloud.210", **window}),
        (f"/devices/{device}/data/history/datapoints/evcloud.210", window),
        (f"/devices/{device}/data/download", window),
    ):
        fresh = login(url)
        assert get(url, fresh, path, **query).status_code == 200, path
        assert get(url, fresh, path, **query).status_code == 429, path


def test_error_rate_one_answers_503(make_emulator: Callable[..., str]) -> None:
    url = make_emulator(error_rate=1.0)
    token = login(url)  # the token endpoint is never failed on purpose
    body = error(get(url, token, "/devices"), 503, "service_unavailable")
    assert "injected" in body["error_description"]
    ok(get(url, None, "/api-info"))  # api-info stays up as a health check


def test_error_rate_is_a_fraction(make_emulator: Callable[..., str]) -> None:
    url = make_emulator(error_rate=0.5, seed=1)
    token = login(url)
    statuses = [get(url, token, "/devices/stats").status_code for _ in range(60)]
    assert set(statuses) == {200, 503}
    assert 15 <= statuses.count(503) <= 45


def test_drop_rate_closes_the_connection_without_an_answer(
    make_emulator: Callable[..., str],
) -> None:
    url = make_emulator(drop_rate=1.0)
    token = login(url)
    with httpx.Client() as client, pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.get(f"{url}/api/v3/devices", headers={"Authorization": f"Bearer {token}"})
    # The server itself is fine afterwards.
    ok(get(url, None, "/api-info"))
    ok(HTTP.put(f"{url}/_emulator/faults", json={"drop_rate": 0}))
    ok(get(url, token, "/devices"))
    assert ok(HTTP.get(f"{url}/_emulator/faults"))["counters"]["drops"] == 1


def test_latency_delays_api_answers(make_emulator: Callable[..., str]) -> None:
    url = make_emulator(latency_ms=300)
    token = login(url)
    started = time.monotonic()
    ok(get(url, token, "/devices/stats"))
    assert time.monotonic() - started >= 0.3


def test_control_faults_roundtrip_and_validation(make_emulator: Callable[..., str]) -> None:
    url = make_emulator()
    settings = ok(HTTP.get(f"{url}/_emulator/faults"))
    assert settings["error_rate"] == 0
    assert set(settings["counters"]) == {"requests", "errors", "drops", "rateLimited"}
    changed = ok(HTTP.put(f"{url}/_emulator/faults", json={"error_rate": 1, "latency_ms": 5}))
    assert (changed["error_rate"], changed["latency_ms"]) == (1, 5)
    token = login(url)
    error(get(url, token, "/devices"), 503)
    for bad in ({"error_rate": 1.5}, {"colour": 1}, {"drop_rate": "high"}):
        error(HTTP.put(f"{url}/_emulator/faults", json=bad), 400, "invalid_request")
    error(HTTP.put(f"{url}/_emulator/faults", content=b"[1]"), 400)
    # Reset restores the start settings and forgets tokens.
    ok(HTTP.post(f"{url}/_emulator/reset"))
    assert ok(HTTP.get(f"{url}/_emulator/faults"))["error_rate"] == 0
    error(get(url, token, "/devices"), 401, "invalid_token")


def test_control_clock_freezes_and_follows(make_emulator: Callable[..., str]) -> None:
    url = make_emulator()
    token = login(url)
    device = first_valve(url, token)["id"]
    frozen = {"now": "2026-11-20T12:00:00Z", "frozen": True, "speed": 0.0}
    assert ok(HTTP.get(f"{url}/_emulator/clock")) == frozen
    moved = ok(HTTP.put(f"{url}/_emulator/clock", json={"now": "2018-06-20T12:00:00Z"}))
    assert moved == {"now": "2018-06-20T12:00:00Z", "frozen": True, "speed": 0.0}
    state = ok(get(url, token, f"/devices/{device}/data"))
    assert state["timestamp"].startswith("2018-06-20T12:00")
    wall = ok(HTTP.put(f"{url}/_emulator/clock", json={"now": None}))
    assert wall["frozen"] is False
    assert wall["now"] > "2026-01-01"
    error(HTTP.put(f"{url}/_emulator/clock", json={"now": "soon"}), 400)
    error(HTTP.put(f"{url}/_emulator/clock", json={}), 400)


def test_control_lists_designed_faults_and_tenants(emulator_url: str) -> None:
    faults = ok(HTTP.get(f"{emulator_url}/_emulator/designed-faults"))
    kinds = {f["kind"] for f in faults}
    assert kinds == {"meter_replacement", "gap", "glitch", "low_delta_t", "offline"}
    for fault in faults:
        assert {
            "kind",
            "device_id",
            "display_name",
            "datapoint_id",
            "start",
            "end",
            "description",
        } <= set(fault)
    tenants = ok(HTTP.get(f"{emulator_url}/_emulator/tenants"))
    assert [t["devices"] for t in tenants] == [38, 3]
    assert "endpoints" in ok(HTTP.get(f"{emulator_url}/_emulator"))


def test_faults_never_touch_the_control_surface(make_emulator: Callable[..., str]) -> None:
    url = make_emulator(error_rate=1.0, drop_rate=1.0)
    for _ in range(5):
        ok(HTTP.get(f"{url}/_emulator/faults"))


def test_control_surface_refuses_remote_clients() -> None:
    from belimo_cloud.emulator.app import create_app

    async def calls() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=create_app(), client=("203.0.113.7", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
            return await client.get("/_emulator/faults"), await client.get("/api/v3/api-info")

    control, api = asyncio.run(calls())
    assert control.status_code == 403
    assert control.json()["error"] == "forbidden"
    assert api.status_code == 200
