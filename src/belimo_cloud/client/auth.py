"""OAuth2 for the Belimo Cloud: password and client-credentials grants, refresh, token cache.

The password grant is the tutorial's: form fields ``grant_type=password``, ``username``,
``password``, ``client_id``, ``client_secret``, ``audience`` and ``scope``. Without a user the
client-credentials grant is used. Tokens are refreshed before they expire (60 s or 10% of their
lifetime early); a rotated refresh token replaces the old one; a refused refresh token leads to
a new grant. ``TokenManager`` is thread-safe: one lock serialises token acquisition, so many
threads sharing a Session cause one login, not many.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import replace
from typing import Any

import httpx

from belimo_cloud.client._http_util import (
    describe_transport_error,
    oauth_error,
    redact,
    safe_url,
    server_message,
)
from belimo_cloud.client.retry import RetryPolicy, parse_retry_after
from belimo_cloud.client.tokencache import CachedToken, TokenCache
from belimo_cloud.config import Settings
from belimo_cloud.errors import (
    AuthError,
    ConfigError,
    DataError,
    InvalidCredentials,
    RateLimited,
    ServerError,
    TransportError,
)

__all__ = ["BelimoAuth", "TokenManager", "refresh_margin"]

logger = logging.getLogger("belimo_cloud.client")

DEFAULT_EXPIRES_IN = 3600.0  # [s] when the server does not say
# Token requests never carry a bearer token, even through a client that has BelimoAuth set.
_NO_AUTH = httpx.Auth()
_CREDENTIAL_ERRORS = frozenset(
    {"invalid_grant", "invalid_client", "access_denied", "unauthorized_client", "unauthorized"}
)


def refresh_margin(lifetime: float) -> float:
    """How long [s] before expiry a token is renewed: 60 s, or 10% of a shorter lifetime."""
    return min(60.0, max(0.0, 0.1 * lifetime))


class _RefreshRefusedError(Exception):
    """The identity server no longer accepts our refresh token."""


class TokenManager:
    """Holds one access token for a Settings; obtains, refreshes and caches it on demand."""

    def __init__(
        self,
        settings: Settings,
        http: httpx.Client,
        *,
        cache: TokenCache | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self._http = http
        self._cache = cache
        self._clock = clock or time.time
        self._sleep = sleep or time.sleep
        self._retry = retry or RetryPolicy()
        self._lock = threading.RLock()
        self._token: CachedToken | None = None
        self._cache_checked = False
        self.grants_sent = 0  # token endpoint requests (password, client credentials, refresh)
        self.grant_history: list[str] = []  # grant_type of each token request, oldest first

    def __repr__(self) -> str:
        return f"TokenManager(profile={self.settings.profile!r}, token={self._token!r})"

    @property
    def current(self) -> CachedToken | None:
        """The token held in memory (may be stale), or None."""
        return self._token

    def token(self) -> str:
        """A valid access token: cached, refreshed or newly granted as needed."""
        with self._lock:
            return self._ensure().access_token

    def authorization(self) -> str:
        """The ``Authorization`` header value for the current token."""
        with self._lock:
            token = self._ensure()
        kind = "Bearer" if token.token_type.lower() == "bearer" else token.token_type
        return f"{kind} {token.access_token}"

    def invalidate(self, access_token: str | None = None) -> None:
        """Mark the token as unusable (the API said 401); the next call refreshes or logs in.

        With ``access_token`` given, only that token is invalidated, so that threads that
        saw the same 401 cause one renewal between them.
        """
        with self._lock:
            token = self._token
            if token is None:
                return
            if access_token is not None and token.access_token != access_token:
                return
            self._token = replace(token, expires_at=float("-inf"))

    def login(self) -> CachedToken:
        """Obtain a new token with the configured grant now, ignoring any held token."""
        with self._lock:
            self._cache_checked = True
            return self._grant()

    def logout(self) -> None:
        """Forget the token in memory and remove this profile's entry in the on-disk cache."""
        with self._lock:
            self._token = None
            self._cache_checked = True
            if self._cache is not None:
                self._cache.delete(self.settings)

    # -- internals (called with the lock held) --

    def _stale(self, token: CachedToken, now: float) -> bool:
        lifetime = token.expires_at - token.issued_at if token.issued_at is not None else 600.0
        return now >= token.expires_at - refresh_margin(lifetime)

    def _ensure(self) -> CachedToken:
        token = self._token
        if token is None and not self._cache_checked:
            self._cache_checked = True
            if self._cache is not None:
                token = self._token = self._cache.load(self.settings)
                if token is not None:
                    logger.debug("using the cached token of profile %r", self.settings.profile)
        now = self._clock()
        if token is not None and not self._stale(token, now):
            return token
        if token is not None and self._cache is not None:
            # Another process (a parallel CLI run) may have renewed it already: its refresh
            # token is then the valid one, ours was rotated away.
            fresher = self._cache.load(self.settings)
            if fresher is not None and fresher.access_token != token.access_token:
                self._token = token = fresher
                if not self._stale(token, now):
                    return token
        if token is not None and token.refresh_token:
            try:
                return self._refresh(token.refresh_token)
            except _RefreshRefusedError:
                logger.debug("refresh token refused; logging in again")
        return self._grant()

    def _check_settings(self) -> None:
        s = self.settings
        if not s.client_id or not s.client_secret:
            raise ConfigError(
                "no client id/secret: set BELIMO_CLIENT_ID and BELIMO_CLIENT_SECRET, "
                "pass client_id=/client_secret=, or use the 'demo' profile"
            )
        if bool(s.username) != bool(s.password):
            missing = "password" if s.username else "user name"
            raise ConfigError(
                f"a {missing} is missing: the password grant needs both BELIMO_USERNAME "
                "and BELIMO_PASSWORD (or neither, for client credentials)"
            )

    def _grant(self) -> CachedToken:
        self._check_settings()
        s = self.settings
        form: dict[str, str] = {}
        if s.grant == "password":
            form = {
                "grant_type": "password",
                "username": s.username or "",
                "password": s.password or "",
            }
            scope = s.scope
        else:
            form = {"grant_type": "client_credentials"}
            # RFC 6749 4.4.3: no refresh token for this grant, so offline_access is not asked.
            scope = " ".join(p for p in s.scope.split() if p != "offline_access")
        form.update({"client_id": s.client_id or "", "client_secret": s.client_secret or ""})
        if s.audience:
            form["audience"] = s.audience
        if scope:
            form["scope"] = scope
        response = self._post(form)
        if response.is_success:
            return self._store(self._parse(response, previous_refresh=None))
        self._raise_refused(response, form["grant_type"])
        raise AssertionError("unreachable")  # pragma: no cover

    def _refresh(self, refresh_token: str) -> CachedToken:
        s = self.settings
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": s.client_id or "",
            "client_secret": s.client_secret or "",
        }
        if s.audience:
            form["audience"] = s.audience
        response = self._post(form)
        if response.is_success:
            return self._store(self._parse(response, previous_refresh=refresh_token))
        if response.status_code in (400, 401, 403):
            error, _ = oauth_error(response)
            logger.debug("refresh refused: %s %s", response.status_code, error or "")
            raise _RefreshRefusedError
        self._raise_refused(response, "refresh_token")
        raise AssertionError("unreachable")  # pragma: no cover

    def _store(self, token: CachedToken) -> CachedToken:
        self._token = token
        if self._cache is not None:
            self._cache.save(self.settings, token)
        return token

    def _post(self, form: dict[str, str]) -> httpx.Response:
        """POST the form to the token URL; retry failures a grant can safely repeat."""
        url = self.settings.token_url
        attempt = 0
        waited = 0.0
        while True:
            attempt += 1
            self.grants_sent += 1
            self.grant_history.append(form["grant_type"])
            logger.debug("POST %s %s", safe_url(url), redact(form))
            try:
                response = self._http.post(
                    url, data=form, auth=_NO_AUTH, headers={"Accept": "application/json"}
                )
            except httpx.TransportError as exc:
                delay = self._retry.decide(
                    "POST", exc, attempt=attempt, waited=waited, url=url, idempotent=True
                )
                if delay is None:
                    reason = describe_transport_error(exc, self.settings.timeout)
                    raise TransportError(
                        f"cannot reach {safe_url(url, query=False)}: {reason}"
                    ) from None
            else:
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                delay = None
                if not response.is_success:
                    delay = self._retry.decide(
                        "POST",
                        response.status_code,
                        attempt=attempt,
                        waited=waited,
                        url=url,
                        retry_after=retry_after,
                        idempotent=True,
                    )
                if delay is None:
                    return response
            waited += delay
            self._sleep(delay)

    def _parse(self, response: httpx.Response, previous_refresh: str | None) -> CachedToken:
        where = safe_url(self.settings.token_url, query=False)
        try:
            doc: Any = response.json()
        except (ValueError, UnicodeDecodeError):
            raise DataError(
                f"the token endpoint {where} answered {response.status_code} with a body "
                "that is not JSON; check token_url"
            ) from None
        access = doc.get("access_token") if isinstance(doc, dict) else None
        if not isinstance(access, str) or not access:
            raise DataError(
                f"the token endpoint {where} answered without an access_token; check token_url"
            )
        expires_in: Any = doc.get("expires_in", DEFAULT_EXPIRES_IN)
        try:
            lifetime = float(expires_in)
        except (TypeError, ValueError):
            raise DataError(
                f"the token endpoint {where} answered an unusable expires_in: {expires_in!r:.40}"
            ) from None
        if not lifetime >= 0:
            raise DataError(f"the token endpoint {where} answered expires_in={lifetime:g}")
        refresh = doc.get("refresh_token")
        token_type = doc.get("token_type")
        scope = doc.get("scope")
        now = self._clock()
        return CachedToken(
            access_token=access,
            expires_at=now + lifetime,
            token_type=token_type if isinstance(token_type, str) and token_type else "Bearer",
            # Servers that do not rotate refresh tokens omit them on refresh: keep the old one.
            refresh_token=refresh if isinstance(refresh, str) and refresh else previous_refresh,
            scope=scope if isinstance(scope, str) else None,
            issued_at=now,
        )

    def _raise_refused(self, response: httpx.Response, grant: str) -> None:
        """Raise the error-tree exception for a token endpoint that said no."""
        status = response.status_code
        url = safe_url(self.settings.token_url, query=False)
        error, description = oauth_error(response)
        detail = description or error or server_message(response) or f"HTTP {status}"
        if status == 429:
            raise RateLimited(
                f"the token endpoint keeps answering 429: {detail}",
                status_code=status,
                method="POST",
                url=url,
                body=response.text,
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
        if status >= 500:
            raise ServerError(
                f"the token endpoint failed: {detail}",
                status_code=status,
                method="POST",
                url=url,
                body=response.text,
            )
        if status in (401, 403) or (status == 400 and error in _CREDENTIAL_ERRORS):
            raise InvalidCredentials(
                f"login refused ({grant} grant at {url}): {detail}; "
                "check client id/secret, user name and password",
                error=error,
                description=description,
            )
        if status == 404:
            raise AuthError(
                f"no token endpoint at {url} (404); check token_url",
                error=error,
                description=description,
            )
        raise AuthError(
            f"the token endpoint refused the {grant} grant ({status}): {detail}",
            error=error,
            description=description,
        )


class BelimoAuth(httpx.Auth):
    """An httpx.Auth adding the bearer token, renewing it once when the API answers 401.

    For users who drive their own ``httpx.Client``; the Session uses the TokenManager directly
    so that its retry loop also sees the renewal.
    """

    requires_response_body = True

    def __init__(self, tokens: TokenManager) -> None:
        self.tokens = tokens

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        header = self.tokens.authorization()
        request.headers["Authorization"] = header
        response = yield request
        if response.status_code == 401:
            self.tokens.invalidate(header.split(" ", 1)[-1])
            request.headers["Authorization"] = self.tokens.authorization()
            yield request
