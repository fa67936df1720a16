"""Small helpers shared by auth and session: one-line failure texts and error bodies.

Redaction lives in client/redact.py; its names are re-exported here for older imports.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from belimo_cloud.client.redact import (
    SECRET_KEYS,
    RedactingFilter,
    redact,
    redact_text,
    safe_url,
)

__all__ = [
    "SECRET_KEYS",
    "RedactingFilter",
    "describe_transport_error",
    "oauth_error",
    "redact",
    "redact_text",
    "safe_url",
    "server_message",
]


def describe_transport_error(exc: BaseException, timeout: float | None = None) -> str:
    """A short human phrase for an httpx transport failure ("connection refused", ...)."""
    text = redact_text(" ".join(str(exc).split())).lower()[:200]
    if isinstance(exc, httpx.TimeoutException):
        kind = {
            httpx.ConnectTimeout: "connect timed out",
            httpx.ReadTimeout: "read timed out",
            httpx.WriteTimeout: "write timed out",
            httpx.PoolTimeout: "no free connection in the pool",
        }.get(type(exc), "timed out")
        return f"{kind} after {timeout:g} s" if timeout else kind
    if isinstance(exc, httpx.ConnectError):
        if "refused" in text:
            return "connection refused"
        if "name or service" in text or "nodename" in text or "getaddrinfo" in text:
            return "unknown host"
        return f"cannot connect ({text or type(exc).__name__})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "connection dropped by the server"
    if isinstance(exc, httpx.ReadError):
        return "connection dropped while reading the answer"
    if isinstance(exc, httpx.WriteError):
        return "connection dropped while sending"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "unsupported URL scheme (use http:// or https://)"
    return text or type(exc).__name__


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        doc = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


def oauth_error(response: httpx.Response) -> tuple[str | None, str | None]:
    """The OAuth2 ``error`` and ``error_description`` of an error body (None when absent)."""
    doc = _json_object(response)
    error = description = None
    if doc is not None:
        if isinstance(doc.get("error"), str):
            error = doc["error"]
        for key in ("error_description", "message", "detail"):
            if isinstance(doc.get(key), str):
                description = doc[key]
                break
    if error is None:
        header = response.headers.get("www-authenticate", "")
        found = re.search(r'error="([^"]+)"', header)
        if found:
            error = found.group(1)
        found = re.search(r'error_description="([^"]+)"', header)
        if found and description is None:
            description = found.group(1)
    return error, description


def server_message(response: httpx.Response) -> str:
    """The server's own explanation of an error, one line, or a preview of its body."""
    doc = _json_object(response)
    if doc is not None:
        errors = doc.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0].get("message") or errors[0].get("code")
            if first:
                return redact_text(" ".join(str(first).split()))[:300]
        for key in ("error_description", "message", "detail", "error"):
            value = doc.get(key)
            if isinstance(value, str) and value:
                return redact_text(" ".join(value.split()))[:300]
    text = " ".join(response.text.split()) if response.content else ""
    return redact_text(text[:200] + ("..." if len(text) > 200 else ""))
