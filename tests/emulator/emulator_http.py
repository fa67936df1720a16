"""Small HTTP helpers for the emulator's tests: log in, call the API, check error bodies."""

from __future__ import annotations

from typing import Any

import httpx

CLIENT = {"client_id": "__ClientIDPlaceHolder__", "client_secret": "__ClientSecretPlaceHolder__"}
DEMO_USER = ("__UserPlaceHolder__", "__PasswordPlaceHolder__")
SECOND_USER = ("facility@example.org", "Second-Tenant-Password-1")
ALL_SCOPES = "public.read offline_access read:dataprofile"
AUDIENCE = "https://api.cloud.belimo.com/"
# One shared client: creating an httpx.Client costs tens of milliseconds (its TLS context).
HTTP = httpx.Client(timeout=60)


def token_response(
    url: str, user: tuple[str, str] = DEMO_USER, scope: str = ALL_SCOPES, **extra: str
) -> httpx.Response:
    form = {
        "grant_type": "password",
        "username": user[0],
        "password": user[1],
        "audience": AUDIENCE,
        "scope": scope,
        **CLIENT,
        **extra,
    }
    return HTTP.post(f"{url}/oauth/token", data=form)


def login(url: str, user: tuple[str, str] = DEMO_USER, scope: str = ALL_SCOPES) -> str:
    """An access token of ``user`` with ``scope``."""
    response = token_response(url, user, scope)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def get(url: str, token: str | None, path: str, **params: Any) -> httpx.Response:
    """GET ``/api/v3`` + path with the bearer token (None sends no Authorization)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return HTTP.get(f"{url}/api/v3{path}", params=params, headers=headers)


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, f"{response.status_code}: {response.text[:300]}"
    return response.json()


def error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The JSON error body, after checking the status (and the ``error`` code)."""
    assert response.status_code == status, f"{response.status_code}: {response.text[:300]}"
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert isinstance(body.get("error"), str)
    assert isinstance(body.get("error_description"), str)
    assert body["error_description"]
    if code is not None:
        assert body["error"] == code, body
    return body


def devices(url: str, token: str, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ok(get(url, token, "/devices", limit=2000, **params))["data"]
    return found


def first_valve(url: str, token: str, kind: str = "Heizung") -> dict[str, Any]:
    """A registered, online Energy Valve of the demo fleet whose name contains ``kind``."""
    for device in devices(url, token, search=kind, state="REGISTERED"):
        if (device.get("dataprofile") or {}).get("entityId") == "energyvalve3/1.2":
            return device
    raise AssertionError(f"no {kind} valve in the fleet")
