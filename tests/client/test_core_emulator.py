"""The client core against the real emulator on loopback: OAuth flows, cache, refresh, limits."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from belimo_cloud.client.retry import RetryPolicy
from belimo_cloud.client.session import Session
from belimo_cloud.config import DEMO_CREDENTIALS, Settings, load_settings
from belimo_cloud.errors import AuthError, InvalidCredentials, TransportError


def demo_settings(url: str, tmp_path: Path | None = None, **changes: object) -> Settings:
    """The demo tenant on this emulator, with the token cache in tmp_path (or off)."""
    values: dict[str, object] = {
        "api_url": url,
        "cache_tokens": tmp_path is not None,
        "token_cache_dir": tmp_path,
    }
    values.update(changes)
    return load_settings("demo", env={}, config_file=Path(os.devnull), **values)


def first_device(session: Session) -> str:
    devices = session.request("GET", "/devices", params={"limit": 1}).json()["data"]
    return str(devices[0]["id"])


def test_demo_profile_points_at_the_emulator(emulator_url: str) -> None:
    s = demo_settings(emulator_url)
    assert s.token_url == emulator_url + "/oauth/token"
    assert s.client_id == DEMO_CREDENTIALS["client_id"]


def test_password_grant_then_an_api_call(emulator_url: str) -> None:
    with Session(demo_settings(emulator_url)) as session:
        session.login()
        assert session.tokens.grant_history == ["password"]
        token = session.tokens.current
        assert token is not None and token.refresh_token
        body = session.request("GET", "/devices", params={"limit": 5}).json()
        assert len(body["data"]) == 5
        assert body["paging"]["total"] >= 36
        assert session.requests_sent == 1


def test_client_credentials_grant(emulator_url: str) -> None:
    s = replace(demo_settings(emulator_url), username=None, password=None)
    with Session(s) as session:
        session.request("GET", "/devices/stats")
        assert session.tokens.grant_history == ["client_credentials"]


def test_wrong_password_raises_invalid_credentials_with_the_servers_description(
    emulator_url: str,
) -> None:
    s = demo_settings(emulator_url, password="not-the-password")
    with Session(s) as session, pytest.raises(InvalidCredentials) as caught:
        session.request("GET", "/devices")
    err = caught.value
    assert err.description
    assert err.description in str(err)
    assert "not-the-password" not in str(err)


def test_second_tenant_sees_only_its_devices(emulator_url: str) -> None:
    s = demo_settings(
        emulator_url, username="facility@example.org", password="Second-Tenant-Password-1"
    )
    with Session(s) as session:
        body = session.request("GET", "/devices", params={"limit": 100}).json()
        assert body["paging"]["total"] == 3


def test_token_cache_is_reused_across_sessions_with_mode_0600(
    emulator_url: str, tmp_path: Path
) -> None:
    with Session(demo_settings(emulator_url, tmp_path)) as first:
        first.request("GET", "/devices/stats")
        assert first.tokens.grant_history == ["password"]
    files = list(tmp_path.iterdir())
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    with Session(demo_settings(emulator_url, tmp_path)) as second:
        second.request("GET", "/devices/stats")
        assert second.tokens.grant_history == []  # no login: the cached token was used
        second.logout()
    assert list(tmp_path.iterdir()) == []


def test_a_revoked_token_is_renewed_transparently(emulator_url: str) -> None:
    with Session(demo_settings(emulator_url)) as session:
        session.request("GET", "/devices/stats")
        held = session.tokens.current
        assert held is not None
        session.tokens._token = replace(held, access_token="forged-" + held.access_token)
        session.request("GET", "/devices/stats")
        assert session.requests_sent == 3  # one 401, then the renewed try
        assert session.tokens.grant_history == ["password", "refresh_token"]


@pytest.mark.slow
def test_short_lived_tokens_are_refreshed_and_the_rotated_refresh_token_kept(
    make_emulator: Callable[..., str],
) -> None:
    url = make_emulator(token_ttl=2, rate_limit=0, now=None)
    with Session(demo_settings(url)) as session:
        session.request("GET", "/devices/stats")
        first = session.tokens.current
        assert first is not None and first.refresh_token
        for _ in range(2):
            time.sleep(2.0)
            session.request("GET", "/devices/stats")
        last = session.tokens.current
        assert last is not None
        assert session.tokens.grant_history == ["password", "refresh_token", "refresh_token"]
        assert last.refresh_token != first.refresh_token
        assert session.requests_sent == 3  # refreshed before expiry: no 401 round trip


@pytest.mark.slow
def test_two_per_second_limiter_meets_the_emulators_limit_without_a_429(
    make_emulator: Callable[..., str],
) -> None:
    """20 data requests against the emulator's 2/s limit: zero 429s, >= 90% of the rate."""
    url = make_emulator(rate_limit=2.0, rate_burst=2, now=None)
    no_retry = RetryPolicy(max_attempts=1)  # a single 429 would raise RateLimited
    with Session(demo_settings(url, rate_limit=2.0), retry=no_retry) as session:
        device = first_device(session)
        stamps = []
        for _ in range(20):
            session.request("GET", f"/devices/{device}/data", data_endpoint=True)
            stamps.append(time.monotonic())
        assert session.requests_sent == 21
        rate = (len(stamps) - 1) / (stamps[-1] - stamps[0])
        assert rate >= 0.9 * 2.0


