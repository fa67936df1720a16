"""OAuth2 token issuing and bearer validation, as id.belimo.com (an Auth0 tenant) answers them.

Grants: ``password``, ``refresh_token`` (rotating: each refresh token works once) and
``client_credentials`` (a token for the demo tenant's account). Errors follow RFC 6749:
``{"error": ..., "error_description": ...}`` with 400, or 401 for a bad client.
Token lifetimes run on the wall clock (``clock``), not on the emulator's data clock, so that a
frozen data clock still lets tokens expire.
"""

from __future__ import annotations

import base64
import binascii
import math
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote

CLIENT_ID = "__ClientIDPlaceHolder__"
CLIENT_SECRET = "__ClientSecretPlaceHolder__"
AUDIENCE = "https://api.cloud.belimo.com/"
# The scopes the spec declares, plus the OIDC/Auth0 ones clients commonly ask for.
SPEC_SCOPES = (
    "public.read",
    "public.write",
    "read:dataprofile",
    "internal",
    "mobilebroker",
    "account",
    "claiming-protection",
    "experimental",
)
# Granted scopes are echoed in this order, which is the tutorial's for its three scopes.
SCOPE_ORDER = (
    "openid",
    "profile",
    "email",
    "public.read",
    "public.write",
    "offline_access",
    "read:dataprofile",
    *SPEC_SCOPES[3:],
)
KNOWN_SCOPES = frozenset(SCOPE_ORDER)
# Granted when a client asks for no scope at all: MST sends none and still reads everything
# and writes datapoints and metadata. A client that names its scopes gets only those.
DEFAULT_SCOPES = ("public.read", "public.write", "read:dataprofile")
GRANTS = ("password", "refresh_token", "client_credentials")


class OAuthError(Exception):
    """An OAuth2 error answer: HTTP status, RFC 6749 error code and a one-line description."""

    def __init__(
        self, status: int, error: str, description: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description
        self.headers = dict(headers or {})

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True)
class Grant:
    """What a valid access token stands for."""

    subject: str  # the tenant's user name (email)
    scopes: frozenset[str]
    client_id: str
    expires_at: float  # wall-clock epoch seconds
    token: str = field(repr=False)


@dataclass(frozen=True)
class _Refresh:
    subject: str
    scopes: frozenset[str]
    client_id: str


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """Client id and secret of an ``Authorization: Basic`` header (None when not Basic)."""
    if not header:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError(
            400, "invalid_request", "the Basic authorization header is not valid base64"
        ) from None
    user, sep, password = decoded.partition(":")
    if not sep:
        raise OAuthError(400, "invalid_request", "the Basic authorization header lacks a ':'")
    # RFC 6749 2.3.1: client id and secret are form-urlencoded before the Basic encoding.
    return unquote(user), unquote(password)


