"""Every implemented GET answers what Belimo's spec says: its schema and its example's keys.

The spec (Swagger 2.0) is read from ../shared/reference by the ``spec`` fixture, which skips
with a reason when the file is absent. Schemas are checked with a Draft 4 validator that
resolves ``#/definitions/...`` against the spec's own definitions.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from emulator_http import first_valve, get, login, ok

from belimo_cloud.emulator import EmulatorOptions
from belimo_cloud.emulator.app import create_app

pytestmark = pytest.mark.spec
REPO = Path(__file__).resolve().parents[2]

# Objects whose keys are data (datapoint ids, feature names, filters), not part of the shape.
FREE_FORM_KEYS = {
    "datapoints",
    "featureValues",
    "properties",
    "details",
    "filter",
    "runningSoftwareModules",
}

Call = tuple[str, str, dict[str, Any]]  # spec path, concrete path, query
LIVE_GET_PATHS = ("/api/v3/jobs/{jobId}", "/api/v3/devices/change-stream/{token}")


def spec_operation(spec: dict[str, Any], path: str) -> dict[str, Any]:
    operation: dict[str, Any] = spec["paths"][path]["get"]
    return operation


def validate_schema(spec: dict[str, Any], operation: dict[str, Any], body: Any) -> None:
    schema = dict(operation["responses"]["200"]["schema"])
    schema["definitions"] = spec["definitions"]
    validator = jsonschema.Draft4Validator(schema)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    assert not errors, "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def missing_keys(example: Any, actual: Any, where: str = "") -> list[str]:
    """Keys of the example that the actual answer lacks (recursively, shape keys only)."""
    missing: list[str] = []
    if isinstance(example, dict) and isinstance(actual, dict):
        for key, value in example.items():
            if key not in actual:
                missing.append(f"{where}.{key}")
            elif key not in FREE_FORM_KEYS:
                missing += missing_keys(value, actual[key], f"{where}.{key}")
    elif isinstance(example, list) and isinstance(actual, list) and example and actual:
        dicts = [e for e in example if isinstance(e, dict)]
        if dicts:
            # A key every example item has must be on every item we answer.
            common = {k: dicts[0][k] for k in set.intersection(*(set(d) for d in dicts))}
            for index, item in enumerate(actual[:50]):
                missing += missing_keys(common, item, f"{where}[{index}]")
    return missing


def example_of(operation: dict[str, Any]) -> Any:
    examples = operation["responses"]["200"].get("examples") or {}
    raw = examples.get("application/json")
    return None if raw is None else json.loads(raw)


@pytest.fixture(scope="module")
def context(emulator_url: str) -> dict[str, Any]:
    token = login(emulator_url)
    valve = first_valve(emulator_url, token)
    devices = ok(get(emulator_url, token, "/devices", limit=2000))["data"]
    gateway = next(d for d in devices if "gateway" in d["dataprofile"]["entityId"])
    return {"token": token, "valve": valve["id"], "gateway": gateway["id"]}


def calls(context: dict[str, Any]) -> list[Call]:
    valve, gateway = context["valve"], context["gateway"]
    day = {"from": "2018-06-20T10:00:00Z", "to": "2018-06-20T11:15:00Z"}
    return [
        ("/api/v3/api-info", "/api-info", {}),
        ("/api/v3/devices", "/devices", {}),
        (
            "/api/v3/devices",
            "/devices",
            {"search": "Heizung", "state": "REGISTERED", "owner": "__UserPlaceHolder__"},
        ),
        ("/api/v3/devices/stats", "/devices/stats", {}),
        ("/api/v3/devices/{deviceId}", f"/devices/{valve}", {}),
        ("/api/v3/devices/{deviceId}", f"/devices/{gateway}", {}),
        ("/api/v3/devices/{deviceId}/data", f"/devices/{valve}/data", {}),
        (
            "/api/v3/devices/{deviceId}/data",
            f"/devices/{valve}/data",
            {"at": "2018-06-20T11:04:06Z"},
        ),
        (
            "/api/v3/devices/{deviceId}/data/history/timeseries",
            f"/devices/{valve}/data/history/timeseries",
            {"datapointIds": "evcloud.210,evcloud.140", "resolution": "15m", **day},
        ),
        (
            "/api/v3/devices/{deviceId}/data/history/datapoints/{datapointId}",
            f"/devices/{valve}/data/history/datapoints/evcloud.210",
            {"limit": 10, **day},
        ),
        (
            "/api/v3/devices/{deviceId}/data/requestDownload",
            f"/devices/{valve}/data/requestDownload",
            day,
        ),
        ("/api/v3/devices/{deviceId}/timeline", f"/devices/{valve}/timeline", {}),
        ("/api/v3/definitions/dataprofiles", "/definitions/dataprofiles", {"expanded": "true"}),
        ("/api/v3/definitions/dataprofiles", "/definitions/dataprofiles", {"expanded": "false"}),
        (
            "/api/v3/definitions/dataprofiles/{dataprofileId}/{dataprofileVersion}",
            "/definitions/dataprofiles/energyvalve3/1.2",
            {},
        ),
        (
            "/api/v3/definitions/subprofiles/{subprofileId}/{subprofileVersion}",
            "/definitions/subprofiles/evcloud/last",
            {},
        ),
        (
            "/api/v3/definitions/datapoints/{datapointId}/{datapointVersion}",
            "/definitions/datapoints/evcloud.210/last",
            {},
        ),
        (
            "/api/v3/definitions/aspects/{aspectId}/{aspectVersion}",
            "/definitions/aspects/default/last",
            {},
        ),
        ("/api/v3/user", "/user", {}),
        ("/api/v3/devices/{deviceId}/networks", f"/devices/{gateway}/networks", {}),
        ("/api/v3/devices/{deviceId}/networks/{name}", f"/devices/{gateway}/networks/ipv4", {}),
    ]


def test_every_implemented_get_matches_schema_and_example(
    spec: dict[str, Any], emulator_url: str, context: dict[str, Any]
) -> None:
    failures: list[str] = []
    for spec_path, path, query in calls(context):
        operation = spec_operation(spec, spec_path)
        body = ok(get(emulator_url, context["token"], path, **query))
        try:
            validate_schema(spec, operation, body)
        except AssertionError as exc:
            failures.append(f"{path} {query}: schema: {exc}")
        example = example_of(operation)
        if example is not None:
            if query.get("expanded") == "false":
                continue  # the example is expanded; the collapsed form drops those keys
            lacking = missing_keys(example, body)
            if lacking:
                failures.append(f"{path} {query}: lacks {lacking[:8]}")
    assert not failures, "\n".join(failures)


def test_filter_echoes_only_the_given_filters(
    spec: dict[str, Any], emulator_url: str, context: dict[str, Any]
) -> None:
    example = example_of(spec_operation(spec, "/api/v3/devices"))
    query = dict.fromkeys(example["filter"], "x")
    query.update(search="Heizung", state="REGISTERED", owner="__UserPlaceHolder__")
    body = ok(get(emulator_url, context["token"], "/devices", **query))
    assert set(body["filter"]) == set(example["filter"])
    plain = ok(get(emulator_url, context["token"], "/devices", search="Heizung"))
    assert plain["filter"] == {"search": "Heizung"}


def test_csv_download_matches_the_example_format(
    spec: dict[str, Any], emulator_url: str, context: dict[str, Any]
) -> None:
    operation = spec_operation(spec, "/api/v3/devices/{deviceId}/data/download")
    example = operation["responses"]["200"]["examples"]["text/csv"]
    header = example.split("\r\n")[0]
    assert header.startswith("timestamp;")
    response = get(
        emulator_url,
        context["token"],
        f"/devices/{context['valve']}/data/download",
        datapointIds="default.1,default.2,evcloud.210",
        **{"from": "2018-06-20T10:00:00Z", "to": "2018-06-20T11:00:00Z"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.split("\r\n")
    assert lines[0] == "timestamp;default.1;default.2;evcloud.210"
    assert lines[-1] == ""
    rows = [line.split(";") for line in lines[1:-1]]
    assert len(rows) == 12
    assert all(len(row) == 4 for row in rows)
    assert rows[0][0] == "2018-06-20T10:00:00Z"
    assert rows[0][1] == "OK"
    float(rows[0][3])


def test_download_link_serves_csv_without_auth(emulator_url: str, context: dict[str, Any]) -> None:
    link = ok(
        get(
            emulator_url,
            context["token"],
            f"/devices/{context['valve']}/data/requestDownload",
            datapointIds="evcloud.210",
            **{"from": "2018-06-20T10:00:00Z", "to": "2018-06-20T11:00:00Z"},
        )
    )
    assert link["downloadUrl"].startswith(emulator_url + "/api/v3/download/")
    assert link["validUntil"].endswith(".000Z")
    response = httpx.get(link["downloadUrl"])
    assert response.status_code == 200
    assert response.text.startswith("timestamp;evcloud.210\r\n2018-06-20T10:00:00Z;")
    assert httpx.get(emulator_url + "/api/v3/download/unknown").status_code == 404


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_conformance_covers_every_get_route_the_app_serves(
    spec: dict[str, Any], context: dict[str, Any]
) -> None:
    app = create_app(EmulatorOptions())
    served = {
        _shape(path)
        for path, operations in app.openapi()["paths"].items()
        if "get" in operations and path.startswith("/api/")
    }
    served.discard("/api/v3/download/{}")  # not a spec operation: the target of download links
    checked = {_shape(spec_path) for spec_path, _, _ in calls(context)}
    checked.add(_shape("/api/v3/devices/{deviceId}/data/download"))  # the CSV test above
    # The live half has its own conformance tests (test_conformance_live.py).
    checked |= {_shape(path) for path in LIVE_GET_PATHS}
    assert served == checked
    in_spec = {_shape(p) for p, ops in spec["paths"].items() if "get" in ops}
    assert served <= in_spec


def test_docs_list_every_spec_operation(spec: dict[str, Any]) -> None:
    docs = (REPO / "docs" / "emulator.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| (GET|POST|PUT|DELETE|PATCH) \| `([^`]+)` \|", docs, re.M))
    operations = {
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        for method in ops
        if method in ("get", "post", "put", "delete", "patch")
    }
    assert len(operations) == 65
    assert rows == operations
