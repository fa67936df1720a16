"""client.live against a real loopback SSE server: events, heartbeats, drops, silences, expiry."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

import pytest

from belimo_cloud.client import Client
from belimo_cloud.client.live import DeviceEvent, parse_sse
from tests.client.loopback import collect
from tests.client.test_live_server import BASE, STEP, SSEServer, sse_server, value


def client_for(server: SSEServer) -> Client:
    return Client(
        "cid",
        "secret",
        api_url=server.url,
        token_url=server.url + "/oauth/token",
        rate_limit=0,
        cache_tokens=False,
        timeout=5,
    )


def index(moment: datetime | None) -> int:
    assert moment is not None
    return int((moment - BASE) / STEP)


def assert_complete(events: list[DeviceEvent], device: str) -> list[int]:
    """Every sample of the device exactly once, in order, values as the server made them."""
    mine = [e for e in events if e.device_id == device]
    ks = [index(e.timestamp) for e in mine]
    assert ks, "no events"
    assert ks == list(range(ks[0], ks[0] + len(ks))), f"lost or repeated samples: {ks}"
    for event, k in zip(mine, ks, strict=True):
        assert event.datapoints == {"x.1": value(device, "x.1", k)}
    return ks


def test_parse_sse_joins_data_lines_and_reports_comments() -> None:
    lines = [":heartbeat", "", 'data:{"a":', "data: 1}", "", "event: x", "data:2", ""]
    assert list(parse_sse(lines)) == [
        ("comment", "heartbeat"),
        ("data", '{"a":\n1}'),
        ("data", "2"),
    ]


def test_events_are_typed_and_filtered() -> None:
    with sse_server() as server, client_for(server) as client:
        sub = client.live.subscribe(["dev-a"], ["x.1"])
        try:
            events = collect(sub, 0.6)
        finally:
            sub.close()
        assert server.offers[0]["body"] == {
            "includedDeviceIds": ["dev-a"],
            "includedDatapointIds": ["x.1"],
        }
        assert len(events) >= 3
        first = events[0]
        assert first.kind == "update" and not first.backfilled and not first.removed
        assert first.device is not None and first.device.display_name == "DEV-A"
        assert first.as_dict()["timestamp"].endswith("Z")
        assert_complete(events, "dev-a")
        assert sub.stats.heartbeats >= 1


def test_a_dropped_stream_is_repaired_from_history_without_loss_or_repeats() -> None:
    with sse_server(period=0.05) as server, client_for(server) as client:
        sub = client.live.subscribe(["dev-a"], ["x.1"])
        try:
            before = collect(sub, 0.5)
            server.drop(closed_for=0.4)  # samples taken while no stream can be opened
            after = collect(sub, 1.5)
        finally:
            sub.close()
        events = before + after
        assert sub.stats.reconnects >= 1
        assert server.streams_opened >= 2
        assert any(e.backfilled for e in after), "the hole was not filled from history"
        assert server.history_requests >= 1
        ks = assert_complete(events, "dev-a")
        assert len(ks) >= 15


def test_a_silent_stream_counts_as_dead_and_is_reopened() -> None:
    with sse_server(period=0.05, heartbeat=0.1) as server, client_for(server) as client:
        sub = client.live.subscribe(["dev-a"], ["x.1"], heartbeat_timeout=0.4)
        try:
            before = collect(sub, 0.3)
            server.silent = True
            time.sleep(0.7)  # longer than the heartbeat timeout
            server.silent = False
            after = collect(sub, 0.8)
        finally:
            sub.close()
        assert sub.stats.missed_heartbeats >= 1
        assert server.streams_opened >= 2
        assert_complete(before + after, "dev-a")


def test_resubscribes_before_the_offer_expires() -> None:
    with sse_server(period=0.05, ttl=2.0) as server, client_for(server) as client:
        sub = client.live.subscribe(["dev-a"], ["x.1"], resubscribe_margin=1.5)
        try:
            events = collect(sub, 1.6)
        finally:
            sub.close()
        assert sub.stats.resubscriptions >= 1
        assert len(server.offers) >= 2
        assert_complete(events, "dev-a")


def test_callback_form_and_close_is_bounded() -> None:
    got: list[DeviceEvent] = []
    seen = threading.Event()

    def on_event(event: DeviceEvent) -> None:
        got.append(event)
        if len(got) >= 3:
            seen.set()

    with sse_server() as server, client_for(server) as client:
        sub = client.live.subscribe(["dev-a", "dev-b"], ["x.1"], on_event=on_event)
        assert seen.wait(5.0)
        started = time.monotonic()
        sub.close()
        assert time.monotonic() - started < 5.0
        assert sub.closed
        assert sub.wait(1.0)
    assert {e.device_id for e in got} <= {"dev-a", "dev-b"}
    with pytest.raises(Exception, match="callback"):
        sub.get(0.01)


def test_watch_stops_after_count() -> None:
    with sse_server() as server, client_for(server) as client:
        events = list(client.live.watch(["dev-b"], ["x.1"], count=4, duration=10))
    assert len(events) == 4
    assert_complete(events, "dev-b")


def test_an_unknown_subscription_path_ends_with_the_error() -> None:
    with sse_server() as server:
        client = Client(
            "cid",
            "secret",
            api_url=server.url + "/nothing-here",
            token_url=server.url + "/oauth/token",
            rate_limit=0,
            cache_tokens=False,
            timeout=5,
        )
        with client:
            sub = client.live.subscribe(["dev-a"])
            with pytest.raises(Exception, match="not found"):
                for _ in sub:
                    pass
            assert sub.closed


def test_the_stream_token_never_reaches_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with sse_server() as server, client_for(server) as client:
        sub = client.live.subscribe(["dev-a"], ["x.1"])
        try:
            assert collect(sub, 0.3)
        finally:
            sub.close()
        tokens = [offer["token"] for offer in server.offers]
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "change-stream/****" in text  # httpx logged the stream request, masked
    for token in tokens:
        assert f"change-stream/{token}" not in text


def test_a_refused_repair_is_reported_and_the_stream_goes_on() -> None:
    with sse_server(period=0.05) as server, client_for(server) as client:
        server.history_status = 400
        sub = client.live.subscribe(["dev-a"], ["x.1"])
        try:
            before = collect(sub, 0.4)
            server.drop()
            time.sleep(0.2)
            after = collect(sub, 0.4)
        finally:
            sub.close()
        assert before and after and sub.error is None
        assert any("history refused the repair" in e for e in sub.stats.errors)
        stamps = [e.timestamp for e in before + after]
        assert len(stamps) == len(set(stamps))