class TokenAuthority:
    """Issues, refreshes and validates tokens for the tenants ``check_user`` knows.

    ``check_user(username, password)`` is True for valid credentials; ``demo_user`` is the
    account a ``client_credentials`` token acts for; ``ttl()`` gives the current token lifetime.
    """

    def __init__(
        self,
        check_user: Callable[[str, str], bool],
        demo_user: str,
        ttl: Callable[[], float],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._check_user = check_user
        self._demo_user = demo_user
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._access: dict[str, Grant] = {}
        self._refresh: dict[str, _Refresh] = {}
        self.issued = 0

    def reset(self) -> None:
        """Forget every issued token (they all answer 401 / invalid_grant afterwards)."""
        with self._lock:
            self._access.clear()
            self._refresh.clear()

    def expire_all(self) -> int:
        """Expire every access token now (refresh tokens stay valid); returns how many."""
        with self._lock:
            now = self._clock()
            count = len(self._access)
            self._access = {
                token: Grant(g.subject, g.scopes, g.client_id, min(g.expires_at, now - 1), token)
                for token, g in self._access.items()
            }
            return count

    def token(self, form: Mapping[str, str], authorization: str | None) -> dict[str, object]:
        """Answer one POST /oauth/token request (form fields plus the Authorization header)."""
        client_id = self._client(form, authorization)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError(400, "invalid_request", "missing required parameter: grant_type")
        audience = form.get("audience")
        if audience is not None and audience != AUDIENCE:
            raise OAuthError(
                400,
                "access_denied",
                f"Service not found: {audience[:80]} (the audience must be {AUDIENCE})",
            )
        if grant_type == "password":
            return self._password(form, client_id)
        if grant_type == "refresh_token":
            return self._refresh_grant(form, client_id)
        if grant_type == "client_credentials":
            scopes = self._scopes(form.get("scope"))
            # RFC 6749 4.4.3: no refresh token for client credentials.
            return self._issue(self._demo_user, scopes - {"offline_access"}, client_id)
        raise OAuthError(
            400,
            "unsupported_grant_type",
            f"grant type {grant_type[:40]!r} is not supported; use one of {', '.join(GRANTS)}",
        )

    def _client(self, form: Mapping[str, str], authorization: str | None) -> str:
        basic = basic_credentials(authorization)
        body_id, body_secret = form.get("client_id"), form.get("client_secret")
        client_id: str | None
        secret: str | None
        if basic is not None:
            if body_id is not None and body_id != basic[0]:
                raise OAuthError(
                    400, "invalid_request", "client_id in the body differs from the Basic header"
                )
            client_id, secret = basic
        else:
            client_id, secret = body_id, body_secret
        challenge = {"WWW-Authenticate": 'Basic realm="oauth"'} if basic is not None else {}
        if not client_id:
            raise OAuthError(
                401,
                "invalid_client",
                "no client authentication: send client_id and client_secret",
                challenge,
            )
        if not (
            secrets.compare_digest(client_id.encode(), CLIENT_ID.encode())
            and secret is not None
            and secrets.compare_digest(secret.encode(), CLIENT_SECRET.encode())
        ):
            raise OAuthError(
                401,
                "invalid_client",
                "Unauthorized: unknown client or wrong client secret",
                challenge,
            )
        return client_id

    def _password(self, form: Mapping[str, str], client_id: str) -> dict[str, object]:
        username, password = form.get("username"), form.get("password")
        if not username or password is None:
            raise OAuthError(
                400, "invalid_request", "the password grant needs username and password"
            )
        if not self._check_user(username, password):
            raise OAuthError(400, "invalid_grant", "Wrong email or password.")
        return self._issue(username, self._scopes(form.get("scope")), client_id)

    def _refresh_grant(self, form: Mapping[str, str], client_id: str) -> dict[str, object]:
        token = form.get("refresh_token")
        if not token:
            raise OAuthError(400, "invalid_request", "missing required parameter: refresh_token")
        with self._lock:
            found = self._refresh.pop(token, None)
        if found is None:
            raise OAuthError(
                400, "invalid_grant", "Unknown or invalid refresh token (it may have been used)."
            )
        if found.client_id != client_id:
            raise OAuthError(400, "invalid_grant", "the refresh token belongs to another client")
        scopes = found.scopes
        asked = form.get("scope")
        if asked:
            narrowed = self._scopes(asked)
            if not narrowed <= found.scopes:
                raise OAuthError(
                    400, "invalid_scope", "a refresh may not ask for more scope than first granted"
                )
            scopes = narrowed | {"offline_access"}
        return self._issue(found.subject, scopes, client_id)

    @staticmethod
    def _scopes(raw: str | None) -> frozenset[str]:
        if raw is None or not raw.strip():
            return frozenset(DEFAULT_SCOPES)
        return frozenset(s for s in raw.split() if s in KNOWN_SCOPES)

    def _issue(self, subject: str, scopes: frozenset[str], client_id: str) -> dict[str, object]:
        ttl = float(self._ttl())
        access = secrets.token_urlsafe(32)
        grant = Grant(subject, scopes, client_id, self._clock() + ttl, access)
        body: dict[str, object] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": max(1, math.ceil(ttl)) if ttl > 0 else 0,
            "scope": " ".join(s for s in SCOPE_ORDER if s in scopes),
        }
        with self._lock:
            self._drop_expired()
            self._access[access] = grant
            if "offline_access" in scopes:
                refresh = secrets.token_urlsafe(48)
                self._refresh[refresh] = _Refresh(subject, scopes, client_id)
                body["refresh_token"] = refresh
            self.issued += 1
        return body

    def _drop_expired(self) -> None:
        now = self._clock()
        if len(self._access) > 1000:
            self._access = {t: g for t, g in self._access.items() if g.expires_at > now}

    def validate(self, authorization: str | None) -> Grant:
        """The grant of a valid, unexpired bearer token; else OAuthError 401 invalid_token."""
        if not authorization:
            raise _invalid_token("no bearer token: send 'Authorization: Bearer <access_token>'")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _invalid_token("the Authorization header must be 'Bearer <access_token>'")
        with self._lock:
            grant = self._access.get(token)
        if grant is None:
            raise _invalid_token("unknown access token; log in again")
        if grant.expires_at <= self._clock():
            raise _invalid_token("the access token has expired; refresh it or log in again")
        return grant


def _invalid_token(description: str) -> OAuthError:
    return OAuthError(
        401,
        "invalid_token",
        description,
        {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'},
    )


def require_scope(grant: Grant, scope: str) -> None:
    """OAuthError 403 insufficient_scope unless the token carries ``scope``."""
    if scope not in grant.scopes:
        raise OAuthError(
            403,
            "insufficient_scope",
            f"this endpoint needs scope {scope}; ask for it when logging in",
            {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
        )
