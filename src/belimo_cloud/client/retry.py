"""The one retry driver: every API and token request goes through ``RetryDriver.run``.

One loop decides, for API calls and token calls alike:

- whether to try again: 429 and 500/502/503/504 answers, connection errors, timeouts and
  dropped connections, for idempotent requests only (a POST that may have reached the server is
  never repeated, except a token grant, which is safe to repeat); never a request httpx refused
  to build (an illegal header value) or a URL it cannot use;
- how long to wait: capped exponential backoff with full jitter; a server's ``Retry-After``
  plus a random share of it, so that threads told the same wait do not collide again;
- when to stop: ``max_attempts`` tries (more for 429, which means "later", not "broken"), and
  always before the call's budget (deadline.py) ends: a wait that would pass it is not taken;
- a 401: the caller's ``renew`` hook gets one chance to renew the token, not counted as a try.

Every limit comes from client/constants.py. Every decision is logged at DEBUG with the URL
stripped of user info.
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

from belimo_cloud.client.constants import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    DEFAULT_BUDGET,
    DEFAULT_TIMEOUT,
    IDEMPOTENT_METHODS,
    MAX_ATTEMPTS,
    MAX_RATE_LIMITED_ATTEMPTS,
    RETRY_AFTER_JITTER,
    RETRY_AFTER_MIN_JITTER,
    RETRY_STATUSES,
)
from belimo_cloud.client.deadline import budget_scope, exchange_deadline, exchange_expired
from belimo_cloud.client.redact import safe_url

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRY_STATUSES",
    "GiveUp",
    "RetryDriver",
    "RetryPolicy",
    "backoff",
    "parse_retry_after",
    "should_retry",
]

logger = logging.getLogger("belimo_cloud.client")

# Failures that do not heal by trying again: httpx could not even build the request.
_FINAL_EXCEPTIONS = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)


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
        if isinstance(outcome, _FINAL_EXCEPTIONS):
            return False
        return isinstance(outcome, httpx.TransportError)
    return outcome in RETRY_STATUSES


def backoff(
    attempt: int,
    retry_after: float | None = None,
    *,
    base: float = BACKOFF_BASE,
    cap: float = BACKOFF_CAP,
    rng: Callable[[], float] = random.random,
    jitter: float = RETRY_AFTER_JITTER,
    min_jitter: float = RETRY_AFTER_MIN_JITTER,
) -> float:
    """The wait [s] before try ``attempt + 1``, after ``attempt`` failed tries (1-based).

    Without Retry-After: full jitter, uniform in [0, min(cap, base * 2**(attempt-1))]. With it:
    Retry-After plus uniform [0, max(min_jitter, jitter * Retry-After)], so that the threads a
    server sent away together come back spread out (with or without the client's limiter).
    """
    if retry_after is not None and retry_after >= 0:
        return float(retry_after) + max(min_jitter, jitter * float(retry_after)) * rng()
    ceiling = min(cap, base * 2.0 ** min(64, max(0, attempt - 1)))
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
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    reference = time.time() if now is None else now
    return max(0.0, when.timestamp() - reference)


@dataclass(frozen=True)
class RetryPolicy:
    """Limits for retrying one request; ``decide`` combines them and logs each decision."""

    max_attempts: int = MAX_ATTEMPTS  # tries in total, the first included
    base: float = BACKOFF_BASE  # [s] first backoff ceiling
    cap: float = BACKOFF_CAP  # [s] largest single computed wait
    max_total_wait: float = DEFAULT_BUDGET  # [s] ceiling on the sum of waits for one request
    max_rate_limited_attempts: int = MAX_RATE_LIMITED_ATTEMPTS  # tries while answered 429
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
        time_left: float | None = None,
    ) -> float | None:
        """The wait [s] before the next try, or None to give up (logged at DEBUG either way).

        ``time_left`` is what remains of the call's budget: a wait that would not leave room
        for another try is not taken.
        """
        url = safe_url(url) if url else url
        what = f"{type(outcome).__name__}" if isinstance(outcome, BaseException) else str(outcome)
        if not should_retry(method, outcome, idempotent=idempotent):
            logger.debug("no retry: %s %s -> %s (not retryable)", method, url, what)
            return None
        limit = self.max_rate_limited_attempts if outcome == 429 else self.max_attempts
        if attempt >= limit:
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
        if time_left is not None and delay >= time_left:
            logger.debug(
                "giving up: %s %s -> %s, waiting %.2f s would pass the call's budget (%.2f s left)",
                method,
                url,
                what,
                delay,
                max(0.0, time_left),
            )
            return None
        logger.debug(
            "retry %d/%d in %.2f s: %s %s -> %s%s",
            attempt + 1,
            limit,
            delay,
            method,
            url,
            what,
            f" (Retry-After {retry_after:g} s)" if retry_after is not None else "",
        )
        return delay


class GiveUp(Exception):
    """The driver stopped on a transport failure; ``reason`` is one line without secrets."""

    def __init__(self, reason: str, *, attempts: int, cause: BaseException | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts = attempts
        self.cause = cause


class RetryDriver:
    """Runs one request under the retry policy, the call's budget and the exchange deadline."""

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        budget: float = DEFAULT_BUDGET,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.budget = budget
        self.timeout = timeout
        self.clock = clock or time.monotonic
        self.sleep = sleep or time.sleep

    def run(
        self,
        send: Callable[[], httpx.Response],
        *,
        method: str,
        url: str,
        idempotent: bool | None = None,
        renew: Callable[[httpx.Response], bool] | None = None,
        on_rate_limited: Callable[[float | None], None] | None = None,
        describe: Callable[[BaseException], str] | None = None,
    ) -> httpx.Response:
        """The final response (success, or the last error answer for the caller to map).

        ``send`` performs one try (it may take a rate-limit slot and a token first); a failure
        that ends the loop raises GiveUp. Errors that are not httpx transport errors (a
        refused login, an unusable token) leave at once: they are never retried.
        """
        shown = safe_url(url)
        attempt = 0
        waited = 0.0
        renewed = False
        with budget_scope(self.budget, self.clock) as budget:
            while True:
                left = budget.remaining()
                if left <= 0:
                    raise GiveUp(
                        f"no time left in the {budget.seconds:g} s budget of the call",
                        attempts=attempt,
                        cause=None,
                    )
                attempt += 1
                exchange = min(self.timeout, left)
                try:
                    with exchange_deadline(exchange):
                        response = send()
                except httpx.TransportError as exc:
                    delay = self.policy.decide(
                        method,
                        exc,
                        attempt=attempt,
                        waited=waited,
                        url=shown,
                        idempotent=idempotent,
                        time_left=budget.remaining(),
                    )
                    if delay is None:
                        if exchange_expired():
                            reason = f"no complete answer within {exchange:.3g} s"
                        else:
                            reason = describe(exc) if describe else type(exc).__name__
                        if attempt > 1:
                            reason += f" (gave up after {attempt} tries)"
                        raise GiveUp(reason, attempts=attempt, cause=exc) from None
                else:
                    if response.is_success:
                        return response
                    if response.status_code == 401 and renew is not None and not renewed:
                        renewed = True
                        if renew(response):
                            attempt -= 1  # the renewal is not a failed try
                            continue
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
                    if response.status_code == 429 and on_rate_limited is not None:
                        on_rate_limited(retry_after)
                    delay = self.policy.decide(
                        method,
                        response.status_code,
                        attempt=attempt,
                        waited=waited,
                        url=shown,
                        retry_after=retry_after,
                        idempotent=idempotent,
                        time_left=budget.remaining(),
                    )
                    if delay is None:
                        return response
                waited += delay
                self.sleep(delay)
