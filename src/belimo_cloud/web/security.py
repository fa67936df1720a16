"""Who may open the dashboard: loopback by default, a token for anything wider.

Bound to a loopback address, the server answers only requests whose ``Host`` names that
loopback address (a web page elsewhere cannot reach it by rebinding a DNS name). Bound to any
other address, every request must carry the token: once as ``?token=...`` (answered with a
cookie and a redirect that drops it from the address bar), or as ``Authorization: Bearer``.
The cookie holds a digest of the token, never the token itself.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlencode

from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from belimo_cloud.errors import ConfigError

__all__ = ["COOKIE", "MIN_TOKEN", "Guard", "check_binding", "is_loopback"]

COOKIE = "belimo_dashboard"
MIN_TOKEN = 16
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}

#: Headers on every answer: no framing, no sniffing, scripts and data from this server only.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine only."""
    name = host.strip("[]").lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_binding(host: str, token: str | None) -> None:
    """Refuse to listen beyond loopback without a token long enough to resist guessing."""
    if token is not None and len(token) < MIN_TOKEN:
        raise ConfigError(f"--token must be at least {MIN_TOKEN} characters long")
    if not is_loopback(host) and token is None:
        raise ConfigError(
            f"--host {host} is reachable from other machines; give --token "
            "(or BELIMO_SERVE_TOKEN), or keep the default --host 127.0.0.1"
        )


def _digest(token: str) -> str:
    return hashlib.sha256(b"belimo-dashboard\0" + token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Guard:
    """Checks one request against the server's binding and token."""

    host: str
    token: str | None = field(default=None, repr=False)

    def check(self, request: Request) -> Response | None:
        """None when the request may pass; else the answer that refuses it."""
        if is_loopback(self.host) and self.token is None:
            name = (request.url.hostname or "").lower()
            if not is_loopback(name):
                return PlainTextResponse("unexpected Host header", status_code=400)
            return None
        if self.token is None:
            return None
        expected = _digest(self.token)
        cookie = request.cookies.get(COOKIE, "")
        if cookie and hmac.compare_digest(cookie, expected):
            return None
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and hmac.compare_digest(
            _digest(auth[7:].strip()), expected
        ):
            return None
        given = request.query_params.get("token")
        if given is not None and hmac.compare_digest(_digest(given), expected):
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = URL(path=request.url.path, query=urlencode(rest))
            answer = RedirectResponse(str(target), status_code=303)
            answer.set_cookie(COOKIE, expected, httponly=True, samesite="strict")
            return answer
        return PlainTextResponse(
            "this dashboard needs its token: open the address `belimo serve` printed "
            "(it ends in ?token=...)",
            status_code=401,
        )
