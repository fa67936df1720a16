"""One authenticated HTTP session: auth, retry, rate limit and error mapping around httpx.

Every resource (devices, dataprofiles, history) sends its requests through ``Session.request``,
which returns a successful response with its body read, or raises from belimo_cloud.errors.
Bodies are left to the resources to decode: a malformed body is their ResponseError, never a
KeyError here; a 2xx whose body is an HTML page is refused here already.

Time is bounded at two levels (deadline.py): each exchange ends after ``settings.timeout``
however slowly bytes arrive, and each call (``request``, with every retry and any token
renewal it needs) ends within ``settings.budget``. ``Session.deadline(seconds)`` bounds a
group of calls (a whole command) the same way.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

import httpx

from belimo_cloud.client._http_util import (
    describe_transport_error,
    oauth_error,
)
from belimo_cloud.client.answers import answer_error, check_body
from belimo_cloud.client.auth import TokenManager
from belimo_cloud.client.constants import POOL_MIN_CONNECTIONS, POOL_PER_WORKER
from belimo_cloud.client.deadline import (
    Budget,
    DeadlineTransport,
    budget_scope,
    current_budget,
    exchange_deadline,
)
from belimo_cloud.client.ratelimit import TokenBucket
from belimo_cloud.client.redact import install_filter, redact_url, safe_url
from belimo_cloud.client.retry import GiveUp, RetryDriver, RetryPolicy, parse_retry_after
from belimo_cloud.client.tokencache import CacheResult, TokenCache
from belimo_cloud.config import Settings
from belimo_cloud.errors import (
    TransportError,
)

__all__ = ["API_PREFIX", "USER_AGENT", "Session"]

logger = install_filter(logging.getLogger("belimo_cloud.client"))
# httpx and httpcore log request URLs at INFO/DEBUG: user info must not leak through them.
install_filter(logging.getLogger("httpx"))
install_filter(logging.getLogger("httpcore"))

API_PREFIX = "/api/v3"
USER_AGENT = "belimo-cloud (unofficial Python client)"


def _param(value: Any) -> str:
    """A query parameter as the API expects it: every parameter is a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, (list, tuple, set, frozenset)):
        return ",".join(_param(v) for v in value)
    return str(value)


