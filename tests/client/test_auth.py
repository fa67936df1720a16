"""OAuth2 flows of the TokenManager against a fake identity server (MockTransport)."""

from __future__ import annotations

import threading
from urllib.parse import parse_qsl

import httpx
import pytest

from belimo_cloud.client.auth import BelimoAuth, TokenManager, refresh_margin
from belimo_cloud.client.retry import RetryPolicy
from belimo_cloud.client.tokencache import TokenCache
from belimo_cloud.config import DEFAULT_AUDIENCE, DEFAULT_SCOPE
from belimo_cloud.errors import (
    AuthError,
    ConfigError,
    DataError,
    InvalidCredentials,
    ServerError,
    TransportError,
)
from tests.client.core_fakes import PASSWORD, SECRET, FakeCloud, json_response, settings


def manager(cloud: FakeCloud, cache: TokenCache | None = None, **changes: object) -> TokenManager:
    http = httpx.Client(transport=cloud.transport())
    return TokenManager(
        settings(**changes),
        http,
        cache=cache,
        clock=cloud.clock,
        sleep=cloud.clock.sleep,
        retry=RetryPolicy(max_attempts=3, rng=lambda: 1.0),
    )


def test_password_grant_sends_the_tutorials_form() -> None:
    cloud = FakeCloud()
    assert manager(cloud).token() == "access-1"
    assert cloud.grants == [
        {
            "grant_type": "password",
            "username": "user@example.org",
            "password": PASSWORD,
            "client_id": "cid",
            "client_secret": SECRET,
            "audience": DEFAULT_AUDIENCE,
            "scope": DEFAULT_SCOPE,
        }
    ]
    assert DEFAULT_SCOPE == "public.read offline_access read:dataprofile"
    assert DEFAULT_AUDIENCE == "https://api.cloud.belimo.com/"


def test_client_credentials_grant_without_a_user() -> None:
    cloud = FakeCloud()
    tokens = manager(cloud, username=None, password=None)
    assert tokens.token() == "access-1"
    form = cloud.grants[0]
    assert form["grant_type"] == "client_credentials"
    assert "username" not in form and "password" not in form
    assert form["scope"] == "public.read read:dataprofile"
    assert tokens.current is not None and tokens.current.refresh_token is None


def test_wrong_password_raises_invalid_credentials_with_the_description() -> None:
    cloud = FakeCloud()
    with pytest.raises(InvalidCredentials) as caught:
        manager(cloud, password="wrong").token()
    err = caught.value
    assert err.description == "Wrong email or password."
    assert err.error == "invalid_grant"
    assert "Wrong email or password." in str(err)
    assert "wrong" not in str(err).replace("Wrong", "")  # the password never shows
    assert len(cloud.grants) == 1  # a refusal is not retried


def test_wrong_client_secret_raises_invalid_credentials() -> None:
    with pytest.raises(InvalidCredentials, match="Unauthorized"):
        manager(FakeCloud(), client_secret="nope").token()


def test_missing_credentials_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="client id"):
        manager(FakeCloud(), client_id=None).token()
    with pytest.raises(ConfigError, match="password"):
        manager(FakeCloud(), password=None).token()


@pytest.mark.parametrize(
    "body",
    [
        b"<html>gateway</html>",
        b"[1, 2]",
        b'{"token_type": "Bearer"}',
        b'{"access_token": 5}',
        b'{"access_token": "a", "expires_in": "soon"}',
        b'{"access_token": "a", "expires_in": -1}',
    ],
)
def test_malformed_token_response_is_a_data_error_not_a_key_error(body: bytes) -> None:
    cloud = FakeCloud(token_hook=lambda form: httpx.Response(200, content=body))
    with pytest.raises(DataError, match="token endpoint"):
        manager(cloud).token()


def test_unsupported_grant_is_an_auth_error() -> None:
    cloud = FakeCloud(
        token_hook=lambda form: json_response(400, {"error": "unsupported_grant_type"})
    )
    with pytest.raises(AuthError, match="unsupported_grant_type") as caught:
        manager(cloud).token()
    assert not isinstance(caught.value, InvalidCredentials)


def test_token_endpoint_unreachable_is_a_transport_error() -> None:
    def refuse(form: dict[str, str]) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    cloud = FakeCloud(token_hook=refuse)
    with pytest.raises(TransportError) as caught:
        manager(cloud).token()
    assert str(caught.value) == (
        "cannot reach the token endpoint https://id.example.test/oauth/token: "
        "connection refused (gave up after 3 tries)"
    )
    assert len(cloud.grants) == 3  # retried: a grant is safe to repeat


def test_token_endpoint_5xx_is_retried_then_server_error() -> None:
    answers = [json_response(503, {"error": "temporarily_unavailable"})]
    cloud = FakeCloud(token_hook=lambda form: answers.pop() if answers else None)
    assert manager(cloud).token() == "access-1"
    cloud = FakeCloud(token_hook=lambda form: json_response(500, {"error": "boom"}))
    with pytest.raises(ServerError):
        manager(cloud).token()


