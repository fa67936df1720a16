"""Injected faults and limits: 503 errors, dropped connections, latency, per-token rate limit.

They exist for the client's robustness tests. Decisions come from a seeded random stream so a
run with the same options and the same request order injects the same faults. The rate limiter
and latency run on the monotonic clock: the emulator's data clock may be frozen.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from belimo_cloud.emulator.options import EmulatorOptions


@dataclass
class Counters:
    """What the emulator injected since start or the last reset."""

    requests: int = 0
    errors: int = 0
    drops: int = 0
    rate_limited: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "drops": self.drops,
            "rateLimited": self.rate_limited,
        }


class FaultInjector:
    """Decides, per API request, whether to drop it, fail it with 503, or let it through."""

    def __init__(self, options: EmulatorOptions) -> None:
        self.options = options
        self.counters = Counters()
        self._random = random.Random(options.seed)
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self.counters = Counters()
            self._random = random.Random(self.options.seed)

    def decide(self) -> str | None:
        """``"drop"``, ``"error"`` or None (serve normally) for one request."""
        with self._lock:
            self.counters.requests += 1
            drop_rate, error_rate = self.options.drop_rate, self.options.error_rate
            if drop_rate > 0 and self._random.random() < drop_rate:
                self.counters.drops += 1
                return "drop"
            if error_rate > 0 and self._random.random() < error_rate:
                self.counters.errors += 1
                return "error"
            return None

    def latency_s(self) -> float:
        return max(0.0, self.options.latency_ms) / 1000.0


class RateLimiter:
    """A token bucket per access token: ``rate_limit`` requests/s, burst ``rate_burst``."""

    def __init__(
        self, options: EmulatorOptions, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.options = options
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill time)

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()

    def acquire(self, key: str) -> float | None:
        """Take one request slot for ``key``: None when allowed, else the seconds to wait."""
        rate = self.options.rate_limit
        if rate <= 0:
            return None
        burst = max(1.0, float(self.options.rate_burst))
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (burst, now))
            tokens = min(burst, tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return None
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / rate


def retry_after_header(wait_s: float) -> str:
    """``Retry-After`` in whole seconds, at least 1 (the header has no fractions)."""
    return str(max(1, math.ceil(wait_s)))


def validate_fault_settings(values: dict[str, object]) -> dict[str, float]:
    """Checked new fault/limit settings from a control request; ValueError names the bad one."""
    limits: dict[str, tuple[float, float]] = {
        "error_rate": (0.0, 1.0),
        "drop_rate": (0.0, 1.0),
        "latency_ms": (0.0, 60_000.0),
        "rate_limit": (0.0, 1e6),
        "rate_burst": (1.0, 1e6),
        "token_ttl": (0.0, 1e9),
        "job_delay": (0.0, 3600.0),
        "heartbeat": (0.05, 3600.0),
        "subscription_ttl": (1.0, 1e7),
    }
    aliases = {
        "errorRate": "error_rate",
        "dropRate": "drop_rate",
        "latencyMs": "latency_ms",
        "rateLimit": "rate_limit",
        "rateBurst": "rate_burst",
        "tokenTtl": "token_ttl",
        "jobDelay": "job_delay",
        "subscriptionTtl": "subscription_ttl",
    }
    checked: dict[str, float] = {}
    for key, raw in values.items():
        name = aliases.get(key, key)
        if name not in limits:
            raise ValueError(f"unknown setting {key!r}; use one of {', '.join(limits)}")
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            raise ValueError(f"{key} must be a number")
        low, high = limits[name]
        if not low <= float(raw) <= high:
            raise ValueError(f"{key} must be between {low:g} and {high:g}, got {raw}")
        checked[name] = float(raw)
    return checked


def apply_fault_settings(options: EmulatorOptions, checked: dict[str, float]) -> None:
    """Write validated settings into the running instance's options."""
    for name, value in checked.items():
        setattr(options, name, int(value) if name == "rate_burst" else value)


def fault_settings(options: EmulatorOptions) -> dict[str, float]:
    """The current fault and limit settings, as the control endpoint shows them."""
    return {
        "error_rate": options.error_rate,
        "drop_rate": options.drop_rate,
        "latency_ms": options.latency_ms,
        "rate_limit": options.rate_limit,
        "rate_burst": float(options.rate_burst),
        "token_ttl": options.token_ttl,
        "job_delay": options.job_delay,
        "heartbeat": options.heartbeat,
        "subscription_ttl": options.subscription_ttl,
    }
