"""Loopback by default, a token beyond it; no secret in any page or answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from belimo_cloud.config import DEMO_CREDENTIALS
from belimo_cloud.errors import ConfigError
from belimo_cloud.web import ServeConfig, StoreData, check_binding, create_app, is_loopback

TOKEN = "correct-horse-battery-staple"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_needs_no_token(host: str) -> None:
    assert is_loopback(host)
    check_binding(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.org"])
def test_anything_else_needs_a_token(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(ConfigError, match="--token"):
        check_binding(host, None)
    check_binding(host, TOKEN)


def test_a_short_token_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least 16"):
        check_binding("0.0.0.0", "short")


def test_a_foreign_host_header_is_refused_on_loopback(api: TestClient) -> None:
    assert api.get("/api/fleet").status_code == 200
    answer = api.get("/api/fleet", headers={"Host": "attacker.example:8050"})
    assert answer.status_code == 400


def test_pages_carry_security_headers(api: TestClient) -> None:
    headers = api.get("/").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert api.get("/api/fleet").headers["cache-control"] == "no-store"


@pytest.fixture(scope="module")
def guarded(store_path: Path, store_data: StoreData) -> TestClient:
    config = ServeConfig(store=store_path, host="0.0.0.0", token=TOKEN)
    return TestClient(create_app(config, data=store_data), base_url="http://192.0.2.1:8050")


def test_without_the_token_nothing_is_served(guarded: TestClient) -> None:
    guarded.cookies.clear()
    paths = ("/", "/api/fleet", "/api/devices", "/assets/plotly.min.js", "/static/dashboard.js")
    for path in paths:
        answer = guarded.get(path)
        assert answer.status_code == 401, path
        assert TOKEN not in answer.text
    assert guarded.get("/?token=wrong-token-wrong-token").status_code == 401


def test_the_token_once_gives_a_cookie_and_leaves_the_address(guarded: TestClient) -> None:
    guarded.cookies.clear()
    answer = guarded.get(f"/?token={TOKEN}&x=1", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/?x=1"
    cookie = answer.cookies.get("belimo_dashboard")
    assert cookie
    assert TOKEN not in cookie
    assert "httponly" in answer.headers["set-cookie"].lower()
    assert guarded.get("/api/fleet").status_code == 200
    guarded.cookies.clear()


def test_a_bearer_token_works_for_scripts(guarded: TestClient) -> None:
    guarded.cookies.clear()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert guarded.get("/api/devices", headers=headers).status_code == 200


def test_no_secret_reaches_a_page(api: TestClient, device_ids: dict[str, str]) -> None:
    secrets = [DEMO_CREDENTIALS["password"], DEMO_CREDENTIALS["client_secret"]]
    device = next(iter(device_ids.values()))
    paths = ["/", f"/devices/{device}", "/compare", "/api/status", f"/api/devices/{device}/live"]
    for path in paths:
        text = api.get(path).text
        for secret in secrets:
            assert secret not in text, path


def test_the_config_repr_hides_the_token(store_path: Path) -> None:
    assert TOKEN not in repr(ServeConfig(store=store_path, token=TOKEN))
