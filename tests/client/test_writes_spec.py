"""The spec's write, job and metadata examples: what the client sends and what it decodes."""

from __future__ import annotations

import json
from typing import Any

from belimo_cloud.client.decode import decode
from belimo_cloud.client.jobs import JOB_STATES, JobInfo
from belimo_cloud.client.models import Datapoint, DataProfile, Device
from belimo_cloud.client.writes import plan_metadata, plan_write


def operation(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    found: dict[str, Any] = spec["paths"][path][method]
    return found


def request_example(spec: dict[str, Any], path: str, method: str, kind: str) -> Any:
    body = next(p for p in operation(spec, path, method)["parameters"] if p["in"] == "body")
    text = body["x-examples"][kind]
    return json.loads(text) if kind == "application/json" else text


def response_example(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(
        operation(spec, path, method)["responses"]["200"]["examples"]["application/json"]
    )
    return doc


HLK = DataProfile(
    id="2uTRMlbK",
    version="1.0",
    datapoints=[
        Datapoint(
            id="772bpRFm.1",
            feature_values={"default.access": "rw", "default.basetype": "real"},
        ),
        Datapoint(
            id="772bpRFm.3",
            feature_values={"default.access": "rw", "default.basetype": "text"},
        ),
        Datapoint(
            id="772bpRFm.4",
            feature_values={"default.access": "w", "default.basetype": "bool"},
        ),
        *(
            Datapoint(
                id=f"metadata.{n}",
                feature_values={"default.access": "rw", "default.basetype": "text"},
            )
            for n in (1001, 1008, 1009)
        ),
    ],
)
DEVICE = Device(id="011655a2-60d2-477f-83b2-a7b86c59b893", remote_control_enabled=True)


def test_a_write_sends_exactly_the_specs_example_body(spec: dict[str, Any]) -> None:
    expected = request_example(spec, "/api/v3/devices/{deviceId}/data", "post", "application/json")
    request = plan_write(
        DEVICE,
        HLK,
        expected["datapoints"],
        mergeable=expected["mergeable"],
        cancelable=expected["cancelable"],
    )
    assert request.body == expected


def test_metadata_sends_exactly_the_specs_example_body(spec: dict[str, Any]) -> None:
    expected = request_example(
        spec, "/api/v3/devices/{deviceId}/metadata", "post", "application/json"
    )
    request = plan_metadata(DEVICE, HLK, expected["datapoints"])
    assert request.body == expected
    assert request.path == f"/devices/{DEVICE.id}/metadata"


def test_the_cancel_body_is_the_specs(spec: dict[str, Any]) -> None:
    assert request_example(spec, "/api/v3/jobs/{jobId}/state", "put", "text/plain") == "CANCELED"
    assert "CANCELED" in JOB_STATES


def test_job_examples_decode_with_every_key(spec: dict[str, Any]) -> None:
    written = response_example(spec, "/api/v3/devices/{deviceId}/data", "post")
    fetched = response_example(spec, "/api/v3/jobs/{jobId}", "get")
    for doc in (written, fetched):
        job = decode(json.dumps(doc).encode(), JobInfo, "job")
        assert job.id == doc["id"] and job.state == doc["state"]
        assert job.mergeable == doc["mergeable"] and job.cancelable == doc["cancelable"]
        assert job.created_at is not None and job.created_by is not None
        assert job.created_by.entity_id == doc["createdBy"]["entityId"]
        assert job.created_by.email == doc["createdBy"]["email"]
    job = decode(json.dumps(fetched).encode(), JobInfo, "job")
    assert job.confirmed_by == fetched["confirmedBy"] == "DEVICE"
    assert job.result == fetched["result"]
    assert job.confirmed_at is not None
