"""The real client against a hostile server: nothing hangs, nothing leaks, nothing lies.

Each test starts tests/client/hostile.py's threaded server on loopback and gives the client
short timeouts and budgets, so that a failure path ends in a fraction of a second. A call
that would hang is run in a thread and must finish well within a bound many times its budget.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from belimo_cloud.client import Client
from belimo_cloud.client.chunking import plan_windows
from belimo_cloud.client.deadline import budget_scope, carrying_budget, current_budget
from belimo_cloud.client.session import Session
from belimo_cloud.client.tokencache import CachedToken, TokenCache
from belimo_cloud.config import Settings
from belimo_cloud.errors import (
    APIError,
    AuthError,
    BadRequest,
    DataError,
    ResponseError,
    TransportError,
    UnusableToken,
)
from tests.client.hostile import (
    Bucket,
    HostileServer,
    answer,
    drip,
    hang,
    hostile_server,
    html_page,
    repeating_page,
    token,
)

PASSWORD = "pw-31415926535"


def settings(server: HostileServer, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "client_id": "cid",
        "client_secret": "csecret-xyz",
        "username": "user",
        "password": PASSWORD,
        "api_url": server.url,
        "token_url": server.url + "/oauth/token",
        "cache_tokens": False,
        "rate_limit": 0.0,
        "timeout": 0.5,
        "budget": 2.0,
    }
    values.update(changes)
    return Settings(**values)


def outcome(call: Callable[[], object], bound: float = 20.0) -> BaseException | object:
    """Run ``call`` in a thread; its result or exception. Fails the test if it hangs."""
    box: list[object] = []

    def run() -> None:
        try:
            box.append(call())
        except BaseException as exc:  # handed to the test to inspect
            box.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(bound)
    assert not thread.is_alive(), f"the call still runs after {bound} s: it hangs"
    return box[0]


# -- hangs --


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "status-line"])
def test_a_server_dripping_bytes_fails_at_the_exchange_deadline(headers_too: bool) -> None:
    # One byte every 0.1 s never trips a 0.5 s read timeout: only the whole-exchange deadline
    # can end it.
    body = b'{"totalDevices": 1' + b" " * 200 + b"}"
    with hostile_server(
        **{"/api/v3/devices/stats": drip(body, 0.1, headers_too=headers_too)}
    ) as srv:
        session = Session(settings(srv, budget=1.2))
        result = outcome(lambda: session.request("GET", "/devices/stats"))
        session.close()
    assert isinstance(result, TransportError)
    assert "no complete answer within" in str(result)
    # Each try was cut at its deadline: the budget allows only a few.
    assert 1 <= len(srv.requests_to("/api/v3/devices/stats")) <= 3


def test_a_change_stream_that_never_opens_gives_up() -> None:
    # A watch against a server that never answers must end with an error, not retry forever.
    with hostile_server(**{"/oauth/token": token(), "/api/v3/devices/change-stream": hang}) as srv:
        client = Client.from_settings(settings(srv, timeout=0.3, budget=1.0))
        with client:
            subscription = client.live.subscribe(give_up_after=3.0)
            result = outcome(lambda: subscription.get(timeout=30))
            subscription.close()
    assert isinstance(result, TransportError)
    assert "could not be opened" in str(result)
    assert len(srv.requests_to("/api/v3/devices/change-stream")) >= 2  # it did retry first


def test_a_token_endpoint_that_never_answers_fails_within_the_budget() -> None:
    with hostile_server(**{"/oauth/token": hang}) as srv:
        session = Session(settings(srv, timeout=0.3, budget=1.0))
        result = outcome(lambda: session.request("GET", "/devices/stats"))
        session.close()
    assert isinstance(result, TransportError)
    assert "token endpoint" in str(result)
    assert srv.requests_to("/api/v3") == []
    assert 1 <= len(srv.requests_to("/oauth/token")) <= 4


def test_a_page_repeating_under_a_huge_total_ends_with_a_clear_error() -> None:
    with hostile_server(**{"/api/v3/devices": repeating_page()}) as srv:
        client = Client(settings=settings(srv))
        result = outcome(lambda: list(client.devices.list(page_size=2)))
        client.close()
    assert isinstance(result, ResponseError) and isinstance(result, APIError)
    assert "repeating the same page" in str(result)
    assert len(srv.requests_to("/api/v3/devices")) <= 3


def test_the_budget_bounds_a_429_storm() -> None:
    storm = answer(429, {"message": "slow down"}, Retry_After="0")
    with hostile_server(**{"/api/v3/devices/stats": storm}) as srv:
        session = Session(settings(srv, budget=1.5))
        result = outcome(lambda: session.request("GET", "/devices/stats", data_endpoint=True))
        session.close()
    assert isinstance(result, APIError) and result.status_code == 429
    # The advice fits a limiter that is off.
    assert "BELIMO_RATE_LIMIT" in str(result) and "lower rate_limit" not in str(result)


def test_eight_threads_without_a_limiter_get_through_a_two_per_second_server() -> None:
    bucket = Bucket(rate=2.0, burst=2, body={"data": []})
    with hostile_server(**{"/api/v3/devices/d/data": bucket}) as srv:
        session = Session(settings(srv, timeout=5.0, budget=60.0, max_workers=8))
        errors: list[BaseException] = []

        def worker() -> None:
            for _ in range(2):
                try:
                    session.request("GET", "/devices/d/data", data_endpoint=True)
                except BaseException as exc:  # collected for the assert
                    errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        session.close()
    assert errors == []
    assert bucket.served == 16
    assert bucket.refused > 0  # the server did push back, and every thread got through


# -- misclassification --


def test_a_200_html_page_is_an_api_error_not_a_bug() -> None:
    with hostile_server(**{"/api/v3/devices": html_page()}) as srv:
        client = Client(settings=settings(srv))
        result = outcome(lambda: list(client.devices.list()))
        client.close()
    assert isinstance(result, ResponseError) and isinstance(result, APIError)
    assert "HTML page" in str(result)


def test_malformed_json_in_a_200_is_a_response_error() -> None:
    def broken(h: Any) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", "9")
        h.end_headers()
        h.wfile.write(b'{"data": ')

    with hostile_server(**{"/api/v3/devices/stats": broken}) as srv:
        client = Client(settings=settings(srv))
        result = outcome(client.devices.stats)
        client.close()
    assert isinstance(result, ResponseError) and isinstance(result, APIError)


def test_an_api_400_is_bad_request() -> None:
    bad = answer(400, {"message": "from must be before to"})
    with hostile_server(**{"/api/v3/devices/stats": bad}) as srv:
        session = Session(settings(srv))
        result = outcome(lambda: session.request("GET", "/devices/stats"))
        session.close()
    assert isinstance(result, BadRequest)
    assert "from must be before to" in str(result)
    assert len(srv.requests_to("/api/v3/devices/stats")) == 1


# -- tokens that must never reach a header --


@pytest.mark.parametrize(
    "bad_token", ["abc\r\nX-Evil: 1", "abc\ndef", "t\u00f6ken-\u2603", "abc def"]
)
def test_a_hostile_token_server_is_an_auth_error_never_echoed_never_retried(
    bad_token: str,
) -> None:
    with hostile_server(**{"/oauth/token": token(bad_token)}) as srv:
        session = Session(settings(srv))
        result = outcome(lambda: session.request("GET", "/devices/stats"))
        session.close()
    assert isinstance(result, UnusableToken) and isinstance(result, AuthError)
    assert not isinstance(result, TransportError)
    assert bad_token not in str(result) and "X-Evil" not in str(result)
    assert len(srv.requests_to("/oauth/token")) == 1  # not retried
    assert srv.requests_to("/api/v3") == []  # never sent


def test_a_tampered_token_cache_is_an_auth_error(tmp_path: Path) -> None:
    with hostile_server(**{"/api/v3/devices/stats": answer(200, {"totalDevices": 0})}) as srv:
        s = settings(srv, cache_tokens=True, token_cache_dir=tmp_path)
        TokenCache(tmp_path).save(s, CachedToken("good\r\nX-Evil: 1", expires_at=4e9))
        session = Session(s)
        result = outcome(lambda: session.request("GET", "/devices/stats"))
        session.close()
    assert isinstance(result, UnusableToken)
    assert "X-Evil" not in str(result) and "belimo logout" in str(result)
    assert srv.requests_to("/api/v3") == []


# -- secrets --


def test_userinfo_in_the_api_url_never_reaches_logs_or_reprs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    flaky = answer(503, {"message": "busy"})
    with hostile_server(**{"/api/v3/devices/stats": flaky}) as srv:
        url = srv.url.replace("http://", f"http://admin:{PASSWORD}@")
        s = settings(srv, api_url=url, token_url=url + "/oauth/token", budget=1.0)
        caplog.set_level(logging.DEBUG)
        session = Session(s)
        result = outcome(lambda: session.request("GET", "/devices/stats"))
        shown = [repr(s), repr(session), str(s.masked()), str(result)]
        session.close()
    assert isinstance(result, APIError)
    assert any("retry" in r.getMessage() for r in caplog.records)
    for text in [*shown, *(r.getMessage() for r in caplog.records)]:
        assert PASSWORD not in text
    assert s.masked()["api_url"].startswith("http://****@127.0.0.1")


# -- scopes on demand --


def test_write_scope_is_asked_only_on_demand_and_never_cached(tmp_path: Path) -> None:
    granted = token("write-token", scope="public.read offline_access public.write")
    with hostile_server(**{"/api/v3/devices/stats": answer(200, {"totalDevices": 0})}) as srv:
        s = settings(srv, cache_tokens=True, token_cache_dir=tmp_path)
        session = Session(s)
        session.request("GET", "/devices/stats")
        first = srv.requests_to("/oauth/token")[-1].body.decode()
        assert "public.write" not in first
        assert session.login().done  # the read-only token is cached
        srv.route("/oauth/token", granted)
        session.request("GET", "/devices/stats", scopes=("public.write",))
        asked = srv.requests_to("/oauth/token")[-1].body.decode()
        assert "public.write" in asked
        assert srv.requests_to("/api/v3")[-1].headers["Authorization"] == "Bearer write-token"
        session.request("GET", "/devices/stats", scopes=("public.write",))  # no new grant
        grants = len(srv.requests_to("/oauth/token"))
        session.close()
        cached = TokenCache(tmp_path).load(s)
    assert grants == 3
    assert cached is not None and cached.access_token == "good-token"


def test_a_refused_write_scope_is_an_auth_error() -> None:
    read_only = token("ro-token", scope="public.read")
    with hostile_server(**{"/oauth/token": read_only}) as srv:
        session = Session(settings(srv))
        result = outcome(lambda: session.require_scopes("public.write"))
        session.close()
    assert isinstance(result, AuthError) and "public.write" in str(result)


# -- honest login/logout --


def test_login_and_logout_report_what_became_of_the_cache(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with hostile_server() as srv:
        stuck = Session(settings(srv, cache_tokens=True, token_cache_dir=blocker / "tokens"))
        saved = stuck.login()
        stuck.close()
        ok = Session(settings(srv, cache_tokens=True, token_cache_dir=tmp_path / "tokens"))
        good = ok.login()
        removed = ok.logout()
        again = ok.logout()
        ok.close()
    assert not saved.done and saved.failed and saved.error and "good-token" not in saved.error
    assert good.done and good.path is not None and not good.failed
    assert removed.done and not again.done and not again.failed


def test_raw_history_repeating_under_a_huge_total_ends_with_a_clear_error() -> None:
    page = {
        "data": [{"timestamp": "2018-01-01T00:00:00Z", "value": 1.0}],
        "paging": {"total": 10**12, "offset": 0, "limit": 1},
    }
    route = "/api/v3/devices/d1/data/history/datapoints/evcloud.210"
    with hostile_server(**{route: answer(200, page)}) as srv:
        client = Client(settings=settings(srv))
        result = outcome(lambda: client.history.raw("d1", "evcloud.210", page_size=1))
        client.close()
    assert isinstance(result, ResponseError)
    assert "repeating" in str(result)
    assert len(srv.requests_to(route)) == 2


def test_a_range_needing_too_many_requests_is_refused_before_any_request() -> None:
    with pytest.raises(DataError, match="coarser resolution"):
        plan_windows("1971-01-01T00:00:00Z", "2199-01-01T00:00:00Z", "1s")


def test_a_command_budget_bounds_a_series_of_calls_and_their_worker_threads() -> None:
    slow = drip(b'{"totalDevices": 1}', 0.05)  # each answer takes about 1 s
    with hostile_server(**{"/api/v3/devices/stats": slow}) as srv:
        session = Session(settings(srv, timeout=5.0, budget=30.0))

        def three_calls() -> None:
            with session.deadline(1.5):
                for _ in range(3):
                    session.request("GET", "/devices/stats")

        result = outcome(three_calls)
        session.close()
    assert isinstance(result, TransportError)
    assert len(srv.requests_to("/api/v3/devices/stats")) <= 2


def test_worker_threads_carry_the_callers_budget() -> None:
    seen: list[object] = []
    with budget_scope(5.0) as budget:
        work = carrying_budget(lambda: seen.append(current_budget()))
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    assert seen == [budget]
    assert current_budget() is None
