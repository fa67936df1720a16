"""MST's Node-RED connector reads the change stream chunk by chunk (lib/Subscriptions.js):
a chunk with ``:heartbeat`` resets its watchdog, a chunk with ``data:`` announces that the
next chunk is the JSON, a chunk of two newlines is skipped. This replays that reading on the
stream's real HTTP chunks, so the connector's live path works unchanged."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from emulator_http import get, login, ok
from live_http import post


def chunks(url: str, path: str, wanted: int) -> list[bytes]:
    """The first ``wanted`` body chunks of a chunked HTTP response, as sent."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        request = f"GET {path} HTTP/1.1\r\nHost: {parts.hostname}\r\nConnection: close\r\n\r\n"
        sock.sendall(request.encode())
        stream = sock.makefile("rb")
        status = stream.readline()
        assert b" 200 " in status, status
        headers = b""
        while (line := stream.readline()) not in (b"\r\n", b""):
            headers += line.lower()
        assert b"transfer-encoding: chunked" in headers
        assert b"content-type: text/event-stream" in headers
        found: list[bytes] = []
        while len(found) < wanted:
            size = int(stream.readline().strip(), 16)
            if size == 0:
                break
            found.append(stream.read(size))
            stream.readline()
        return found


def mst_read(parts: list[bytes]) -> tuple[int, list[dict[str, Any]]]:
    """Heartbeats and parsed payloads, exactly as Subscriptions.handleSseEvent reads them."""
    heartbeats, payloads, data_arrives = 0, [], False
    for chunk in parts:
        text = chunk.decode()
        if text == "\n\n":
            continue
        if ":heartbeat" in text:
            heartbeats += 1
            continue
        if "data:" in text:
            data_arrives = True
            continue
        if data_arrives and text:
            data_arrives = False
            payloads.append(json.loads(text))
    return heartbeats, payloads


def test_mst_connector_reads_heartbeats_and_events(make_emulator: Callable[..., str]) -> None:
    url = make_emulator(rate_limit=0, speed=3000.0, heartbeat=0.2)
    token = login(url)
    listed = ok(get(url, token, "/devices", search="Heizung", state="REGISTERED", limit=3))
    wanted = [d["id"] for d in listed["data"]]
    offer = ok(post(url, token, "/devices/change-stream", {"includedDeviceIds": wanted}))
    parts = chunks(url, f"/api/v3/devices/change-stream/{offer['token']}", 40)
    heartbeats, payloads = mst_read(parts)
    assert heartbeats >= 1
    assert len(payloads) >= 10
    assert {p["deviceId"] for p in payloads} == set(wanted)
    assert all(p["device"]["id"] == p["deviceId"] for p in payloads)