def test_unreachable_api_is_a_one_line_transport_error() -> None:
    s = Settings(
        client_id="c",
        client_secret="s",
        api_url="http://127.0.0.1:9",
        token_url="http://127.0.0.1:9/oauth/token",
        cache_tokens=False,
    )
    session = Session(s, retry=RetryPolicy(max_attempts=2, base=0.01))
    with session, pytest.raises(TransportError) as caught:
        session.request("GET", "/devices")
    assert str(caught.value) == (
        "cannot reach the token endpoint http://127.0.0.1:9/oauth/token: "
        "connection refused (gave up after 2 tries)"
    )


def test_tokens_expired_by_the_server_are_renewed_with_the_refresh_token(
    make_emulator: Callable[..., str],
) -> None:
    url = make_emulator(rate_limit=0)
    with Session(demo_settings(url)) as session:
        session.request("GET", "/devices/stats")
        assert session._http.post(url + "/_emulator/expire-tokens").json()["expired"] >= 1
        session.request("GET", "/devices/stats")
        assert session.tokens.grant_history == ["password", "refresh_token"]
        # Reset forgets refresh tokens too: the refresh is refused, a password grant follows.
        session._http.post(url + "/_emulator/reset")
        session.request("GET", "/devices/stats")
        assert session.tokens.grant_history == [
            "password",
            "refresh_token",
            "refresh_token",
            "password",
        ]


def test_missing_scope_names_the_scope(emulator_url: str) -> None:
    s = demo_settings(emulator_url, scope="public.read offline_access")
    with Session(s) as session, pytest.raises(AuthError) as caught:
        session.request("GET", "/definitions/dataprofiles", params={"expanded": False})
    assert caught.value.error == "insufficient_scope"
    assert "read:dataprofile" in str(caught.value)


def test_injected_503s_and_dropped_connections_are_survived(
    make_emulator: Callable[..., str],
) -> None:
    url = make_emulator(rate_limit=0, error_rate=0.25, drop_rate=0.15, seed=3)
    policy = RetryPolicy(max_attempts=10, base=0.01, cap=0.05)
    with Session(demo_settings(url), retry=policy) as session:
        for _ in range(30):
            assert session.request("GET", "/devices/stats").json()["totalDevices"] >= 36
        assert session.requests_sent > 30  # some tries failed and were retried
        counters = session._http.get(url + "/_emulator/faults").json()
    injected = counters.get("counters", counters)
    assert injected["errors"] + injected["drops"] == session.requests_sent - 30


def test_server_429s_are_retried_after_retry_after_when_our_limiter_is_off(
    make_emulator: Callable[..., str],
) -> None:
    url = make_emulator(rate_limit=2.0, rate_burst=2)
    with Session(demo_settings(url, rate_limit=0)) as session:
        device = first_device(session)
        for _ in range(4):
            session.request("GET", f"/devices/{device}/data", data_endpoint=True)
        # 2 from the burst, then 429 + Retry-After, each honoured and retried successfully.
        assert session.requests_sent > 5


def test_threads_sharing_a_session_log_in_once(make_emulator: Callable[..., str]) -> None:
    url = make_emulator(rate_limit=0)
    with Session(demo_settings(url)) as session, ThreadPoolExecutor(4) as pool:
        totals = list(
            pool.map(lambda _: session.request("GET", "/devices/stats").json(), range(20))
        )
        assert session.tokens.grant_history == ["password"]
    assert {t["totalDevices"] for t in totals} == {totals[0]["totalDevices"]}
    assert session.requests_sent == 20
