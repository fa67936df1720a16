"""Session against MockTransport: retries, error mapping, token renewal, redaction."""

from __future__ import annotations

import logging
import threading

import httpx
import pytest

from belimo_cloud.client.retry import RetryPolicy
from belimo_cloud.client.session import Session
from belimo_cloud.errors import (
    APIError,
    AuthError,
    BadRequest,
    NotFound,
    RateLimited,
    ServerError,
    TokenExpired,
    TransportError,
)
from tests.client.core_fakes import PASSWORD, SECRET, FakeCloud, json_response, settings


def make(cloud: FakeCloud, retry: RetryPolicy | None = None, **changes: object) -> Session:
    return Session(
        settings(**changes),
        transport=cloud.transport(),
        clock=cloud.clock,
        sleep=cloud.clock.sleep,
        retry=retry or RetryPolicy(rng=lambda: 1.0),
    )


def scripted(*answers: httpx.Response | Exception):
    """An API handler answering in order, then 200 {"ok": true} forever."""
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        if queue:
            answer = queue.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        return json_response(200, {"ok": True})

    return handler


def test_request_returns_the_read_response_with_bearer_and_params() -> None:
    cloud = FakeCloud()
    session = make(cloud)
    response = session.request(
        "GET", "/devices", params={"limit": 5, "search": None, "expanded": True, "ids": ["a", "b"]}
    )
    assert response.json() == {"ok": True}
    sent = cloud.api_requests[0]
    assert sent.url.path == "/api/v3/devices"
    assert dict(sent.url.params) == {"limit": "5", "expanded": "true", "ids": "a,b"}
    assert sent.headers["authorization"] == "Bearer access-1"
    assert session.requests_sent == 1
    assert session.get_bytes("/devices/x") == b'{"ok": true}'
    assert cloud.grant_types() == ["password"]  # one login for both requests


def test_503_then_200_is_retried_after_a_backoff() -> None:
    cloud = FakeCloud(api=scripted(json_response(503, {"message": "busy"})))
    session = make(cloud)
    assert session.request("GET", "/devices").json() == {"ok": True}
    assert session.requests_sent == 2
    assert len(cloud.clock.sleeps) == 1
    assert 0 < cloud.clock.sleeps[0] <= 0.5


def test_429_storm_honours_retry_after_then_raises_rate_limited_at_the_ceiling() -> None:
    def always_429(request: httpx.Request) -> httpx.Response:
        return json_response(429, {"message": "slow down"}, **{"Retry-After": "7"})

    cloud = FakeCloud(api=always_429)
    policy = RetryPolicy(max_attempts=100, max_total_wait=30.0, rng=lambda: 0.0)
    session = make(cloud, retry=policy)
    with pytest.raises(RateLimited) as caught:
        session.request("GET", "/devices/d1/data/history/timeseries", data_endpoint=True)
    err = caught.value
    assert cloud.clock.sleeps == [7.0, 7.0, 7.0, 7.0]  # a fifth wait would pass 30 s
    assert err.retry_after == 7.0
    assert err.status_code == 429
    assert err.method == "GET"
    assert err.url.endswith("/api/v3/devices/d1/data/history/timeseries")
    assert "slow down" in err.body
    assert session.requests_sent == 5


