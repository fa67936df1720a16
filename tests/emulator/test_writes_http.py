"""Writes through the HTTP API: validation, jobs and their life, metadata, scope, tenants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from emulator_http import HTTP, SECOND_USER, devices, error, first_valve, get, login, ok
from live_http import post, wait_job, write_token

SETPOINT, VMAX, OVERRIDE, POWER = "evcloud.40", "evcloud.50", "evcloud.30", "evcloud.140"


@pytest.fixture
def cloud(make_emulator: Callable[..., str]) -> dict[str, Any]:
    url = make_emulator(rate_limit=0, job_delay=0.05)
    token = write_token(url)
    return {"url": url, "token": token, "valve": first_valve(url, token)["id"]}


def jobs_of(url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ok(HTTP.get(f"{url}/_emulator/jobs"))["jobs"]
    return found


def test_write_becomes_a_job_that_succeeds_and_changes_the_state(cloud: dict[str, Any]) -> None:
    url, token, valve = cloud["url"], cloud["token"], cloud["valve"]
    before = ok(get(url, token, f"/devices/{valve}/data"))["datapoints"][SETPOINT]["value"]
    wanted = 17.5 if before != 17.5 else 18.5
    job = ok(post(url, token, f"/devices/{valve}/data", {"datapoints": {SETPOINT: wanted}}))
    assert job["state"] == "PENDING"
    assert job["mergeable"] is False and job["cancelable"] is False
    assert job["createdBy"]["email"] == "__UserPlaceHolder__"
    done = wait_job(url, token, job["id"])
    assert done["state"] == "SUCCESS" and done["result"] == "ok"
    assert done["confirmedBy"] == "DEVICE" and done["confirmedAt"].endswith("Z")
    state = ok(get(url, token, f"/devices/{valve}/data"))
    assert state["datapoints"][SETPOINT]["value"] == wanted
    device = ok(get(url, token, f"/devices/{valve}"))
    assert device["state"]["datapoints"][SETPOINT]["value"] == wanted
    timeline = ok(get(url, token, f"/devices/{valve}/timeline", limit=1))["data"][0]
    assert timeline["type"] == "CONFIGURATION_CHANGE"
    assert timeline["details"]["values"] == {SETPOINT: str(wanted)}


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({POWER: 5.0}, "read_only"),
        ({SETPOINT: 99.0}, "out_of_range"),
        ({SETPOINT: 0.5}, "out_of_range"),
        ({VMAX: 5.0}, "out_of_range"),
        ({OVERRIDE: 9}, "out_of_range"),
        ({OVERRIDE: 2.5}, "invalid_type"),
        ({SETPOINT: "warm"}, "invalid_type"),
        ({SETPOINT: True}, "invalid_type"),
        ({"metadata.1011": "Switzerland"}, "out_of_range"),
        ({"nope.1": 1}, "unknown_datapoint"),
    ],
)
def test_invalid_writes_are_refused_and_create_no_job(
    cloud: dict[str, Any], values: dict[str, Any], code: str
) -> None:
    url, token, valve = cloud["url"], cloud["token"], cloud["valve"]
    body = error(post(url, token, f"/devices/{valve}/data", {"datapoints": values}), 400, code)
    assert body["datapoint"] == next(iter(values))
    assert body["errors"][0]["code"] == code
    assert jobs_of(url) == []


def test_raw_values_only(cloud: dict[str, Any]) -> None:
    url, token, valve = cloud["url"], cloud["token"], cloud["valve"]
    wrapped = {"datapoints": {SETPOINT: {"value": 4}}}
    error(post(url, token, f"/devices/{valve}/data", wrapped), 400, "invalid_type")
    error(post(url, token, f"/devices/{valve}/data", {"datapoints": {}}), 400, "invalid_request")
    response = HTTP.post(
        f"{url}/api/v3/devices/{valve}/data",
        content=b"{not json",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    error(response, 400, "invalid_request")


def test_flags_are_checked(cloud: dict[str, Any]) -> None:
    url, token, valve = cloud["url"], cloud["token"], cloud["valve"]
    path = f"/devices/{valve}/data"
    both = {"datapoints": {SETPOINT: 12.0}, "mergeable": True, "cancelable": True}
    error(post(url, token, path, both), 400, "invalid_request")
    auto = {"datapoints": {SETPOINT: 12.0}, "autoCancelAfter": "2030-01-01T00:00:00Z"}
    error(post(url, token, path, auto), 400, "invalid_request")
    flag = {"datapoints": {SETPOINT: 12.0}, "mergeable": "yes"}
    error(post(url, token, path, flag), 400, "invalid_request")
    assert jobs_of(url) == []


def test_writes_need_public_write(cloud: dict[str, Any]) -> None:
    url, valve = cloud["url"], cloud["valve"]
    reader = login(url)
    body = {"datapoints": {SETPOINT: 12.0}}
    error(post(url, reader, f"/devices/{valve}/data", body), 403, "insufficient_scope")
    meta = {"datapoints": {"metadata.1001": "x"}}
    error(post(url, reader, f"/devices/{valve}/metadata", meta), 403, "insufficient_scope")
    error(post(url, None, f"/devices/{valve}/data", body), 401)
    assert jobs_of(url) == []


def test_remote_control_disabled_is_refused(cloud: dict[str, Any]) -> None:
    url, token = cloud["url"], cloud["token"]
    listed = devices(url, token)
    locked = [d for d in listed if not d["remoteControlEnabled"]]
    valves = [d for d in locked if d["dataprofile"]["entityId"] == "energyvalve3/1.2"]
    assert valves, "the demo fleet has a valve that takes no remote control"
    body = {"datapoints": {SETPOINT: 12.0}}
    for device in locked:
        response = post(url, token, f"/devices/{device['id']}/data", body)
        error(response, 403, "remote_control_disabled")
    assert jobs_of(url) == []


def test_cancel_a_pending_job(make_emulator: Callable[..., str]) -> None:
    url = make_emulator(rate_limit=0, job_delay=600)
    token = write_token(url)
    valve = first_valve(url, token)["id"]
    body = {"datapoints": {SETPOINT: 12.0}, "cancelable": True}
    job = ok(post(url, token, f"/devices/{valve}/data", body))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/plain"}
    wrong = HTTP.put(f"{url}/api/v3/jobs/{job['id']}/state", content=b"SUCCESS", headers=headers)
    error(wrong, 400, "invalid_request")
    cancel = HTTP.put(f"{url}/api/v3/jobs/{job['id']}/state", content=b"CANCELED", headers=headers)
    assert cancel.status_code == 204 and cancel.content == b""
    got = ok(get(url, token, f"/jobs/{job['id']}"))
    assert got["state"] == "CANCELED" and got["confirmedBy"] == "USER"
    again = HTTP.put(f"{url}/api/v3/jobs/{job['id']}/state", content=b"CANCELED", headers=headers)
    error(again, 409, "conflict")
    fixed = ok(post(url, token, f"/devices/{valve}/data", {"datapoints": {SETPOINT: 13.0}}))
    refused = HTTP.put(
        f"{url}/api/v3/jobs/{fixed['id']}/state", content=b"CANCELED", headers=headers
    )
    error(refused, 409, "conflict")
    state = ok(get(url, token, f"/devices/{valve}/data"))
    assert state["datapoints"][SETPOINT]["value"] not in (12.0, 13.0)


def test_mergeable_writes_merge_into_the_pending_job(make_emulator: Callable[..., str]) -> None:
    url = make_emulator(rate_limit=0, job_delay=600)
    token = write_token(url)
    valve = first_valve(url, token)["id"]
    path = f"/devices/{valve}/data"
    first = ok(post(url, token, path, {"datapoints": {SETPOINT: 12.0}, "mergeable": True}))
    second = ok(post(url, token, path, {"datapoints": {VMAX: 70.0}, "mergeable": True}))
    assert second["id"] == first["id"]
    assert jobs_of(url)[0]["values"] == {SETPOINT: 12.0, VMAX: 70.0}


def test_failed_and_auto_canceled_jobs(make_emulator: Callable[..., str]) -> None:
    url = make_emulator(rate_limit=0, job_delay=0.05)
    token = write_token(url)
    valve = first_valve(url, token)["id"]
    ok(HTTP.put(f"{url}/_emulator/jobs", json={"failNext": 1}))
    job = ok(post(url, token, f"/devices/{valve}/data", {"datapoints": {SETPOINT: 12.0}}))
    failed = wait_job(url, token, job["id"])
    assert failed["state"] == "FAILURE" and failed["error"]["message"]
    assert "result" not in failed
    offline = next(
        f["device_id"]
        for f in ok(HTTP.get(f"{url}/_emulator/designed-faults"))
        if f["kind"] == "offline"
    )
    body = {
        "datapoints": {SETPOINT: 12.0},
        "cancelable": True,
        "autoCancelAfter": "2026-11-20T12:00:00Z",
    }
    waiting = ok(post(url, token, f"/devices/{offline}/data", body))
    assert waiting["autoCancelAfter"] is True
    canceled = wait_job(url, token, waiting["id"])
    assert canceled["state"] == "CANCELED" and canceled["confirmedBy"] == "SYSTEM"


def test_an_offline_device_leaves_its_job_pending(make_emulator: Callable[..., str]) -> None:
    url = make_emulator(rate_limit=0, job_delay=0.0)
    token = write_token(url)
    offline = next(
        f["device_id"]
        for f in ok(HTTP.get(f"{url}/_emulator/designed-faults"))
        if f["kind"] == "offline"
    )
    job = ok(post(url, token, f"/devices/{offline}/data", {"datapoints": {SETPOINT: 12.0}}))
    assert ok(get(url, token, f"/jobs/{job['id']}"))["state"] == "PENDING"


def test_metadata_is_stored_at_once(cloud: dict[str, Any]) -> None:
    url, token, valve = cloud["url"], cloud["token"], cloud["valve"]
    values = {"metadata.1001": "Basement B14.22", "metadata.1009": "Zurich"}
    response = post(url, token, f"/devices/{valve}/metadata", {"datapoints": values})
    assert response.status_code == 204 and response.content == b""
    device = ok(get(url, token, f"/devices/{valve}"))
    assert device["displayName"] == "Basement B14.22" and device["addressCity"] == "Zurich"
    assert device["state"]["datapoints"]["metadata.1001"]["value"] == "Basement B14.22"
    event = ok(get(url, token, f"/devices/{valve}/timeline", limit=1))["data"][0]
    assert event["type"] == "METADATA_CHANGE" and event["details"]["values"] == values
    path = f"/devices/{valve}/metadata"
    error(post(url, token, path, {"datapoints": {SETPOINT: 12.0}}), 400, "unknown_datapoint")
    error(post(url, token, path, {"datapoints": {"metadata.1": "1.2.3.4"}}), 400, "read_only")
    error(post(url, token, path, {"datapoints": {"metadata.1008": "x" * 11}}), 400, "out_of_range")
    error(post(url, token, path, {"datapoints": {"metadata.1012": 200.0}}), 400, "out_of_range")


def test_tenants_cannot_see_each_others_jobs_or_write_their_devices(
    cloud: dict[str, Any],
) -> None:
    url, token, valve = cloud["url"], cloud["token"], cloud["valve"]
    job = ok(post(url, token, f"/devices/{valve}/data", {"datapoints": {SETPOINT: 12.0}}))
    other = login(url, SECOND_USER, "public.read public.write")
    error(get(url, other, f"/jobs/{job['id']}"), 404, "not_found")
    body = {"datapoints": {SETPOINT: 12.0}}
    error(post(url, other, f"/devices/{valve}/data", body), 404, "not_found")
    meta = {"datapoints": {"metadata.1001": "mine now"}}
    error(post(url, other, f"/devices/{valve}/metadata", meta), 404, "not_found")
    headers = {"Authorization": f"Bearer {other}"}
    cancel = HTTP.put(f"{url}/api/v3/jobs/{job['id']}/state", content=b"CANCELED", headers=headers)
    error(cancel, 404, "not_found")
    error(get(url, token, "/jobs/unknown"), 404, "not_found")


def test_reset_forgets_jobs_and_written_values(cloud: dict[str, Any]) -> None:
    url, token, valve = cloud["url"], cloud["token"], cloud["valve"]
    before = ok(get(url, token, f"/devices/{valve}/data"))["datapoints"][SETPOINT]["value"]
    job = ok(post(url, token, f"/devices/{valve}/data", {"datapoints": {SETPOINT: 29.0}}))
    assert wait_job(url, token, job["id"])["state"] == "SUCCESS"
    ok(HTTP.post(f"{url}/_emulator/reset"))
    assert jobs_of(url) == []
    fresh = write_token(url)  # reset forgets tokens too
    after = ok(get(url, fresh, f"/devices/{valve}/data"))["datapoints"][SETPOINT]["value"]
    assert after == before != 29.0
