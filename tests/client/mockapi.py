"""A small fake cloud on httpx.MockTransport, for edge cases the emulator cannot produce."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from belimo_cloud.client import Client

API_URL = "https://api.mock.test"
TOKEN_URL = "https://id.mock.test/oauth/token"
SECRET = "mock-client-secret-123"
PASSWORD = "mock-password-456"

Handler = Callable[[httpx.Request], httpx.Response]


def as_json(doc: object, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status, content=json.dumps(doc).encode(), headers={"content-type": "application/json"}
    )


class MockCloud:
    """Answers the token endpoint and routes API paths (after /api/v3) to handlers."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[httpx.Request] = []
        self._lock = threading.Lock()

    def route(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def api_requests(self, path: str | None = None) -> list[httpx.Request]:
        prefix = "/api/v3" + (path or "")
        return [
            r
            for r in self.requests
            if r.url.path == prefix or (path is None and r.url.path.startswith(prefix))
        ]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            return as_json(
                {
                    "access_token": "tok",
                    "token_type": "Bearer",
                    "expires_in": 3600,
                    "refresh_token": "ref",
                }
            )
        with self._lock:
            self.requests.append(request)
        path = request.url.path.removeprefix("/api/v3")
        handler = self.routes.get(path)
        if handler is None:
            return as_json({"errors": [{"code": "NOT_FOUND", "message": path}]}, 404)
        return handler(request)

    def client(self, **options: Any) -> Client:
        options.setdefault("rate_limit", 0.0)
        options.setdefault("cache_tokens", False)
        return Client(
            client_id="cid",
            client_secret=SECRET,
            username="user@example.org",
            password=PASSWORD,
            api_url=API_URL,
            token_url=TOKEN_URL,
            transport=httpx.MockTransport(self),
            **options,
        )


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def timeseries_handler(
    *, inclusive_end: bool = False, value: Callable[[str, datetime], float] | None = None
) -> Handler:
    """A resampling endpoint: one bucket per grid step in [from, to), value from (dp, time).

    ``inclusive_end`` imitates a server that also returns the bucket starting at ``to``.
    """

    def handler(request: httpx.Request) -> httpx.Response:
        q = request.url.params
        res_text = q["resolution"]
        step = {"m": 60, "h": 3600, "d": 86400, "s": 1}[res_text[-1]] * int(res_text[:-1])
        res = timedelta(seconds=step)
        lo, hi = parse_iso(q["from"]), parse_iso(q["to"])
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        t = epoch + ((lo - epoch) // res) * res
        stamps = []
        while t < hi or (inclusive_end and t == hi):
            stamps.append(t)
            t += res
        if len(stamps) > 10_000 + int(inclusive_end):
            return as_json({"errors": [{"message": "too many points"}]}, 400)
        fn = value or (lambda dp, ts: ts.timestamp() / 900.0)
        series = [
            {
                "datapointId": dp,
                "aggregation": q.get("aggregation", "last"),
                "values": [{"timestamp": iso(s), "value": fn(dp, s)} for s in stamps],
            }
            for dp in q["datapointIds"].split(",")
        ]
        return as_json({"from": q["from"], "to": q["to"], "resolution": res_text, "series": series})

    return handler