def test_retry_after_as_http_date_is_honoured() -> None:
    cloud = FakeCloud()
    # A date in the past means "retry now".
    cloud.api = scripted(json_response(503, {}, **{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    session = make(cloud, retry=RetryPolicy(rng=lambda: 0.0))
    session.request("GET", "/devices")
    assert cloud.clock.sleeps == [0.0]


@pytest.mark.parametrize(
    "failure",
    [
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("connection reset mid-body"),
        httpx.ConnectError("[Errno 111] Connection refused"),
        httpx.ReadTimeout("timed out"),
    ],
)
def test_dropped_connections_and_timeouts_are_retried(failure: Exception) -> None:
    cloud = FakeCloud(api=scripted(failure, failure))
    session = make(cloud)
    assert session.request("GET", "/devices").json() == {"ok": True}
    assert session.requests_sent == 3


def test_connection_refused_ends_in_one_line_transport_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    cloud = FakeCloud()
    cloud.api = refuse
    session = make(cloud, retry=RetryPolicy(max_attempts=3, rng=lambda: 1.0))
    with pytest.raises(TransportError) as caught:
        session.request("GET", "/devices", params={"limit": 2})
    message = str(caught.value)
    assert message == (
        "cannot reach https://api.example.test/api/v3/devices: connection refused "
        "(gave up after 3 tries)"
    )
    assert session.requests_sent == 3
    assert len(cloud.clock.sleeps) == 2


def test_post_is_not_retried() -> None:
    cloud = FakeCloud(api=scripted(json_response(503, {"message": "busy"})))
    session = make(cloud)
    with pytest.raises(ServerError) as caught:
        session.request("POST", "/devices/d1/data", json={"datapoints": {}})
    assert caught.value.status_code == 503
    assert caught.value.method == "POST"
    assert session.requests_sent == 1
    assert cloud.clock.sleeps == []


def test_server_error_after_retries_carries_status_method_url_body() -> None:
    cloud = FakeCloud(api=lambda r: json_response(502, {"message": "bad gateway"}))
    session = make(cloud, retry=RetryPolicy(max_attempts=3, rng=lambda: 1.0))
    with pytest.raises(ServerError) as caught:
        session.request("GET", "/devices/d1")
    err = caught.value
    assert (err.status_code, err.method) == (502, "GET")
    assert err.url == "https://api.example.test/api/v3/devices/d1"
    assert "bad gateway" in err.body and "bad gateway" in str(err)
    assert session.requests_sent == 3


@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, BadRequest), (404, NotFound), (409, APIError), (403, APIError)],
)
def test_client_errors_map_onto_the_tree_without_retry(status: int, kind: type) -> None:
    cloud = FakeCloud(api=lambda r: json_response(status, {"errors": [{"message": "nope"}]}))
    session = make(cloud)
    with pytest.raises(kind) as caught:
        session.request("GET", "/devices/unknown", params={"from": "2018-01-01T00:00:00Z"})
    err = caught.value
    assert type(err) is kind
    assert err.status_code == status
    assert "from=2018-01-01T00%3A00%3A00Z" in err.url
    assert "nope" in str(err)
    assert "\n" not in str(err)
    assert session.requests_sent == 1


def test_malformed_error_body_still_maps_cleanly() -> None:
    cloud = FakeCloud(api=lambda r: httpx.Response(404, content=b"\xff\xfe<html>not json"))
    session = make(cloud)
    with pytest.raises(NotFound):
        session.request("GET", "/devices/x")


def test_403_insufficient_scope_names_the_missing_scope() -> None:
    def forbid(request: httpx.Request) -> httpx.Response:
        return json_response(
            403,
            {"error": "insufficient_scope", "error_description": "needs public.write"},
            **{"WWW-Authenticate": 'Bearer error="insufficient_scope", scope="public.write"'},
        )

    session = make(FakeCloud(api=forbid))
    with pytest.raises(AuthError) as caught:
        session.request("POST", "/devices/d1/data", json={"datapoints": {"x": 1}})
    assert "public.write" in str(caught.value)
    assert caught.value.error == "insufficient_scope"


def test_401_invalid_token_is_retried_once_transparently() -> None:
    cloud = FakeCloud()
    session = make(cloud)
    session.request("GET", "/devices")
    cloud.access.clear()  # the server revokes every token, e.g. after a restart
    assert session.request("GET", "/devices").json() == {"ok": True}
    # The held refresh token is still valid, so renewal is a refresh, not a new login.
    assert cloud.grant_types() == ["password", "refresh_token"]
    assert session.requests_sent == 3


def test_401_after_renewal_raises_token_expired() -> None:
    cloud = FakeCloud(
        api=lambda r: json_response(401, {"error": "invalid_token", "error_description": "revoked"})
    )
    session = make(cloud)
    with pytest.raises(TokenExpired) as caught:
        session.request("GET", "/devices")
    assert "revoked" in str(caught.value)
    assert session.requests_sent == 2


