"""A hostile HTTP server on 127.0.0.1 for tests of the real client: drips, hangs, lies.

``HostileServer`` is a real threaded HTTP/1.1 server. Each path prefix maps to a behaviour, a
function of the request handler; the helpers below build the usual ones (a JSON answer, a
token, a body dripped one byte at a time, a hang, an HTML page, a page that repeats with a huge
total, a 429 storm). Every request is recorded. Hanging handlers are released when the server
stops, so a test never leaves a thread behind.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.client.loopback import serving

Behaviour = Callable[["Handler"], None]


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class HostileServer:
    """Behaviours by path prefix (longest match wins); requests recorded in ``seen``."""

    routes: dict[str, Behaviour] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def route(self, prefix: str, behaviour: Behaviour) -> None:
        self.routes[prefix] = behaviour

    def requests_to(self, prefix: str) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if s.path.startswith(prefix)]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        hostile = self.server.hostile
        with hostile.lock:
            hostile.seen.append(
                Seen(
                    self.command, parts.path, dict(parse_qsl(parts.query)), dict(self.headers), body
                )
            )
        self.form = dict(parse_qsl(body.decode("latin-1"))) if body else {}
        self.query = dict(parse_qsl(parts.query))
        matches = [p for p in hostile.routes if parts.path.startswith(p)]
        if not matches:
            send_json(self, 404, {"message": "no such route"})
            return
        # The client giving up mid-answer is what these tests want.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            hostile.routes[max(matches, key=len)](self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815 - http.server's names


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hostile: HostileServer


@contextmanager
def hostile_server(**routes: Behaviour) -> Iterator[HostileServer]:
    """Start a server (port chosen by the OS); a token endpoint answers unless replaced."""
    state = HostileServer()
    state.route("/oauth/token", token())
    for prefix, behaviour in routes.items():
        state.route(prefix, behaviour)
    server = _Server(("127.0.0.1", 0), Handler)
    server.hostile = state
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    with serving(server):
        try:
            yield state
        finally:
            state.stop.set()  # before the shutdown: a stalled handler must let go first


# -- behaviours --


def send_json(handler: Handler, status: int, doc: object, **headers: str) -> None:
    data = json.dumps(doc).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    handler.wfile.write(data)


def answer(status: int, doc: object, **headers: str) -> Behaviour:
    return lambda h: send_json(h, status, doc, **headers)


def token(access: str = "good-token", expires_in: int = 3600, **extra: object) -> Behaviour:
    """A token endpoint answering every grant with ``access`` (any text, even CR/LF)."""
    doc = {"access_token": access, "token_type": "Bearer", "expires_in": expires_in, **extra}
    return answer(200, doc)


def drip(
    body: bytes = b'{"data": []}', every: float = 0.2, *, headers_too: bool = False
) -> Behaviour:
    """Send the answer one byte at a time, ``every`` seconds apart (status line too if asked)."""

    def run(h: Handler) -> None:
        head = (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        h.close_connection = True
        if not headers_too:
            h.wfile.write(head)
            h.wfile.flush()
            head = b""
        for byte in head + body:
            if h.server.hostile.stop.wait(every):
                return
            h.wfile.write(bytes([byte]))
            h.wfile.flush()

    return run


def hang(h: Handler) -> None:
    """Read the request, never answer (until the server stops)."""
    h.close_connection = True
    h.server.hostile.stop.wait(60)


def html_page(status: int = 200) -> Behaviour:
    page = b"<!DOCTYPE html><html><body><h1>Please sign in</h1></body></html>"

    def run(h: Handler) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(len(page)))
        h.end_headers()
        h.wfile.write(page)

    return run


def repeating_page(total: int = 10**12, size: int = 2) -> Behaviour:
    """The same devices whatever the offset, claiming a huge total."""
    items = [{"id": f"dev-{i}"} for i in range(size)]

    def run(h: Handler) -> None:
        send_json(h, 200, {"data": items, "paging": {"total": total, "offset": 0, "limit": size}})

    return run


class Bucket:
    """A server-side token bucket: ``rate`` requests/s, ``burst`` at once, 429 beyond."""

    def __init__(self, rate: float, burst: int, body: object) -> None:
        self.rate, self.burst, self.body = rate, burst, body
        self.tokens = float(burst)
        self.stamp = time.monotonic()
        self.lock = threading.Lock()
        self.refused = 0
        self.served = 0

    def __call__(self, h: Handler) -> None:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            allowed = self.tokens >= 1
            if allowed:
                self.tokens -= 1
                self.served += 1
            else:
                self.refused += 1
                wait = (1 - self.tokens) / self.rate
        if allowed:
            send_json(h, 200, self.body)
        else:
            send_json(h, 429, {"message": "slow down"}, Retry_After=str(max(1, round(wait + 0.5))))