def test_refresh_before_expiry_and_rotation_kept() -> None:
    cloud = FakeCloud(ttl=3600)
    tokens = manager(cloud)
    assert tokens.token() == "access-1"
    cloud.clock.advance(3600 - 61)
    assert tokens.token() == "access-1"  # not yet in the 60 s margin
    cloud.clock.advance(2)
    assert tokens.token() == "access-2"
    assert cloud.grants[1]["grant_type"] == "refresh_token"
    assert cloud.grants[1]["refresh_token"] == "refresh-1"
    cloud.clock.advance(3600)
    assert tokens.token() == "access-3"
    # The rotated refresh token (refresh-2) was kept; refresh-1 is no longer valid.
    assert cloud.grants[2]["refresh_token"] == "refresh-2"
    assert cloud.grant_types() == ["password", "refresh_token", "refresh_token"]


def test_refresh_without_rotation_keeps_the_old_refresh_token() -> None:
    cloud = FakeCloud(ttl=100, rotate=False)
    tokens = manager(cloud)
    tokens.token()
    cloud.clock.advance(200)
    tokens.token()
    cloud.clock.advance(200)
    tokens.token()
    assert [g.get("refresh_token") for g in cloud.grants[1:]] == ["refresh-1", "refresh-1"]


def test_refused_refresh_token_falls_back_to_the_password_grant() -> None:
    cloud = FakeCloud(ttl=100)
    tokens = manager(cloud)
    tokens.token()
    cloud.refresh.clear()  # the identity server forgot our refresh token
    cloud.clock.advance(200)
    assert tokens.token() == "access-2"
    assert cloud.grant_types() == ["password", "refresh_token", "password"]


def test_refresh_margin() -> None:
    assert refresh_margin(3600) == 60
    assert refresh_margin(2) == pytest.approx(0.2)


def test_invalidate_only_the_seen_token() -> None:
    cloud = FakeCloud()
    tokens = manager(cloud)
    tokens.token()
    tokens.invalidate("some-older-token")
    assert tokens.token() == "access-1"
    tokens.invalidate("access-1")
    assert tokens.token() == "access-2"


def test_login_forces_a_new_grant_and_logout_forgets(tmp_path) -> None:
    cloud = FakeCloud()
    cache = TokenCache(tmp_path)
    tokens = manager(cloud, cache=cache)
    tokens.token()
    tokens.login()
    assert cloud.grant_types() == ["password", "password"]
    assert list(tmp_path.iterdir())
    tokens.logout()
    assert tokens.current is None
    assert list(tmp_path.iterdir()) == []


def test_concurrent_threads_cause_one_grant() -> None:
    cloud = FakeCloud()
    tokens = manager(cloud)
    seen: list[str] = []
    barrier = threading.Barrier(8)

    def grab() -> None:
        barrier.wait()
        seen.append(tokens.token())

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == ["access-1"] * 8
    assert len(cloud.grants) == 1


def test_belimo_auth_on_a_users_own_httpx_client() -> None:
    cloud = FakeCloud()
    tokens = manager(cloud)
    with httpx.Client(transport=cloud.transport(), auth=BelimoAuth(tokens)) as http:
        assert http.get("https://api.example.test/api/v3/devices").json() == {"ok": True}
        cloud.access.clear()
        assert http.get("https://api.example.test/api/v3/devices").status_code == 200
    assert cloud.auth_seen == ["Bearer access-1", "Bearer access-1", "Bearer access-2"]
    # Token requests never carry a bearer token.
    assert all("refresh_token" in g or "password" in g for g in cloud.grants)


def test_basic_form_is_urlencoded() -> None:
    sent: list[httpx.Request] = []

    def spy(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return json_response(200, {"access_token": "t", "expires_in": 10})

    http = httpx.Client(transport=httpx.MockTransport(spy))
    TokenManager(settings(password="p&ss=w rd"), http).token()
    assert sent[0].headers["content-type"] == "application/x-www-form-urlencoded"
    assert dict(parse_qsl(sent[0].content.decode()))["password"] == "p&ss=w rd"


def test_expired_refresh_token_answered_400_leads_to_a_new_login() -> None:
    def expire_refresh(form: dict[str, str]) -> httpx.Response | None:
        if form["grant_type"] == "refresh_token":
            return json_response(
                400, {"error": "invalid_grant", "error_description": "refresh token expired"}
            )
        return None

    cloud = FakeCloud(ttl=100, token_hook=expire_refresh)
    tokens = manager(cloud)
    tokens.token()
    cloud.clock.advance(100)
    assert tokens.token() == "access-2"
    assert cloud.grant_types() == ["password", "refresh_token", "password"]
