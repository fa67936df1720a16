"""What a token endpoint's answer means: a usable token, or the error to raise.

``parse_token_answer`` turns a 2xx body into a CachedToken (ResponseError for a body no token
server sends; UnusableToken for a token no header may carry); ``refusal_error`` maps a refusal
onto the error tree; ``check_token`` is the header-safety check shared with the token cache.
"""

from __future__ import annotations

import math
from typing import Any

import httpx

from belimo_cloud.client._http_util import oauth_error, server_message
from belimo_cloud.client.constants import DEFAULT_EXPIRES_IN
from belimo_cloud.client.redact import header_safe, safe_url
from belimo_cloud.client.retry import parse_retry_after
from belimo_cloud.client.tokencache import CachedToken
from belimo_cloud.errors import (
    AuthError,
    BelimoError,
    InvalidCredentials,
    RateLimited,
    ResponseError,
    ServerError,
    UnusableToken,
)

__all__ = ["check_token", "parse_token_answer", "refusal_error"]

_CREDENTIAL_ERRORS = frozenset(
    {"invalid_grant", "invalid_client", "access_denied", "unauthorized_client", "unauthorized"}
)


def check_token(token: CachedToken, source: str) -> CachedToken:
    """The token, if it can be sent in a header as it is; UnusableToken (not echoed) if not."""
    if not header_safe(token.access_token) or not header_safe(token.token_type):
        raise UnusableToken(
            f"the {source} holds an access token with characters no header may carry "
            "(control or non-ASCII characters); refused without using it. "
            + (
                "Run `belimo logout` and log in again"
                if "cache" in source
                else "Check token_url: this is not a token server to trust"
            ),
            error="invalid_token",
        )
    return token


def _bad_body(response: httpx.Response, token_url: str, what: str) -> ResponseError:
    where = safe_url(token_url, query=False)
    return ResponseError(
        f"the token endpoint {where} answered {response.status_code} with {what}; check token_url",
        status_code=response.status_code,
        method="POST",
        url=where,
    )


def parse_token_answer(
    response: httpx.Response, token_url: str, *, now: float, previous_refresh: str | None
) -> CachedToken:
    """The token of a successful answer, its expiry counted from ``now``."""
    try:
        doc: Any = response.json()
    except (ValueError, UnicodeDecodeError):
        raise _bad_body(response, token_url, "a body that is not JSON") from None
    access = doc.get("access_token") if isinstance(doc, dict) else None
    if not isinstance(access, str) or not access:
        raise _bad_body(response, token_url, "no access_token")
    expires_in: Any = doc.get("expires_in", DEFAULT_EXPIRES_IN)
    try:
        lifetime = float(expires_in)
    except (TypeError, ValueError, OverflowError):
        raise _bad_body(response, token_url, "an unusable expires_in") from None
    if not (lifetime >= 0 and math.isfinite(lifetime)):
        raise _bad_body(response, token_url, "an unusable expires_in")
    refresh = doc.get("refresh_token")
    token_type = doc.get("token_type")
    scope = doc.get("scope")
    token = CachedToken(
        access_token=access,
        expires_at=now + lifetime,
        token_type=token_type if isinstance(token_type, str) and token_type else "Bearer",
        # Servers that do not rotate refresh tokens omit them on refresh: keep the old one.
        refresh_token=refresh if isinstance(refresh, str) and refresh else previous_refresh,
        scope=scope if isinstance(scope, str) else None,
        issued_at=now,
    )
    return check_token(token, "token endpoint's answer")


def refusal_error(response: httpx.Response, token_url: str, grant: str) -> BelimoError:
    """The error-tree exception for a token endpoint that said no."""
    status = response.status_code
    url = safe_url(token_url, query=False)
    error, description = oauth_error(response)
    detail = description or error or server_message(response) or f"HTTP {status}"
    if status == 429:
        return RateLimited(
            f"the token endpoint keeps answering 429: {detail}",
            status_code=status,
            method="POST",
            url=url,
            body=response.text,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )
    if status >= 500:
        return ServerError(
            f"the token endpoint failed: {detail}",
            status_code=status,
            method="POST",
            url=url,
            body=response.text,
        )
    if status in (401, 403) or (status == 400 and error in _CREDENTIAL_ERRORS):
        return InvalidCredentials(
            f"login refused ({grant} grant at {url}): {detail}; "
            "check client id/secret, user name and password",
            error=error,
            description=description,
        )
    if status == 404:
        return AuthError(
            f"no token endpoint at {url} (404); check token_url",
            error=error,
            description=description,
        )
    return AuthError(
        f"the token endpoint refused the {grant} grant ({status}): {detail}",
        error=error,
        description=description,
    )
