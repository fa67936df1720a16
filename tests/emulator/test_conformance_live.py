"""The live half answers what Belimo's spec says: schemas and every key of the examples.

Covers create-subscription, open-subscription (each event's device against the device
schema and the stream example's keys), post-device-data, get-job, put-job-state and
post-device-metadata.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
from emulator_http import HTTP, first_valve, get, ok
from live_http import StreamReader, post, wait_job, write_token
from test_conformance import missing_keys

pytestmark = pytest.mark.spec


def operation(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    found: dict[str, Any] = spec["paths"][path][method]
    return found


def check(spec: dict[str, Any], schema: dict[str, Any], body: Any) -> None:
    full = {**schema, "definitions": spec["definitions"]}
    errors = list(jsonschema.Draft4Validator(full).iter_errors(body))
    assert not errors, "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def check_response(spec: dict[str, Any], path: str, method: str, body: Any) -> None:
    """Schema and example keys of a 200 answer."""
    response = operation(spec, path, method)["responses"]["200"]
    check(spec, response["schema"], body)
    example = json.loads(response["examples"]["application/json"])
    assert missing_keys(example, body) == []


def check_request_example(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    """The spec's request example, validated against its own body schema (sanity)."""
    body_param = next(p for p in operation(spec, path, method)["parameters"] if p["in"] == "body")
    example: dict[str, Any] = json.loads(body_param["x-examples"]["application/json"])
    check(spec, body_param["schema"], example)
    return example


@pytest.fixture
def cloud(make_emulator: Callable[..., str]) -> dict[str, Any]:
    url = make_emulator(rate_limit=0, job_delay=0.05, speed=3000.0, heartbeat=0.2)
    token = write_token(url)
    return {"url": url, "token": token, "valve": first_valve(url, token)["id"]}


def test_subscription_offer_and_stream(spec: dict[str, Any], cloud: dict[str, Any]) -> None:
    url, token, valve = cloud["url"], cloud["token"], cloud["valve"]
    path = "/api/v3/devices/change-stream"
    request = check_request_example(spec, path, "post")
    assert set(request) == {"includedDatapointIds", "includedDeviceIds"}
    body = {"includedDeviceIds": [valve], "includedDatapointIds": []}
    offer = ok(post(url, token, "/devices/change-stream", body))
    check_response(spec, path, "post", offer)

    stream_op = operation(spec, "/api/v3/devices/change-stream/{token}", "get")
    assert stream_op["produces"] == ["text/event-stream"]
    example_text = stream_op["responses"]["200"]["examples"]["text/event-stream"]
    example_events = [
        json.loads(line[5:]) for line in example_text.split("\n") if line.startswith("data:")
    ]
    with_device = next(e for e in example_events if "device" in e)
    assert ":heartbeat" in example_text.split("\n")

    reader = StreamReader(url, offer["token"])
    assert reader.wait_for(lambda r: any("device" in e for e in r.events()))
    assert reader.lines[0] == ":heartbeat"
    device_schema = operation(spec, "/api/v3/devices/{deviceId}", "get")["responses"]["200"]
    for event in reader.events():
        assert missing_keys(with_device, event) == []
        check(spec, device_schema["schema"], event["device"])
    frames = [line for line in reader.lines if line]
    assert all(line.startswith(("data:", ":")) for line in frames)


def test_device_data_write_and_job(spec: dict[str, Any], cloud: dict[str, Any]) -> None:
    url, token, valve = cloud["url"], cloud["token"], cloud["valve"]
    path = "/api/v3/devices/{deviceId}/data"
    request = check_request_example(spec, path, "post")
    body = {key: value for key, value in request.items() if key != "datapoints"}
    body["datapoints"] = {"evcloud.40": 16.0}
    job = ok(post(url, token, f"/devices/{valve}/data", body))
    check_response(spec, path, "post", job)
    done = wait_job(url, token, job["id"])
    assert done["state"] == "SUCCESS"
    check_response(spec, "/api/v3/jobs/{jobId}", "get", done)


def test_cancel_job_state(spec: dict[str, Any], make_emulator: Callable[..., str]) -> None:
    url = make_emulator(rate_limit=0, job_delay=600)
    token = write_token(url)
    valve = first_valve(url, token)["id"]
    state_op = operation(spec, "/api/v3/jobs/{jobId}/state", "put")
    assert state_op["consumes"] == ["text/plain"] and "204" in state_op["responses"]
    text = next(p for p in state_op["parameters"] if p["in"] == "body")["x-examples"]["text/plain"]
    body = {"datapoints": {"evcloud.40": 16.0}, "cancelable": True}
    job = ok(post(url, token, f"/devices/{valve}/data", body))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/plain"}
    response = HTTP.put(f"{url}/api/v3/jobs/{job['id']}/state", content=text, headers=headers)
    assert response.status_code == 204
    canceled = ok(get(url, token, f"/jobs/{job['id']}"))
    job_schema = operation(spec, "/api/v3/jobs/{jobId}", "get")["responses"]["200"]["schema"]
    check(spec, job_schema, canceled)


def test_device_metadata(spec: dict[str, Any], cloud: dict[str, Any]) -> None:
    url, token, valve = cloud["url"], cloud["token"], cloud["valve"]
    path = "/api/v3/devices/{deviceId}/metadata"
    request = check_request_example(spec, path, "post")
    assert "204" in operation(spec, path, "post")["responses"]
    response = post(url, token, f"/devices/{valve}/metadata", request)
    assert response.status_code == 204
    state = ok(get(url, token, f"/devices/{valve}/data"))["datapoints"]
    for dp, value in request["datapoints"].items():
        assert state[dp] == {"value": value}