def test_token_expiring_between_requests_is_refreshed_proactively() -> None:
    cloud = FakeCloud(ttl=300)
    session = make(cloud)
    session.request("GET", "/devices")
    cloud.clock.advance(300 - 29)  # inside the 30 s margin (10% of 300 s)
    session.request("GET", "/devices")
    assert cloud.grant_types() == ["password", "refresh_token"]
    assert session.requests_sent == 2  # no 401 round trip


def test_data_endpoints_wait_on_the_shared_limiter() -> None:
    cloud = FakeCloud()
    session = make(cloud, rate_limit=2.0)
    for _ in range(5):
        session.request("GET", "/devices/d/data", data_endpoint=True)
    session.request("GET", "/devices")  # not a data endpoint: no wait
    assert cloud.clock.sleeps == [0.5, 0.5, 0.5, 0.5]


def test_many_threads_share_one_login() -> None:
    cloud = FakeCloud()
    session = Session(settings(), transport=cloud.transport())
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                session.request("GET", "/devices")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert cloud.grant_types() == ["password"]
    assert session.requests_sent == 40


def test_secrets_never_reach_logs_or_reprs(caplog: pytest.LogCaptureFixture) -> None:
    cloud = FakeCloud(api=scripted(json_response(503, {})))
    caplog.set_level(logging.DEBUG, logger="belimo_cloud")
    session = make(cloud)
    session.request("GET", "/devices")
    cloud.access.clear()
    session.request("GET", "/devices")
    text = caplog.text + repr(session) + repr(session.settings) + repr(session.tokens)
    for secret in (SECRET, PASSWORD, "access-1", "refresh-1", "access-2", "refresh-2"):
        assert secret not in text
    assert "retry" in caplog.text  # decisions are logged


def test_token_is_not_sent_to_a_foreign_host() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"a;b")

    session = make(FakeCloud())
    session._http._transport = httpx.MockTransport(handler)  # type: ignore[attr-defined]
    session.request("GET", "https://files.example.test/download/t0k3n")
    assert "authorization" not in seen[0].headers


def test_close_and_context_manager() -> None:
    with make(FakeCloud()) as session:
        session.request("GET", "/devices")
    assert session._http.is_closed


def test_log_lines_are_redacted_even_when_a_secret_slips_in(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="belimo_cloud.client")
    make(FakeCloud())  # importing the session installs the filter
    log = logging.getLogger("belimo_cloud.client")
    log.debug("sending %s", "Authorization: Bearer abc.def.ghi password=hunter2&x=1")
    log.debug("form %s", {"client_secret": "zzz-top", "refresh_token": "rt-1"})
    assert "abc.def.ghi" not in caplog.text
    assert "hunter2" not in caplog.text
    assert "zzz-top" not in caplog.text and "rt-1" not in caplog.text
    assert "x=1" in caplog.text


def test_refused_refresh_token_through_the_session_logs_in_again() -> None:
    cloud = FakeCloud(ttl=100)
    session = make(cloud)
    session.request("GET", "/devices")
    cloud.refresh.clear()  # refresh token expired or revoked on the server
    cloud.clock.advance(150)
    assert session.request("GET", "/devices").json() == {"ok": True}
    assert cloud.grant_types() == ["password", "refresh_token", "password"]
    assert session.requests_sent == 2


def test_a_second_session_reuses_the_cached_token(tmp_path) -> None:
    cloud = FakeCloud()
    first = make(cloud, cache_tokens=True, token_cache_dir=tmp_path)
    first.request("GET", "/devices")
    first.close()
    second = make(cloud, cache_tokens=True, token_cache_dir=tmp_path)
    second.request("GET", "/devices")
    assert cloud.grant_types() == ["password"]
    assert cloud.auth_seen == ["Bearer access-1", "Bearer access-1"]
    second.logout()
    assert list(tmp_path.iterdir()) == []
    third = make(cloud, cache_tokens=True, token_cache_dir=tmp_path)
    third.request("GET", "/devices")
    assert cloud.grant_types() == ["password", "password"]


