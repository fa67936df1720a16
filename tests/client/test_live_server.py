"""A small change-stream server on loopback: real sockets, chunked SSE, drops and silences.

One device sample every ``period`` real seconds (sample k at BASE + k * 5 min), sent on every
open stream as it happens, as the change-stream does; raw history answers for every sample
already taken. ``drop()`` cuts every open stream mid-response; ``silent`` stops streams from
sending anything (not even heartbeats), as a stalled proxy would.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from tests.client.loopback import serving

BASE = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
STEP = timedelta(minutes=5)
DEVICES = ("dev-a", "dev-b")
DATAPOINTS = ("x.1", "x.2")


def stamp(k: int) -> str:
    return (BASE + k * STEP).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def value(device: str, dp: str, k: int) -> float:
    return float(k * 10 + DEVICES.index(device) * 1000 + DATAPOINTS.index(dp))


class SSEServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, period: float, ttl: float, heartbeat: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.period = period
        self.ttl = ttl
        self.heartbeat = heartbeat
        self.t0 = time.monotonic()
        self.generation = 0
        self.silent = False
        self.offers: list[dict[str, Any]] = []
        self.streams_opened = 0
        self.history_requests = 0
        self.history_status = 200
        self.closed_until = 0.0  # monotonic: until then streams answer 503
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def k_now(self) -> int:
        return int((time.monotonic() - self.t0) / self.period)

    def drop(self, closed_for: float = 0.0) -> None:
        """Cut every open stream; new ones are refused (503) for ``closed_for`` seconds."""
        with self.lock:
            self.closed_until = time.monotonic() + closed_for
            self.generation += 1


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SSEServer

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _json(self, doc: object, status: int = 200) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = urlparse(self.path).path
        if path == "/oauth/token":
            self._json({"access_token": "tok", "token_type": "Bearer", "expires_in": 3600})
            return
        if path == "/api/v3/devices/change-stream":
            body = json.loads(raw or b"{}")
            with self.server.lock:
                token = f"t{len(self.server.offers)}"
                until = time.time() + self.server.ttl
                self.server.offers.append({"token": token, "until": until, "body": body})
            valid = datetime.fromtimestamp(until, UTC).isoformat().replace("+00:00", "Z")
            self._json({"token": token, "validUntil": valid})
            return
        self._json({"errors": [{"code": "not_found"}]}, 404)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        parts = [unquote(p) for p in url.path.split("/") if p]
        if parts[:4] == ["api", "v3", "devices", "change-stream"] and len(parts) == 5:
            self._stream(parts[4])
            return
        if len(parts) == 8 and parts[5:7] == ["history", "datapoints"]:
            self._raw(parts[3], parts[7], parse_qs(url.query))
            return
        self._json({"errors": [{"code": "not_found"}]}, 404)

    def _raw(self, device: str, dp: str, query: dict[str, list[str]]) -> None:
        self.server.history_requests += 1
        if self.server.history_status != 200:
            self._json({"errors": [{"code": "refused"}]}, self.server.history_status)
            return
        start = datetime.fromisoformat(query["from"][0].replace("Z", "+00:00"))
        offset = int(query.get("offset", ["0"])[0])
        limit = int(query.get("limit", ["2000"])[0])
        rows = [
            {"timestamp": stamp(k), "value": value(device, dp, k)}
            for k in range(self.server.k_now() + 1)
            if BASE + k * STEP >= start
        ]
        page = rows[offset : offset + limit]
        self._json({"data": page, "paging": {"total": len(rows), "offset": offset, "limit": limit}})

    def _chunk(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _stream(self, token: str) -> None:
        server = self.server
        offer = next((o for o in server.offers if o["token"] == token), None)
        if offer is None:
            self._json({"errors": [{"code": "not_found"}]}, 404)
            return
        if time.monotonic() < server.closed_until:
            self._json({"errors": [{"code": "unavailable"}]}, 503)
            return
        devices = offer["body"].get("includedDeviceIds") or list(DEVICES)
        dps = offer["body"].get("includedDatapointIds") or list(DATAPOINTS)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        server.streams_opened += 1
        generation = server.generation
        last = server.k_now()
        last_sent = time.monotonic()
        try:
            self._chunk(":heartbeat\n\n")
            while time.time() < offer["until"]:
                if server.generation != generation:
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if server.silent:
                    time.sleep(0.01)
                    continue
                now_k = server.k_now()
                for k in range(last + 1, now_k + 1):
                    for device in devices:
                        doc = {
                            "deviceId": device,
                            "device": {
                                "id": device,
                                "displayName": device.upper(),
                                "state": {
                                    "timestamp": stamp(k),
                                    "datapoints": {
                                        dp: {"value": value(device, dp, k)} for dp in dps
                                    },
                                },
                            },
                        }
                        self._chunk("data:" + json.dumps(doc) + "\n\n")
                    last_sent = time.monotonic()
                last = max(last, now_k)
                if time.monotonic() - last_sent >= server.heartbeat:
                    self._chunk(":heartbeat\n\n")
                    last_sent = time.monotonic()
                time.sleep(0.01)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            return


@contextmanager
def sse_server(
    period: float = 0.05, ttl: float = 60.0, heartbeat: float = 0.2
) -> Iterator[SSEServer]:
    server = SSEServer(period, ttl, heartbeat)
    with serving(server):
        yield server
