"""Rate limiter and fault decisions without HTTP (a fake monotonic clock, no sleeping)."""

from __future__ import annotations

import pytest

from belimo_cloud.emulator.injected import (
    FaultInjector,
    RateLimiter,
    apply_fault_settings,
    retry_after_header,
    validate_fault_settings,
)
from belimo_cloud.emulator.options import EmulatorOptions


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_the_burst_then_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(EmulatorOptions(rate_limit=2.0, rate_burst=2), clock)
    assert limiter.acquire("a") is None
    assert limiter.acquire("a") is None
    wait = limiter.acquire("a")
    assert wait == pytest.approx(0.5)
    assert limiter.acquire("b") is None  # buckets are per token
    clock.now += 0.5
    assert limiter.acquire("a") is None
    assert limiter.acquire("a") is not None


def test_rate_zero_turns_the_limit_off_and_reset_refills() -> None:
    options = EmulatorOptions(rate_limit=0)
    limiter = RateLimiter(options, Clock())
    assert all(limiter.acquire("a") is None for _ in range(100))
    options.rate_limit = 1
    assert limiter.acquire("a") is None
    assert limiter.acquire("a") is None
    assert limiter.acquire("a") is not None
    limiter.reset()
    assert limiter.acquire("a") is None


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(1.2) == "2"


def test_fault_decisions_follow_the_rates_deterministically() -> None:
    options = EmulatorOptions(seed=3, error_rate=0.5)
    first = FaultInjector(options)
    decisions = [first.decide() for _ in range(400)]
    assert 150 < decisions.count("error") < 250
    assert "drop" not in decisions
    assert first.counters.errors == decisions.count("error")
    assert first.counters.requests == 400
    again = FaultInjector(EmulatorOptions(seed=3, error_rate=0.5))
    assert [again.decide() for _ in range(400)] == decisions
    options.error_rate, options.drop_rate = 0.0, 1.0
    assert first.decide() == "drop"
    first.reset()
    assert first.counters.requests == 0


def test_fault_settings_are_validated() -> None:
    options = EmulatorOptions()
    apply_fault_settings(options, validate_fault_settings({"errorRate": 0.25, "rate_burst": 5}))
    assert options.error_rate == 0.25
    assert options.rate_burst == 5
    for bad in ({"error_rate": 2}, {"drop_rate": "x"}, {"nonsense": 1}, {"latency_ms": -1}):
        with pytest.raises(ValueError):
            validate_fault_settings(bad)
