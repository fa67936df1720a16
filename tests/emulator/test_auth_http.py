"""The token endpoint and bearer checks over real HTTP: grants, errors, expiry, scopes."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from emulator_http import (
    AUDIENCE,
    CLIENT,
    DEMO_USER,
    SECOND_USER,
    error,
    get,
    login,
    ok,
    token_response,
)


def test_api_info_needs_no_token(emulator_url: str) -> None:
    assert ok(get(emulator_url, None, "/api-info")) == {"version": "3.5.0"}


def test_password_grant_response(emulator_url: str) -> None:
    body = ok(token_response(emulator_url))
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "public.read offline_access read:dataprofile"
    assert body["access_token"] and body["refresh_token"]


def test_basic_client_auth_and_json_body(emulator_url: str) -> None:
    form = {"grant_type": "password", "username": DEMO_USER[0], "password": DEMO_USER[1]}
    basic = httpx.post(
        f"{emulator_url}/oauth/token",
        data=form,
        auth=(CLIENT["client_id"], CLIENT["client_secret"]),
        timeout=30,
    )
    # The default scope, as MST (which names none) needs it to read and write.
    assert ok(basic)["scope"] == "public.read public.write read:dataprofile"
    as_json = httpx.post(f"{emulator_url}/oauth/token", json={**form, **CLIENT}, timeout=30)
    assert ok(as_json)["token_type"] == "Bearer"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "nobody"}, 401, "invalid_client"),
        ({"password": "wrong"}, 400, "invalid_grant"),
        ({"username": "nobody@example.org"}, 400, "invalid_grant"),
        ({"grant_type": "implicit"}, 400, "unsupported_grant_type"),
        ({"grant_type": ""}, 400, "invalid_request"),
        ({"audience": "https://api.example.org/"}, 400, "access_denied"),
    ],
)
def test_token_errors_follow_rfc6749(
    emulator_url: str, change: dict[str, str], status: int, code: str
) -> None:
    body = error(token_response(emulator_url, **change), status, code)
    assert "__PasswordPlaceHolder__" not in body["error_description"]


def test_token_endpoint_refuses_other_content(emulator_url: str) -> None:
    response = httpx.post(
        f"{emulator_url}/oauth/token", content=b"<xml/>", headers={"content-type": "text/xml"}
    )
    error(response, 400, "invalid_request")
    error(httpx.get(f"{emulator_url}/oauth/token"), 405)


def test_client_credentials_grant_reads_the_demo_fleet(emulator_url: str) -> None:
    body = ok(
        httpx.post(
            f"{emulator_url}/oauth/token",
            data={"grant_type": "client_credentials", "audience": AUDIENCE, **CLIENT},
        )
    )
    assert "refresh_token" not in body
    demo = ok(get(emulator_url, login(emulator_url), "/devices/stats"))
    assert ok(get(emulator_url, body["access_token"], "/devices/stats")) == demo


def refresh(url: str, token: str) -> httpx.Response:
    return httpx.post(
        f"{url}/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token,
            "audience": AUDIENCE,
            **CLIENT,
        },
    )


def test_refresh_tokens_rotate(emulator_url: str) -> None:
    first = ok(token_response(emulator_url))
    second = ok(refresh(emulator_url, first["refresh_token"]))
    assert second["refresh_token"] != first["refresh_token"]
    assert ok(get(emulator_url, second["access_token"], "/devices/stats"))["totalDevices"] == 38
    error(refresh(emulator_url, first["refresh_token"]), 400, "invalid_grant")  # used
    error(refresh(emulator_url, "never-issued"), 400, "invalid_grant")  # unknown
    ok(refresh(emulator_url, second["refresh_token"]))


def test_no_refresh_token_without_offline_access(emulator_url: str) -> None:
    body = ok(token_response(emulator_url, scope="public.read"))
    assert "refresh_token" not in body
    assert body["scope"] == "public.read"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}],
)
def test_api_needs_a_valid_bearer(emulator_url: str, headers: dict[str, str]) -> None:
    response = httpx.get(f"{emulator_url}/api/v3/devices", headers=headers)
    error(response, 401, "invalid_token")


def test_scopes_guard_the_routes(emulator_url: str) -> None:
    read_only = login(emulator_url, scope="public.read")
    ok(get(emulator_url, read_only, "/devices"))
    error(get(emulator_url, read_only, "/definitions/dataprofiles"), 403, "insufficient_scope")
    profiles_only = login(emulator_url, scope="read:dataprofile")
    ok(get(emulator_url, profiles_only, "/definitions/dataprofiles"))
    error(get(emulator_url, profiles_only, "/devices"), 403, "insufficient_scope")
    # /user needs a token but no particular scope.
    assert ok(get(emulator_url, profiles_only, "/user"))["email"] == DEMO_USER[0]


def test_tokens_expire(make_emulator: Callable[..., str]) -> None:
    url = make_emulator(token_ttl=0.5)
    body = ok(token_response(url))
    assert body["expires_in"] == 1
    ok(get(url, body["access_token"], "/devices/stats"))
    time.sleep(0.7)
    described = error(get(url, body["access_token"], "/devices/stats"), 401, "invalid_token")
    assert "expired" in described["error_description"]
    # A refresh token outlives its access token.
    ok(get(url, ok(refresh(url, body["refresh_token"]))["access_token"], "/devices/stats"))


def test_token_ttl_changes_at_runtime(make_emulator: Callable[..., str]) -> None:
    url = make_emulator()
    ok(httpx.put(f"{url}/_emulator/faults", json={"token_ttl": 120}))
    assert ok(token_response(url))["expires_in"] == 120


def test_expire_tokens_control(make_emulator: Callable[..., str]) -> None:
    url = make_emulator()
    token = login(url)
    assert ok(httpx.post(f"{url}/_emulator/expire-tokens"))["expired"] >= 1
    error(get(url, token, "/devices"), 401, "invalid_token")


def test_second_tenant_logs_in(emulator_url: str) -> None:
    token = login(emulator_url, SECOND_USER)
    assert ok(get(emulator_url, token, "/user"))["email"] == SECOND_USER[0]
