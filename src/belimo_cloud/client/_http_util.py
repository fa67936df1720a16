"""Small helpers shared by auth and session: redaction, one-line failure texts, error bodies."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

import httpx

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

SECRET_KEYS = frozenset(
    {
        "authorization",
        "password",
        "client_secret",
        "refresh_token",
        "access_token",
        "id_token",
        "proxy-authorization",
        "cookie",
        "set-cookie",
    }
)
_SECRET_PATTERN = re.compile(
    r"(?i)(bearer\s+|basic\s+|"
    r"(?:password|client_secret|refresh_token|access_token|id_token)[\"']?\s*[=:]\s*[\"']?)"
    r"[^\s&\"',;]+"
)


def redact(values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of headers or form fields with every secret value replaced by '****'."""
    return {k: ("****" if k.lower() in SECRET_KEYS else v) for k, v in values.items()}


def redact_text(text: str) -> str:
    """Mask bearer/basic credentials and ``secret=value`` pairs inside free text."""
    return _SECRET_PATTERN.sub(lambda m: m.group(1) + "****", text)


class RedactingFilter(logging.Filter):
    """Masks credentials in every record of the logger it is attached to (defence in depth)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            try:
                record.msg = record.getMessage()
            except (TypeError, ValueError):
                record.msg = f"{record.msg} {record.args!r}"  # broken format: keep both, masked
            record.args = None
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        return True


def safe_url(url: httpx.URL | str, *, query: bool = True) -> str:
    """The URL without user info (and without the query when ``query`` is False)."""
    parsed = httpx.URL(str(url))
    clean = parsed.copy_with(username=None, password=None)
    if not query:
        clean = clean.copy_with(query=None)
    return str(clean)


def describe_transport_error(exc: BaseException, timeout: float | None = None) -> str:
    """A short human phrase for an httpx transport failure ("connection refused", ...)."""
    text = " ".join(str(exc).split()).lower()
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
                return " ".join(str(first).split())
        for key in ("error_description", "message", "detail", "error"):
            value = doc.get(key)
            if isinstance(value, str) and value:
                return " ".join(value.split())
    text = " ".join(response.text.split()) if response.content else ""
    return text[:200] + ("..." if len(text) > 200 else "")