def test_an_expired_cached_token_is_refreshed_not_relogged(tmp_path) -> None:
    cloud = FakeCloud(ttl=100)
    make(cloud, cache_tokens=True, token_cache_dir=tmp_path).request("GET", "/devices")
    cloud.clock.advance(1000)
    make(cloud, cache_tokens=True, token_cache_dir=tmp_path).request("GET", "/devices")
    assert cloud.grant_types() == ["password", "refresh_token"]


def test_text_body_and_extra_headers_for_non_json_writes() -> None:
    seen: list[tuple[str, bytes, str]] = []

    def api(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.content, request.headers["content-type"]))
        return httpx.Response(204)

    session = make(FakeCloud(api=api))
    response = session.request(
        "PUT", "/jobs/j1/state", content="CANCELED", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 204
    assert seen == [("PUT", b"CANCELED", "text/plain")]


def test_a_429_on_a_data_endpoint_holds_back_the_shared_limiter() -> None:
    cloud = FakeCloud(api=scripted(json_response(429, {}, **{"Retry-After": "3"})))
    session = make(cloud, retry=RetryPolicy(rng=lambda: 0.0), rate_limit=2.0)
    session.request("GET", "/devices/d/data", data_endpoint=True)
    assert cloud.clock.sleeps == [3.0]  # the retry's wait; the limiter is free again by then
    assert session.limiter.reserve() == 0.5  # back to the normal spacing afterwards


class _DropsMidBody(httpx.SyncByteStream):
    """A body stream that delivers its first bytes, then loses the connection."""

    def __iter__(self):  # type: ignore[override]
        yield b'{"data": [{"id": "d1"}, '
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


def test_a_connection_dropped_mid_body_is_retried() -> None:
    answers = [httpx.Response(200, stream=_DropsMidBody())]

    def api(request: httpx.Request) -> httpx.Response:
        return answers.pop() if answers else json_response(200, {"data": []})

    cloud = FakeCloud(api=api)
    session = make(cloud)
    assert session.request("GET", "/devices").json() == {"data": []}
    assert session.requests_sent == 2
    assert len(cloud.clock.sleeps) == 1


def test_a_body_dropped_every_time_ends_in_transport_error() -> None:
    cloud = FakeCloud(api=lambda r: httpx.Response(200, stream=_DropsMidBody()))
    session = make(cloud, retry=RetryPolicy(max_attempts=2, rng=lambda: 1.0))
    with pytest.raises(TransportError, match="connection dropped by the server"):
        session.get_bytes("/devices")


def test_api_info_needs_no_credentials() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(200, {"version": "3.5.0"})

    s = settings(client_id=None, client_secret=None)
    session = Session(s, transport=httpx.MockTransport(handler))
    assert session.request("GET", "/api-info").json() == {"version": "3.5.0"}
    assert session.request("GET", "/devices", auth=False).status_code == 200
    assert [r.url.path for r in seen] == ["/api/v3/api-info", "/api/v3/devices"]
    assert all("authorization" not in r.headers for r in seen)
    assert session.tokens.grant_history == []


def test_a_token_renewed_by_another_process_is_picked_up_from_the_cache(tmp_path) -> None:
    cloud = FakeCloud(ttl=100)
    ours = make(cloud, cache_tokens=True, token_cache_dir=tmp_path)
    ours.request("GET", "/devices")
    cloud.clock.advance(95)  # stale for both
    theirs = make(cloud, cache_tokens=True, token_cache_dir=tmp_path)
    theirs.request("GET", "/devices")  # refreshes: refresh-1 is rotated away
    ours.request("GET", "/devices")  # reads their token from the cache instead
    assert cloud.grant_types() == ["password", "refresh_token"]
    assert cloud.auth_seen[-1] == cloud.auth_seen[-2] == "Bearer access-2"
