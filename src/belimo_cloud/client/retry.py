"""When to retry a request and how long to wait: one decision function, one backoff function.

Retried: 429 and 500/502/503/504 answers, connection errors, timeouts and dropped connections,
for idempotent methods only (a POST that may have reached the server is never repeated).
Waits are capped exponential with full jitter; a server's ``Retry-After`` wins over the
computed wait; a ceiling bounds the total time spent waiting for one request.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRY_STATUSES",
    "RetryPolicy",
    "backoff",
    "parse_retry_after",
    "should_retry",
]

logger = logging.getLogger("belimo_cloud.client")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_RETRY_EXCEPTIONS = (httpx.TransportError,)  # connect/read/write errors, timeouts, protocol errors


def should_retry(
    method: str, outcome: int | BaseException, *, idempotent: bool | None = None
) -> bool:
    """Whether an answer (status code) or a failure (exception) is worth another try.

    ``idempotent`` overrides the method's own idempotency, for requests known to be safe to
    repeat (an OAuth2 token grant).
    """
    safe = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent
    if not safe:
        return False
    if isinstance(outcome, BaseException):
        # An unsupported protocol or a malformed URL will not heal by trying again.
        if isinstance(outcome, httpx.UnsupportedProtocol):
            return False
        return isinstance(outcome, _RETRY_EXCEPTIONS)
    return outcome in RETRY_STATUSES


def backoff(
    attempt: int,
    retry_after: float | None = None,
    *,
    base: float = 0.5,
    cap: float = 30.0,
    rng: Callable[[], float] = random.random,
) -> float:
    """The wait [s] before try ``attempt + 1``, after ``attempt`` failed tries (1-based).

    Full jitter: uniform in [0, min(cap, base * 2**(attempt-1))]. A server's Retry-After is
    honoured exactly (threads of one Session are spread out by its rate limiter instead).
    """
    if retry_after is not None and retry_after >= 0:
        return float(retry_after)
    ceiling = min(cap, base * 2.0 ** max(0, attempt - 1))
    return ceiling * rng()


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date; None if absent/bad."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    reference = time.time() if now is None else now
    return max(0.0, when.timestamp() - reference)


@dataclass(frozen=True)
class RetryPolicy:
    """Limits for retrying one request; ``decide`` combines them and logs each decision."""

    max_attempts: int = 6  # tries in total, the first included
    base: float = 0.5  # [s] first backoff ceiling
    cap: float = 30.0  # [s] largest single computed wait
    max_total_wait: float = 120.0  # [s] ceiling on the sum of waits for one request
    rng: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def decide(
        self,
        method: str,
        outcome: int | BaseException,
        *,
        attempt: int,
        waited: float,
        url: str = "",
        retry_after: float | None = None,
        idempotent: bool | None = None,
    ) -> float | None:
        """The wait [s] before the next try, or None to give up (logged at DEBUG either way)."""
        what = f"{type(outcome).__name__}" if isinstance(outcome, BaseException) else str(outcome)
        if not should_retry(method, outcome, idempotent=idempotent):
            logger.debug("no retry: %s %s -> %s (not retryable)", method, url, what)
            return None
        if attempt >= self.max_attempts:
            logger.debug("giving up: %s %s -> %s after %d tries", method, url, what, attempt)
            return None
        delay = backoff(attempt, retry_after, base=self.base, cap=self.cap, rng=self.rng)
        if waited + delay > self.max_total_wait:
            logger.debug(
                "giving up: %s %s -> %s, waiting %.2f s more would pass the %.0f s ceiling",
                method,
                url,
                what,
                delay,
                self.max_total_wait,
            )
            return None
        logger.debug(
            "retry %d/%d in %.2f s: %s %s -> %s%s",
            attempt + 1,
            self.max_attempts,
            delay,
            method,
            url,
            what,
            f" (Retry-After {retry_after:g} s)" if retry_after is not None else "",
        )
        return delay
