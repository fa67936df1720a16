"""The spec's own change-stream examples decode into the client's types."""

from __future__ import annotations

import json
from typing import Any

from belimo_cloud.client.decode import decode
from belimo_cloud.client.live import Offer, Subscription, parse_sse


def example(spec: dict[str, Any], path: str, method: str, kind: str, where: str) -> str:
    operation = spec["paths"][path][method]
    if where == "response":
        return str(operation["responses"]["200"]["examples"][kind])
    body = next(p for p in operation["parameters"] if p["in"] == "body")
    return str(body["x-examples"][kind])


def test_the_offer_example_decodes(spec: dict[str, Any]) -> None:
    text = example(spec, "/api/v3/devices/change-stream", "post", "application/json", "response")
    offer = decode(text.encode(), Offer, "offer")
    doc = json.loads(text)
    assert offer.token == doc["token"]
    assert offer.valid_until is not None and offer.valid_until.year == 2018
    assert doc["token"] not in repr(offer)  # the token is the stream's credential


def test_the_request_body_has_the_specs_keys(spec: dict[str, Any]) -> None:
    text = example(spec, "/api/v3/devices/change-stream", "post", "application/json", "request")
    assert set(json.loads(text)) == {"includedDeviceIds", "includedDatapointIds"}


def test_the_event_stream_example_gives_typed_events(spec: dict[str, Any]) -> None:
    text = example(
        spec, "/api/v3/devices/change-stream/{token}", "get", "text/event-stream", "response"
    )
    items = list(parse_sse(text.splitlines()))
    assert [kind for kind, _ in items] == ["data", "data", "comment", "data", "data"]
    delivered = []
    # Never started: its parser and de-duplication are fed the example by hand.
    sub = Subscription(None, [], [], on_event=delivered.append)  # type: ignore[arg-type]
    for kind, data in items:
        if kind == "data":
            sub._handle(data)
    kinds = [(e.device_id[:8], e.kind) for e in delivered]
    assert kinds == [
        ("011655a2", "update"),
        ("99aa459a", "update"),
        ("011655a2", "removed"),
        ("4f4962f0", "update"),
    ]
    first = delivered[0]
    assert first.device is not None and first.device.display_name == "My Test Device"
    assert first.datapoints == {"test.2": "value-2", "test.1": "value-1", "test.0": "value-0"}
    assert first.timestamp is not None and first.timestamp.year == 2018
