"""One authenticated HTTP session: auth, retry, rate limit and error mapping around httpx.

Every resource (devices, dataprofiles, history) sends its requests through ``Session.request``,
which returns a successful response with its body read, or raises from belimo_cloud.errors.
Bodies are left to the resources to decode: a malformed body is their DataError, never a
KeyError here.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx

from belimo_cloud.client._http_util import (
    RedactingFilter,
    describe_transport_error,
    oauth_error,
    safe_url,
    server_message,
)
from belimo_cloud.client.auth import TokenManager
from belimo_cloud.client.ratelimit import TokenBucket
from belimo_cloud.client.retry import RetryPolicy, parse_retry_after
from belimo_cloud.client.tokencache import TokenCache
from belimo_cloud.config import Settings
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

__all__ = ["API_PREFIX", "USER_AGENT", "Session"]

logger = logging.getLogger("belimo_cloud.client")
if not any(isinstance(f, RedactingFilter) for f in logger.filters):
    logger.addFilter(RedactingFilter())

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
        pool = max(10, 2 * settings.max_workers)
        self._http = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(settings.timeout),
            limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=False,
        )
        if token_cache is None and settings.cache_tokens:
            token_cache = TokenCache(settings.token_cache_dir)
        self.tokens = TokenManager(
            settings,
            self._http,
            cache=token_cache if settings.cache_tokens else None,
            clock=clock or time.time,
            sleep=self._sleep,
            retry=self.retry,
        )
        self.limiter = TokenBucket(settings.rate_limit, 1, clock=self._mono, sleep=self._sleep)
        self._count_lock = threading.Lock()
        self._requests_sent = 0
        self._closed = False

    def __repr__(self) -> str:
        return (
            f"Session(api_url={self.settings.api_url!r}, profile={self.settings.profile!r}, "
            f"requests_sent={self._requests_sent})"
        )

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
    ) -> httpx.Response:
        """Send one API request (``path`` relative to ``/api/v3``, e.g. ``/devices``).

        Authenticates (refreshing or logging in as needed, one transparent retry on 401
        invalid_token), waits on the shared rate limiter when ``data_endpoint``, retries
        idempotent requests on 429/5xx/connection errors/timeouts with capped, jittered
        backoff honouring Retry-After, and maps failures onto belimo_cloud.errors.
        Returns a 2xx response whose body has been read. ``content`` and ``headers`` serve
        the few non-JSON requests (a text/plain job state). ``auth`` False sends no token
        (None: none for the public ``/api-info``, a token for everything else).
        """
        method = method.upper()
        url = self.url(path)
        if auth is None:
            auth = url.rstrip("/") not in self._public
        query = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        attempt = 0
        waited = 0.0
        renewed = False
        while True:
            attempt += 1
            if data_endpoint:
                waited_for_slot = self.limiter.acquire()
                if waited_for_slot:
                    logger.debug("rate limiter: waited %.3f s for %s", waited_for_slot, path)
            # The token goes only to our own API host (a download URL may point elsewhere).
            authorization = self.tokens.authorization() if auth and self._ours(url) else ""
            with self._count_lock:
                self._requests_sent += 1
            sent_headers = dict(headers or {})
            if authorization:
                sent_headers["Authorization"] = authorization
            try:
                response = self._http.request(
                    method, url, params=query, json=json, content=content, headers=sent_headers
                )
            except httpx.TransportError as exc:
                delay = self.retry.decide(
                    method, exc, attempt=attempt, waited=waited, url=safe_url(url)
                )
                if delay is None:
                    reason = describe_transport_error(exc, self.settings.timeout)
                    raise TransportError(
                        f"cannot reach {safe_url(url, query=False)}: {reason}"
                    ) from None
                waited += delay
                self._sleep(delay)
                continue
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "%s %s -> %d (%d bytes)",
                    method,
                    safe_url(response.request.url),
                    response.status_code,
                    len(response.content),
                )
            if response.is_success:
                return response
            if response.status_code == 401 and authorization and not renewed:
                # The token was revoked or expired early: renew it once, transparently.
                renewed = True
                attempt -= 1
                error, _ = oauth_error(response)
                logger.debug("401 %s: renewing the token once", error or "unauthorized")
                self.tokens.invalidate(authorization.split(" ", 1)[-1])
                continue
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            if data_endpoint and response.status_code == 429:
                # Every thread backs off, not only the one that was told to.
                self.limiter.defer(retry_after if retry_after is not None else 1.0)
            delay = self.retry.decide(
                method,
                response.status_code,
                attempt=attempt,
                waited=waited,
                url=safe_url(response.request.url),
                retry_after=retry_after,
            )
            if delay is None:
                raise self._error(response, retry_after)
            waited += delay
            self._sleep(delay)

    def _error(self, response: httpx.Response, retry_after: float | None) -> Exception:
        """The error-tree exception for a final non-2xx answer."""
        status = response.status_code
        method = response.request.method
        url = safe_url(response.request.url)
        body = response.text
        detail = server_message(response)
        common: dict[str, Any] = {"status_code": status, "method": method, "url": url, "body": body}
        if status == 401:
            error, description = oauth_error(response)
            return TokenExpired(
                f"the API refused the access token even after renewing it "
                f"({error or 'unauthorized'}: {description or detail or 'no detail'}); "
                "log in again (belimo login)",
                error=error,
                description=description,
            )
        if status == 403:
            error, description = oauth_error(response)
            if error == "insufficient_scope":
                scope = self._missing_scope(response, description)
                return AuthError(
                    f"the token lacks the scope {scope} needed for {method} "
                    f"{safe_url(url, query=False)}; add it to BELIMO_SCOPE (or scope=) "
                    "and log in again",
                    error=error,
                    description=description,
                )
            return APIError(f"forbidden: {detail or 'no detail'}", **common)
        if status == 400:
            return BadRequest(f"the API rejected the request: {detail or 'no detail'}", **common)
        if status == 404:
            return NotFound(f"not found: {detail or safe_url(url, query=False)}", **common)
        if status == 429:
            hint = f"; the server asks to wait {retry_after:g} s" if retry_after else ""
            return RateLimited(
                f"rate limited by the API after retries{hint}; lower rate_limit",
                retry_after=retry_after,
                **common,
            )
        if status >= 500:
            return ServerError(
                f"the API failed ({status}) after retries: {detail or 'no detail'}", **common
            )
        return APIError(f"the API answered {status}: {detail or 'no detail'}", **common)

    @staticmethod
    def _missing_scope(response: httpx.Response, description: str | None) -> str:
        """The scope the server says is missing, from WWW-Authenticate, the body or its text."""
        header = response.headers.get("www-authenticate", "")
        found = re.search(r'scope="([^"]+)"', header)
        if found:
            return found.group(1)
        try:
            doc = response.json()
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            for key in ("scope", "required_scope", "missing_scope"):
                if isinstance(doc.get(key), str) and doc[key]:
                    return str(doc[key])
        found = re.search(r"[a-z]+[.:][a-z_.:]+", description or "")
        return found.group(0) if found else "(unknown)"

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

    def login(self) -> None:
        """Obtain a token now (normally lazy); raises InvalidCredentials when refused."""
        self.tokens.login()

    def logout(self) -> None:
        """Forget the token in memory and in the on-disk cache of this profile."""
        self.tokens.logout()

    def close(self) -> None:
        """Close the connection pool; the Session cannot be used afterwards."""
        if not self._closed:
            self._closed = True
            self._http.close()
