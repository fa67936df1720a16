"""The shared token bucket: spacing, bursts, unlimited mode and thread safety."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from belimo_cloud.client.ratelimit import TokenBucket
from tests.client.core_fakes import FakeClock


def test_twenty_requests_at_two_per_second_take_nine_and_a_half_seconds() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2.0, 1, clock=clock, sleep=clock.sleep)
    start = clock()
    stamps = []
    for _ in range(20):
        bucket.acquire()
        stamps.append(clock() - start)
    assert stamps == pytest.approx([i * 0.5 for i in range(20)])
    assert 20 / (stamps[-1] + 0.5) == pytest.approx(2.0)


def test_burst_allows_that_many_at_once_then_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(4.0, 3, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(5)]
    assert waits == pytest.approx([0, 0, 0, 0.25, 0.25])


def test_idle_time_refills_up_to_the_burst_only() -> None:
    clock = FakeClock()
    bucket = TokenBucket(1.0, 2, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    bucket.acquire()
    clock.advance(100)
    assert [bucket.acquire() for _ in range(3)] == pytest.approx([0, 0, 1.0])


def test_rate_zero_is_unlimited() -> None:
    clock = FakeClock()
    bucket = TokenBucket(0, clock=clock, sleep=clock.sleep)
    assert all(bucket.acquire() == 0 for _ in range(1000))
    assert clock.sleeps == []


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        TokenBucket(-1)
    with pytest.raises(ValueError):
        TokenBucket(1, 0)


def test_threads_are_served_in_distinct_slots() -> None:
    """Eight threads, 40 acquisitions at 400/s: the n-th slot never starts before (n-1)/rate."""
    rate = 400.0
    bucket = TokenBucket(rate, 1)
    start = time.monotonic()
    stamps: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(5):
            bucket.acquire()
            with lock:
                stamps.append(time.monotonic() - start)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps.sort()
    assert len(stamps) == 40
    for n, stamp in enumerate(stamps):
        assert stamp >= n / rate - 1e-3


def test_defer_holds_the_next_caller_back() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2.0, 1, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    bucket.defer(3.0)
    assert bucket.acquire() == pytest.approx(3.0)
    assert bucket.acquire() == pytest.approx(0.5)


def test_a_429_holds_callers_back_even_with_the_limiter_off_spread_over_a_share() -> None:
    clock = FakeClock()
    draws = iter([0.0, 0.5, 1.0])
    bucket = TokenBucket(0, clock=clock, sleep=clock.sleep, rng=lambda: next(draws))
    assert bucket.reserve() == 0.0
    bucket.defer(4.0)
    # Everyone waits the 4 s, plus a different share of up to half of it.
    assert [bucket.reserve() for _ in range(3)] == [4.0, 5.0, 6.0]
    clock.advance(4.0)
    assert bucket.reserve() == 0.0


@pytest.mark.parametrize("rate", [1e-300, 5e-324])
def test_a_tiny_rate_never_overflows_a_sleep(rate: float) -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate, 1, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    assert bucket.reserve() <= 86_400.0
    bucket.defer(1e308)
    assert all(s <= 86_400.0 for s in clock.sleeps)


@pytest.mark.parametrize("rate", [float("nan"), float("inf"), -1.0])
def test_rates_that_are_not_numbers_are_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(rate)


@given(
    rate=st.floats(0.5, 50),
    burst=st.integers(1, 5),
    gaps=st.lists(st.floats(0, 2), min_size=1, max_size=60),
)
def test_no_window_ever_holds_more_than_the_bucket_allows(
    rate: float, burst: int, gaps: list[float]
) -> None:
    """Token-bucket conformance: n grants within t seconds need n <= burst + rate * t."""
    clock = FakeClock()
    bucket = TokenBucket(rate, burst, clock=clock, sleep=lambda s: None)
    granted: list[float] = []
    for gap in gaps:
        clock.advance(gap)
        granted.append(clock() + bucket.reserve())
    # Reservations are handed out in order, so grants never go back in time.
    assert granted == sorted(granted)
    for i in range(len(granted)):
        for j in range(i + 1, len(granted)):
            assert j - i + 1 <= burst + rate * (granted[j] - granted[i]) + 1e-6
