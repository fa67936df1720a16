"""Test doubles for the client core: a fake clock; an OAuth2 server and API on MockTransport."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from urllib.parse import parse_qsl

import httpx

from belimo_cloud.config import Settings

TOKEN_URL = "https://id.example.test/oauth/token"
API_URL = "https://api.example.test"
SECRET = "s3cr3t-client-secret"
PASSWORD = "pa55-word-XYZ"


def settings(tmp_path: object = None, **changes: object) -> Settings:
    """Settings pointing at the fake cloud, token cache off unless a directory is given."""
    values: dict[str, object] = {
        "client_id": "cid",
        "client_secret": SECRET,
        "username": "user@example.org",
        "password": PASSWORD,
        "api_url": API_URL,
        "token_url": TOKEN_URL,
        "cache_tokens": False,
        "rate_limit": 0.0,
    }
    values.update(changes)
    return Settings(**values)  # type: ignore[arg-type]


class FakeClock:
    """A clock that only moves when something sleeps on it (or a test advances it)."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


def json_response(status: int, doc: object, **headers: str) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(doc).encode(),
        headers={"content-type": "application/json", **headers},
    )


@dataclass
class FakeCloud:
    """An identity server and an API in one MockTransport handler.

    ``api`` answers API requests that carry a valid token (default: 200 {"ok": true});
    ``token_hook`` may replace the token endpoint's answer for a given form.
    """

    clock: FakeClock = field(default_factory=FakeClock)
    ttl: float = 3600.0
    rotate: bool = True
    issue_refresh: bool = True
    api: Callable[[httpx.Request], httpx.Response] | None = None
    token_hook: Callable[[dict[str, str]], httpx.Response | None] | None = None
    grants: list[dict[str, str]] = field(default_factory=list)
    api_requests: list[httpx.Request] = field(default_factory=list)
    auth_seen: list[str] = field(default_factory=list)  # Authorization of each API request
    access: dict[str, float] = field(default_factory=dict)  # token -> expiry
    refresh: set[str] = field(default_factory=set)
    _ids: count = field(default_factory=lambda: count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return self._token(request)
        with self._lock:
            self.api_requests.append(request)
            self.auth_seen.append(request.headers.get("authorization", ""))
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ")
        expiry = self.access.get(token)
        if expiry is None or expiry <= self.clock():
            return json_response(
                401, {"error": "invalid_token", "error_description": "token expired or unknown"}
            )
        if self.api is not None:
            return self.api(request)
        return json_response(200, {"ok": True})

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode()))
        with self._lock:
            self.grants.append(form)
            if self.token_hook is not None:
                answer = self.token_hook(form)
                if answer is not None:
                    return answer
            if form.get("client_id") != "cid" or form.get("client_secret") != SECRET:
                return json_response(
                    401, {"error": "access_denied", "error_description": "Unauthorized"}
                )
            grant = form.get("grant_type")
            if grant == "password":
                if form.get("password") != PASSWORD:
                    return json_response(
                        403,
                        {"error": "invalid_grant", "error_description": "Wrong email or password."},
                    )
            elif grant == "refresh_token":
                if form.get("refresh_token") not in self.refresh:
                    return json_response(
                        403,
                        {
                            "error": "invalid_grant",
                            "error_description": "Unknown or invalid refresh token.",
                        },
                    )
                if self.rotate:
                    self.refresh.discard(form["refresh_token"])
            elif grant != "client_credentials":
                return json_response(400, {"error": "unsupported_grant_type"})
            n = next(self._ids)
            access = f"access-{n}"
            self.access[access] = self.clock() + self.ttl
            doc: dict[str, object] = {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": self.ttl,
                "scope": form.get("scope", ""),
            }
            if grant == "refresh_token" and not self.rotate:
                pass
            elif self.issue_refresh and grant != "client_credentials":
                refresh = f"refresh-{n}"
                self.refresh.add(refresh)
                doc["refresh_token"] = refresh
            return json_response(200, doc)

    def grant_types(self) -> list[str]:
        return [g["grant_type"] for g in self.grants]
