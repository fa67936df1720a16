"""What an API answer means: a 2xx that is really a page, or the error for a final failure.

``check_body`` refuses a 2xx HTML page (ResponseError); ``answer_error`` maps a final non-2xx
answer onto the error tree, with advice that fits the settings (a 429 with the limiter off asks
for a limit, not for a lower one); ``missing_scope`` names the scope a 403 asks for.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from belimo_cloud.client._http_util import oauth_error, server_message
from belimo_cloud.client.redact import safe_url
from belimo_cloud.errors import (
    APIError,
    AuthError,
    BadRequest,
    BelimoError,
    NotFound,
    RateLimited,
    ResponseError,
    ServerError,
    TokenExpired,
)

__all__ = ["answer_error", "check_body", "missing_scope"]


def check_body(response: httpx.Response) -> None:
    """Refuse a 2xx that is an HTML page (a proxy's login or error page, a wrong URL)."""
    kind = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    head = response.content[:64].lstrip().lower()
    if kind in {"text/html", "application/xhtml+xml"} or head.startswith(
        (b"<!doctype html", b"<html")
    ):
        url = safe_url(response.request.url, query=False)
        raise ResponseError(
            f"the API answered {response.status_code} with an HTML page instead of data; "
            "check api_url (a proxy or a login page may be in the way)",
            status_code=response.status_code,
            method=response.request.method,
            url=url,
            body=response.text[:300],
        )


def answer_error(
    response: httpx.Response, retry_after: float | None, *, rate_limit: float
) -> BelimoError:
    """The error-tree exception for a final non-2xx answer (``rate_limit`` for the advice)."""
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
            scope = missing_scope(response, description)
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
        rate = rate_limit
        advice = (
            f"lower rate_limit (now {rate:g} requests/s) or max_workers"
            if rate > 0
            else "set a client-side limit, e.g. BELIMO_RATE_LIMIT=2 (now 0: unlimited)"
        )
        return RateLimited(
            f"rate limited by the API after retries{hint}; {advice}",
            retry_after=retry_after,
            **common,
        )
    if status >= 500:
        return ServerError(
            f"the API failed ({status}) after retries: {detail or 'no detail'}", **common
        )
    return APIError(f"the API answered {status}: {detail or 'no detail'}", **common)


def missing_scope(response: httpx.Response, description: str | None) -> str:
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
