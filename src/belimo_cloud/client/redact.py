"""Masking secrets on every path out: log records, error texts, URLs, form fields, tokens.

``redact_text`` masks bearer/basic credentials, ``secret=value`` pairs and URL user info in free
text; ``RedactingFilter`` applies it to every record of the client's loggers; ``safe_url`` drops
user info from a URL; ``header_safe`` tells whether a token may go into a header at all.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import httpx

from belimo_cloud.config import is_secret_key, redact_url

__all__ = [
    "SECRET_KEYS",
    "RedactingFilter",
    "header_safe",
    "install_filter",
    "redact",
    "redact_text",
    "redact_url",
    "safe_url",
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
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s@]+@")
# RFC 6750 b64token and RFC 7230 token characters: printable ASCII without spaces.
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")


def redact(values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of headers or form fields with every secret value replaced by '****'."""
    return {
        k: ("****" if k.lower() in SECRET_KEYS or is_secret_key(k) else v)
        for k, v in values.items()
    }


def redact_text(text: str) -> str:
    """Mask credentials, ``secret=value`` pairs and URL user info inside free text."""
    text = _SECRET_PATTERN.sub(lambda m: m.group(1) + "****", text)
    return _USERINFO.sub(lambda m: m.group(1) + "****@", text)


def safe_url(url: httpx.URL | str, *, query: bool = True) -> str:
    """The URL without user info (and without the query when ``query`` is False)."""
    try:
        parsed = httpx.URL(str(url))
    except (httpx.InvalidURL, TypeError, ValueError):
        return redact_url(str(url))
    clean = parsed.copy_with(username=None, password=None)
    if not query:
        clean = clean.copy_with(query=None)
    return str(clean)


def header_safe(value: str) -> bool:
    """Whether a token or token type can be sent in a header as it is (no CR/LF, ASCII only)."""
    return _HEADER_SAFE.fullmatch(value) is not None


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


def install_filter(logger: logging.Logger) -> logging.Logger:
    """Attach one RedactingFilter to ``logger`` (idempotent) and return it."""
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    return logger
