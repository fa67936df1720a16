"""A token bucket shared by every thread of a Session, so the client stays under the API's limit.

The API allows about 2 requests/s on data endpoints. The bucket hands out reservations: a
caller takes a slot under the lock and sleeps outside it until its slot comes, so waiting
threads are served in order and never spin. A burst of 1 keeps requests evenly spaced, which
leaves the server's own bucket (likely out of phase with ours) a full token of slack.

A 429 holds every caller back (``defer``) even when the limiter is off (rate 0): callers that
arrive during the hold are spread over a random share of it, so that threads a server sent
away together do not all return in the same instant.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

from belimo_cloud.client.constants import (
    LONGEST_WAIT,
    RETRY_AFTER_JITTER,
    RETRY_AFTER_MIN_JITTER,
)

__all__ = ["TokenBucket"]


class TokenBucket:
    """At most ``rate`` acquisitions per second on average, ``burst`` at once; rate 0: unlimited."""

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if not rate >= 0 or rate == float("inf"):
            raise ValueError("rate must be a finite number >= 0 (0 means unlimited)")
        if burst < 1:
            raise ValueError("burst must be >= 1")
        self.rate = float(rate)
        self.burst = int(burst)
        self._clock = clock or time.monotonic
        self._sleep = sleep or time.sleep
        self._lock = threading.Lock()
        self._tokens = float(self.burst)
        self._stamp = self._clock()
        self._rng = rng
        self._hold_until = float("-inf")  # [clock] a 429 holds callers back until then
        self._hold_spread = 0.0  # [s] ... plus a random share of this
        self.waited = 0.0  # [s] total time callers were told to wait, for statistics

    @property
    def unlimited(self) -> bool:
        return self.rate == 0

    def reserve(self) -> float:
        """Take one slot now; return how long [s] the caller must wait before using it."""
        if self.unlimited:
            with self._lock:
                now = self._clock()
                if now >= self._hold_until:
                    return 0.0
                delay = self._hold_until - now + self._hold_spread * self._rng()
                self.waited += delay
                return min(delay, LONGEST_WAIT)
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._stamp)
            self._stamp = now
            self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
            self._tokens -= 1.0
            # A negative balance is a queue of reservations: each one waits for its refill.
            delay = 0.0 if self._tokens >= 0 else min(-self._tokens / self.rate, LONGEST_WAIT)
            self.waited += delay
            return delay

    def defer(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` (the server answered 429 with Retry-After)."""
        if not seconds > 0:
            return
        seconds = min(seconds, LONGEST_WAIT)
        if self.unlimited:
            with self._lock:
                until = self._clock() + seconds
                if until > self._hold_until:
                    self._hold_until = until
                    self._hold_spread = max(RETRY_AFTER_MIN_JITTER, RETRY_AFTER_JITTER * seconds)
            return
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._stamp)
            self._stamp = now
            self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
            # With this balance the next reservation waits exactly ``seconds``.
            self._tokens = min(self._tokens, 1.0 - seconds * self.rate)

    def acquire(self) -> float:
        """Block until a request may go out; return the time waited [s]."""
        delay = self.reserve()
        if delay > 0:
            self._sleep(delay)
        return delay

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self.rate:g}, burst={self.burst})"
