"""OAuth2 for the Belimo Cloud: password and client-credentials grants, refresh, token cache.

The password grant is the tutorial's: form fields ``grant_type=password``, ``username``,
``password``, ``client_id``, ``client_secret``, ``audience`` and ``scope``. Without a user the
client-credentials grant is used. Tokens are refreshed before they expire (60 s or 10% of their
lifetime early); a rotated refresh token replaces the old one; a refused refresh token leads to
a new grant. ``TokenManager`` is thread-safe: one lock serialises token acquisition, so many
threads sharing a Session cause one login, not many.

Token requests go through the same retry driver (retry.py) as API requests, under the budget
of the call that needed the token.

A token that could not go into a header as it is (CR/LF, non-ASCII: a tampered cache or a
hostile token server) is refused with UnusableToken, never echoed and never retried.

Scopes on demand: ``TokenManager.require_scopes("public.write")`` (and
``Session.require_scopes``) re-authorises with the configured scopes plus the extra ones, but
only when a write is about to happen. That elevated token is held in memory only, never written
to the on-disk cache, so a read-only setup never keeps write rights between runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import replace

import httpx

from belimo_cloud.client._http_util import (
    describe_transport_error,
    oauth_error,
)
from belimo_cloud.client.constants import (
    DEFAULT_EXPIRES_IN,
    REFRESH_MARGIN_CAP,
    REFRESH_MARGIN_FRACTION,
    UNKNOWN_TOKEN_LIFETIME,
)
from belimo_cloud.client.deadline import current_budget, exchange_deadline
from belimo_cloud.client.redact import redact, safe_url
from belimo_cloud.client.retry import GiveUp, RetryDriver, RetryPolicy
from belimo_cloud.client.token_answer import check_token, parse_token_answer, refusal_error
from belimo_cloud.client.tokencache import CachedToken, CacheResult, TokenCache
from belimo_cloud.config import Settings
from belimo_cloud.errors import (
    AuthError,
    ConfigError,
    TokenCacheError,
    TransportError,
)

__all__ = ["DEFAULT_EXPIRES_IN", "BelimoAuth", "TokenManager", "check_token", "refresh_margin"]

logger = logging.getLogger("belimo_cloud.client")

# Token requests never carry a bearer token, even through a client that has BelimoAuth set.
_NO_AUTH = httpx.Auth()


def refresh_margin(lifetime: float) -> float:
    """How long [s] before expiry a token is renewed: 60 s, or 10% of a shorter lifetime."""
    return min(REFRESH_MARGIN_CAP, max(0.0, REFRESH_MARGIN_FRACTION * lifetime))


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
        driver: RetryDriver | None = None,
    ) -> None:
        self.settings = settings
        self._http = http
        self._cache = cache
        self._clock = clock or time.time
        self._sleep = sleep or time.sleep
        self._driver = driver or RetryDriver(
            retry,
            budget=settings.budget,
            timeout=settings.timeout,
            clock=clock,
            sleep=self._sleep,
        )
        self._lock = threading.RLock()
        self._token: CachedToken | None = None
        self._cache_checked = False
        self._extra_scopes: frozenset[str] = frozenset()
        # What became of the cache file at the last save (login reports it).
        self.cache_result = CacheResult(done=False)
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
            token = check_token(self._ensure(), "token in use")
        kind = "Bearer" if token.token_type.lower() == "bearer" else token.token_type
        return f"{kind} {token.access_token}"

    @property
    def scopes(self) -> frozenset[str]:
        """The scopes asked for: the configured ones plus any added by ``require_scopes``."""
        return frozenset(self.settings.scope.split()) | self._extra_scopes

    def require_scopes(self, *scopes: str) -> None:
        """Hold a token with ``scopes`` (e.g. "public.write"), re-authorising once if needed.

        Call it just before a write. Scopes already configured (BELIMO_SCOPE) cost nothing;
        others trigger one new grant asking for the configured scopes plus these. The new
        token lives in memory only: it is never saved to the on-disk cache, so the next run
        starts read-only again. AuthError when the identity server grants fewer scopes.
        """
        wanted = frozenset(s for scope in scopes for s in scope.split())
        with self._lock:
            if wanted <= self.scopes:
                return
            self._extra_scopes |= wanted
            self._cache_checked = True
            token = self._grant()
            granted = frozenset((token.scope or "").split())
            if token.scope is not None and not wanted <= granted:
                missing = " ".join(sorted(wanted - granted))
                raise AuthError(
                    f"the identity server did not grant the scope {missing}; "
                    "this account may not be allowed to write",
                    error="insufficient_scope",
                )

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
        """Obtain a new token with the configured grant now, ignoring any held token.

        ``cache_result`` then says whether it was saved to the on-disk cache.
        """
        with self._lock:
            self._cache_checked = True
            return self._grant()

    def logout(self) -> CacheResult:
        """Forget the token in memory and remove this profile's entry in the on-disk cache.

        Returns what became of the file: ``done`` when removed, ``error`` when it exists but
        could not be removed (the next run would still use it).
        """
        with self._lock:
            self._token = None
            self._cache_checked = True
            self._extra_scopes = frozenset()
            if self._cache is None:
                return CacheResult(done=False)
            path = self._cache.path_for(self.settings)
            try:
                removed = self._cache.delete(self.settings)
            except TokenCacheError as exc:
                return CacheResult(done=False, path=path, error=str(exc))
            return CacheResult(done=removed, path=path)

    # -- internals (called with the lock held) --

    def _stale(self, token: CachedToken, now: float) -> bool:
        lifetime = (
            token.expires_at - token.issued_at
            if token.issued_at is not None
            else UNKNOWN_TOKEN_LIFETIME
        )
        return now >= token.expires_at - refresh_margin(lifetime)

    def _ensure(self) -> CachedToken:
        token = self._token
        if token is None and not self._cache_checked:
            self._cache_checked = True
            if self._cache is not None:
                token = self._cache.load(self.settings)
                if token is not None:
                    check_token(token, "token cache")
                    self._token = token
                    logger.debug("using the cached token of profile %r", self.settings.profile)
        now = self._clock()
        if token is not None and not self._stale(token, now):
            return token
        if token is not None and self._cache is not None and not self._extra_scopes:
            # Another process (a parallel CLI run) may have renewed it already: its refresh
            # token is then the valid one, ours was rotated away. (Not for an elevated token:
            # the cache only ever holds the configured scopes.)
            fresher = self._cache.load(self.settings)
            if fresher is not None and fresher.access_token != token.access_token:
                check_token(fresher, "token cache")
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
            scope = " ".join([*s.scope.split(), *sorted(self._extra_scopes - set(s.scope.split()))])
        else:
            form = {"grant_type": "client_credentials"}
            # RFC 6749 4.4.3: no refresh token for this grant, so offline_access is not asked.
            scope = " ".join(
                p
                for p in [*s.scope.split(), *sorted(self._extra_scopes - set(s.scope.split()))]
                if p != "offline_access"
            )
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
        if self._cache is None:
            self.cache_result = CacheResult(done=False)
        elif self._extra_scopes:
            # Write rights stay in this process: the cache keeps the configured scopes only.
            self.cache_result = CacheResult(done=False, path=self._cache.path_for(self.settings))
        else:
            try:
                path = self._cache.save(self.settings, token)
            except TokenCacheError as exc:
                logger.debug("%s", exc)
                self.cache_result = CacheResult(done=False, error=str(exc))
            else:
                self.cache_result = CacheResult(done=True, path=path)
        return token

    def _post(self, form: dict[str, str]) -> httpx.Response:
        """POST the form to the token URL through the retry driver (a grant is safe to repeat)."""
        url = self.settings.token_url

        def send() -> httpx.Response:
            self.grants_sent += 1
            self.grant_history.append(form["grant_type"])
            logger.debug("POST %s %s", safe_url(url), redact(form))
            budget = current_budget()
            left = budget.remaining() if budget is not None else self.settings.timeout
            with exchange_deadline(max(0.0, min(self.settings.timeout, left))):
                return self._http.post(
                    url, data=form, auth=_NO_AUTH, headers={"Accept": "application/json"}
                )

        try:
            return self._driver.run(
                send,
                method="POST",
                url=url,
                idempotent=True,
                describe=lambda exc: describe_transport_error(exc, self.settings.timeout),
            )
        except GiveUp as exc:
            raise TransportError(
                f"cannot reach the token endpoint {safe_url(url, query=False)}: {exc.reason}"
            ) from None

    def _parse(self, response: httpx.Response, previous_refresh: str | None) -> CachedToken:
        return parse_token_answer(
            response, self.settings.token_url, now=self._clock(), previous_refresh=previous_refresh
        )

    def _raise_refused(self, response: httpx.Response, grant: str) -> None:
        raise refusal_error(response, self.settings.token_url, grant)


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