class Session:
    """Thread-safe: one httpx.Client, one token, one rate limiter shared by every thread."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        retry: RetryPolicy | None = None,
        token_cache: TokenCache | None = None,
    ) -> None:
        self.settings = settings
        self.retry = retry or RetryPolicy()
        self._sleep = sleep or time.sleep
        # Injected clocks drive everything (tests); by default the limiter and the retry
        # ceiling use the monotonic clock and token expiry the wall clock (tokens outlive us).
        self._mono = clock or time.monotonic
        self.base_url = settings.api_url.rstrip("/") + API_PREFIX
        api = httpx.URL(settings.api_url)
        self._origin = (api.scheme, api.host, api.port)
        self._public = frozenset({self.base_url + "/api-info"})
        pool = max(POOL_MIN_CONNECTIONS, POOL_PER_WORKER * settings.max_workers)
        limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
        self._http = httpx.Client(
            # Our own transport bounds each whole exchange (httpx's timeouts are per read).
            transport=transport or DeadlineTransport(limits=limits),
            timeout=httpx.Timeout(settings.timeout),
            limits=limits,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=False,
        )
        if token_cache is None and settings.cache_tokens:
            token_cache = TokenCache(settings.token_cache_dir)
        self.driver = RetryDriver(
            self.retry,
            budget=settings.budget,
            timeout=settings.timeout,
            clock=self._mono,
            sleep=self._sleep,
        )
        self.tokens = TokenManager(
            settings,
            self._http,
            cache=token_cache if settings.cache_tokens else None,
            clock=clock or time.time,
            sleep=self._sleep,
            retry=self.retry,
            driver=self.driver,
        )
        self.limiter = TokenBucket(settings.rate_limit, 1, clock=self._mono, sleep=self._sleep)
        self._count_lock = threading.Lock()
        self._requests_sent = 0
        self._closed = False

    def __repr__(self) -> str:
        return (
            f"Session(api_url={redact_url(self.settings.api_url)!r}, "
            f"profile={self.settings.profile!r}, requests_sent={self._requests_sent})"
        )

    @contextlib.contextmanager
    def deadline(self, seconds: float | None = None) -> Iterator[Budget]:
        """Bound every call made by this thread inside the body to ``seconds`` in total.

        Default: ``settings.budget``. Calls inside get what is left, never more; a call
        that starts with nothing left raises TransportError at once.
        """
        with budget_scope(self.settings.budget if seconds is None else seconds, self._mono) as b:
            yield b

    def require_scopes(self, *scopes: str) -> None:
        """Hold a token with these extra scopes (e.g. "public.write") before a write.

        See TokenManager.require_scopes: one re-authorisation when needed, the elevated token
        kept in memory only. Writes call this (or pass ``scopes=`` to ``request``).
        """
        with self.deadline():
            self.tokens.require_scopes(*scopes)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        """The absolute URL of an API path (relative to /api/v3, or already absolute)."""
        if path.startswith(("http://", "https://")):
            return path
        if path.startswith(API_PREFIX + "/"):
            return self.settings.api_url.rstrip("/") + path
        return self.base_url + "/" + path.lstrip("/")

    def _ours(self, url: str) -> bool:
        if url.startswith(self.base_url + "/"):
            return True
        target = httpx.URL(url)
        return (target.scheme, target.host, target.port) == self._origin

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data_endpoint: bool = False,
        content: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        auth: bool | None = None,
        scopes: tuple[str, ...] = (),
    ) -> httpx.Response:
        """Send one API request (``path`` relative to ``/api/v3``, e.g. ``/devices``).

        Authenticates (refreshing or logging in as needed, one transparent retry on 401
        invalid_token), waits on the shared rate limiter when ``data_endpoint``, retries
        idempotent requests on 429/5xx/connection errors/timeouts with capped, jittered
        backoff honouring Retry-After, and maps failures onto belimo_cloud.errors.
        Returns a 2xx response whose body has been read. ``content`` and ``headers`` serve
        the few non-JSON requests (a text/plain job state). ``auth`` False sends no token
        (None: none for the public ``/api-info``, a token for everything else). ``scopes``
        adds scopes the token must carry (``("public.write",)`` for writes; see
        ``require_scopes``). The whole call, retries and token renewal included, ends within
        ``settings.budget``; each exchange within ``settings.timeout``.
        """
        method = method.upper()
        url = self.url(path)
        if auth is None:
            auth = url.rstrip("/") not in self._public
        query = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        if scopes:
            self.require_scopes(*scopes)
        sent: dict[str, str] = {}  # the Authorization of the last try, for the 401 renewal

        def send() -> httpx.Response:
            if data_endpoint:
                waited_for_slot = self.limiter.acquire()
                if waited_for_slot:
                    logger.debug("rate limiter: waited %.3f s for %s", waited_for_slot, path)
            # The token goes only to our own API host (a download URL may point elsewhere).
            authorization = self.tokens.authorization() if auth and self._ours(url) else ""
            sent["authorization"] = authorization
            with self._count_lock:
                self._requests_sent += 1
            sent_headers = dict(headers or {})
            if authorization:
                sent_headers["Authorization"] = authorization
            # The exchange's own deadline starts now, after any wait for a slot or a token.
            budget = current_budget()
            left = budget.remaining() if budget is not None else self.settings.timeout
            with exchange_deadline(max(0.0, min(self.settings.timeout, left))):
                response = self._http.request(
                    method, url, params=query, json=json, content=content, headers=sent_headers
                )
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "%s %s -> %d (%d bytes)",
                    method,
                    safe_url(response.request.url),
                    response.status_code,
                    len(response.content),
                )
            return response

        def renew(response: httpx.Response) -> bool:
            authorization = sent.get("authorization", "")
            if not authorization:
                return False
            # The token was revoked or expired early: renew it once, transparently.
            error, _ = oauth_error(response)
            logger.debug("401 %s: renewing the token once", error or "unauthorized")
            self.tokens.invalidate(authorization.split(" ", 1)[-1])
            return True

        def rate_limited(retry_after: float | None) -> None:
            # Every thread backs off, not only the one that was told to (limiter on or off).
            self.limiter.defer(retry_after if retry_after is not None else 1.0)

        try:
            response = self.driver.run(
                send,
                method=method,
                url=url,
                renew=renew,
                on_rate_limited=rate_limited,
                describe=lambda exc: describe_transport_error(exc, self.settings.timeout),
            )
        except GiveUp as exc:
            raise TransportError(
                f"cannot reach {safe_url(url, query=False)}: {exc.reason}"
            ) from None
        if not response.is_success:
            raise answer_error(
                response,
                parse_retry_after(response.headers.get("retry-after")),
                rate_limit=self.settings.rate_limit,
            )
        check_body(response)
        return response

    def get_bytes(
        self, path: str, params: Mapping[str, Any] | None = None, *, data_endpoint: bool = False
    ) -> bytes:
        """GET and return the raw body, for msgspec decoding on hot paths."""
        return self.request("GET", path, params=params, data_endpoint=data_endpoint).content

    @property
    def requests_sent(self) -> int:
        """Requests that reached the server (every try counts), for benchmarks and sync stats.

        Token endpoint requests are not counted here; see ``tokens.grants_sent``.
        """
        return self._requests_sent

    def login(self) -> CacheResult:
        """Obtain a token now (normally lazy); raises InvalidCredentials when refused.

        Returns whether the token was saved to the on-disk cache: ``done`` True when saved,
        ``error`` (one line) when saving failed, neither when caching is off.
        """
        with self.deadline():
            self.tokens.login()
        return self.tokens.cache_result

    def logout(self) -> CacheResult:
        """Forget the token in memory and in the on-disk cache of this profile.

        Returns ``done`` True when a cached token was removed, False when there was none;
        ``error`` when the file exists but could not be removed.
        """
        return self.tokens.logout()

    def close(self) -> None:
        """Close the connection pool; the Session cannot be used afterwards."""
        if not self._closed:
            self._closed = True
            self._http.close()
