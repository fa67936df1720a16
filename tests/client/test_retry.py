"""should_retry, backoff, Retry-After parsing and the policy's decisions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from belimo_cloud.client.retry import (
    GiveUp,
    RetryDriver,
    RetryPolicy,
    backoff,
    parse_retry_after,
    should_retry,
)
from tests.client.core_fakes import FakeClock


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "get"])
@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_idempotent_methods_retry_transient_statuses(method: str, status: int) -> None:
    assert should_retry(method, status)


@pytest.mark.parametrize("status", [200, 204, 400, 401, 403, 404, 409, 501])
def test_other_statuses_are_final(status: int) -> None:
    assert not should_retry("GET", status)


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("t"),
        httpx.ReadTimeout("t"),
        httpx.ReadError("reset"),
        httpx.RemoteProtocolError("dropped"),
        httpx.WriteError("broken pipe"),
    ],
)
def test_transport_failures_retry_for_idempotent_methods_only(exc: Exception) -> None:
    assert should_retry("GET", exc)
    assert not should_retry("POST", exc)
    assert should_retry("POST", exc, idempotent=True)


def test_post_and_patch_are_never_retried_and_bugs_never() -> None:
    assert not should_retry("POST", 503)
    assert not should_retry("PATCH", 429)
    assert not should_retry("GET", ValueError("bug"))
    assert not should_retry("GET", httpx.UnsupportedProtocol("ftp://"))


def test_backoff_is_capped_exponential_with_full_jitter() -> None:
    top = [backoff(n, base=0.5, cap=8.0, rng=lambda: 1.0) for n in range(1, 8)]
    assert top == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert backoff(3, base=0.5, cap=8.0, rng=lambda: 0.0) == 0.0
    assert backoff(3, base=0.5, cap=8.0, rng=lambda: 0.25) == 0.5
    for n in range(1, 20):
        assert 0.0 <= backoff(n) <= 30.0


def test_backoff_honours_retry_after_plus_a_jitter_share() -> None:
    assert backoff(1, 7.0, rng=lambda: 0.0) == 7.0
    assert backoff(1, 7.0, rng=lambda: 1.0) == 7.0 + 3.5  # at most half of it more
    assert backoff(9, 100.0, rng=lambda: 0.0) == 100.0  # the server knows better than our cap
    assert backoff(5, 0.0, rng=lambda: 1.0) == 1.0  # "now" still spreads threads over 1 s
    waits = {backoff(1, 2.0) for _ in range(50)}
    assert len(waits) > 1 and all(2.0 <= w <= 3.0 for w in waits)


def test_parse_retry_after_seconds_and_dates() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=42), usegmt=True)
    assert parse_retry_after(later, now=now.timestamp()) == 42.0
    earlier = format_datetime(now - timedelta(seconds=42), usegmt=True)
    assert parse_retry_after(earlier, now=now.timestamp()) == 0.0


def test_policy_stops_at_max_attempts_and_at_the_wait_ceiling() -> None:
    policy = RetryPolicy(max_attempts=3, base=1.0, cap=10.0, max_total_wait=120, rng=lambda: 1.0)
    assert policy.decide("GET", 503, attempt=1, waited=0) == 1.0
    assert policy.decide("GET", 503, attempt=2, waited=1) == 2.0
    assert policy.decide("GET", 503, attempt=3, waited=3) is None
    ceiling = RetryPolicy(max_attempts=50, max_total_wait=10, rng=lambda: 0.0)
    assert ceiling.decide("GET", 429, attempt=1, waited=6, retry_after=4) == 4
    assert ceiling.decide("GET", 429, attempt=2, waited=8, retry_after=4) is None
    assert ceiling.decide("GET", 429, attempt=1, waited=0, retry_after=600) is None
    assert policy.decide("POST", 503, attempt=1, waited=0) is None


def test_each_decision_is_logged_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="belimo_cloud.client")
    policy = RetryPolicy(max_attempts=2, rng=lambda: 1.0)
    policy.decide("GET", 503, attempt=1, waited=0, url="https://h/api/v3/devices")
    policy.decide("GET", 503, attempt=2, waited=0, url="https://h/api/v3/devices")
    policy.decide("POST", 503, attempt=1, waited=0, url="https://h/api/v3/devices")
    messages = [r.getMessage() for r in caplog.records if r.name == "belimo_cloud.client"]
    assert len(messages) == 3
    assert all(r.levelno == logging.DEBUG for r in caplog.records)
    assert messages[0].startswith("retry 2/2")
    assert messages[1].startswith("giving up")
    assert messages[2].startswith("no retry")


@given(st.text(max_size=60))
def test_parse_retry_after_never_raises(text: str) -> None:
    value = parse_retry_after(text, now=0.0)
    assert value is None or value >= 0


@given(st.integers(1, 200), st.floats(0, 1))
def test_backoff_stays_within_its_cap(attempt: int, draw: float) -> None:
    assert 0 <= backoff(attempt, base=0.5, cap=30, rng=lambda: draw) <= 30


def driver(clock: FakeClock, budget: float = 60.0, **policy: object) -> RetryDriver:
    rules = RetryPolicy(rng=lambda: 1.0, **policy)  # type: ignore[arg-type]
    return RetryDriver(rules, budget=budget, timeout=5.0, clock=clock, sleep=clock.sleep)


def answers(*statuses: int, **headers: str) -> Callable[[], httpx.Response]:
    queue = list(statuses)
    request = httpx.Request("GET", "https://api.example.test/x")

    def send() -> httpx.Response:
        status = queue.pop(0) if len(queue) > 1 else queue[0]
        return httpx.Response(status, headers=headers, request=request)

    return send


def test_the_driver_never_waits_past_the_budget() -> None:
    clock = FakeClock()
    response = driver(clock, budget=10.0, max_attempts=100).run(
        answers(503), method="GET", url="https://api.example.test/x"
    )
    assert response.status_code == 503
    assert sum(clock.sleeps) < 10.0  # the wait that would pass the budget was not taken


def test_a_429_has_its_own_larger_try_limit() -> None:
    clock = FakeClock()
    d = driver(clock, budget=1e6, max_attempts=2, max_rate_limited_attempts=5)
    d.run(answers(429, **{"Retry-After": "1"}), method="GET", url="https://x.test/")
    assert len(clock.sleeps) == 4  # five tries
    clock = FakeClock()
    driver(clock, budget=1e6, max_attempts=2).run(answers(503), method="GET", url="https://x.test/")
    assert len(clock.sleeps) == 1  # two tries


def test_a_401_renewal_is_one_extra_try_not_counted() -> None:
    clock = FakeClock()
    renewals: list[int] = []

    def renew(response: httpx.Response) -> bool:
        renewals.append(response.status_code)
        return True

    response = driver(clock, max_attempts=1).run(
        answers(401, 200), method="GET", url="https://x.test/", renew=renew
    )
    assert response.status_code == 200 and renewals == [401] and clock.sleeps == []
    again = driver(clock).run(answers(401), method="GET", url="https://x.test/", renew=renew)
    assert again.status_code == 401 and renewals == [401, 401]  # once per call


def test_a_request_httpx_cannot_build_is_never_retried() -> None:
    calls: list[int] = []

    def send() -> httpx.Response:
        calls.append(1)
        raise httpx.LocalProtocolError("Illegal header value")

    with pytest.raises(GiveUp) as caught:
        driver(FakeClock()).run(send, method="GET", url="https://u:pw@x.test/")
    assert calls == [1]
    assert "pw" not in caught.value.reason


def test_no_time_left_stops_before_the_first_try() -> None:
    clock = FakeClock()
    d = driver(clock, budget=5.0)

    def send() -> httpx.Response:
        clock.advance(6.0)
        raise httpx.ReadTimeout("slow")

    with pytest.raises(GiveUp):
        d.run(send, method="GET", url="https://x.test/")
    assert clock.sleeps == []
