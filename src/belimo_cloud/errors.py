"""Every error belimo-cloud raises, in one tree.

    BelimoError
    ├── ConfigError            settings missing or malformed (profile, env, config file)
    ├── DataError              a response or input that cannot be interpreted (bad body, bad date)
    │   └── WriteRefused*      a write the data profile forbids; nothing was sent
    │       ├── ReadOnlyDatapoint*   the datapoint's access is not rw/w
    │       └── ValueOutOfRange*     outside range, enumeration, length or base type
    ├── AuthError              the identity server refused us
    │   ├── InvalidCredentials wrong client id/secret, user or password
    │   ├── TokenExpired       the token (and its refresh token) can no longer be used
    │   ├── UnusableToken      a token that cannot go into a header (CR/LF, non-ASCII)
    │   └── WriteNotPermitted* no `public.write` scope granted, or the API answered 403
    ├── APIError               the API answered with an error status, or an unreadable body
    │   ├── BadRequest         400: a parameter the API rejected (the caller's input)
    │   ├── ResponseError      a 2xx whose body is not what the API sends (HTML, bad JSON);
    │   │                      also a DataError, so callers catching DataError still see it
    │   ├── NotFound           404: unknown device, datapoint or profile
    │   ├── RateLimited        429, after retries; carries retry_after [s]
    │   └── ServerError        5xx, after retries
    ├── TransportError         no answer: unreachable, timeout, connection dropped
    ├── StoreError             the local store is locked, newer or damaged
    ├── TokenCacheError        the on-disk token cache could not be written or removed
    └── JobTimeout*            a write's job did not end in time (also a TimeoutError)

* defined beside the code that raises them: client/write_checks.py, client/writes.py and
  client/jobs.py.

The command line maps each class to one exit status (cli/exit_codes.py); messages are one
line and never contain secrets.
"""

from __future__ import annotations

__all__ = [
    "APIError",
    "AuthError",
    "BadRequest",
    "BelimoError",
    "ConfigError",
    "DataError",
    "InvalidCredentials",
    "NotFound",
    "RateLimited",
    "ResponseError",
    "ServerError",
    "StoreError",
    "TokenCacheError",
    "TokenExpired",
    "TransportError",
    "UnusableToken",
]

_BODY_PREVIEW = 300


class BelimoError(Exception):
    """Base of every error raised by belimo-cloud."""


class ConfigError(BelimoError):
    """Settings are missing or malformed."""


class DataError(BelimoError):
    """A response body or an input value cannot be interpreted."""


class StoreError(BelimoError):
    """The local store cannot be used (locked, newer schema, damaged)."""


class TransportError(BelimoError):
    """The server could not be reached or did not answer (in time)."""


class TokenCacheError(BelimoError):
    """The on-disk token cache could not be written or an entry could not be removed.

    The message names the file and the reason, never the token.
    """


class AuthError(BelimoError):
    """The identity server refused to issue a token.

    ``error`` and ``description`` are the OAuth2 ``error`` and ``error_description`` fields.
    """

    def __init__(self, message: str, *, error: str | None = None, description: str | None = None):
        super().__init__(message)
        self.error = error
        self.description = description


class InvalidCredentials(AuthError):
    """Client id/secret, user name or password were refused."""


class TokenExpired(AuthError):
    """The access token expired and could not be renewed."""


class UnusableToken(AuthError):
    """A token (from the cache or the token endpoint) that cannot be sent in a header.

    Control characters or non-ASCII text mean a tampered cache or a hostile server; the
    token itself is never part of the message, and the request is never retried.
    """


class APIError(BelimoError):
    """The API answered with an error status.

    ``url`` never carries credentials: tokens travel in headers, never in query strings.
    """

    def __init__(self, message: str, *, status_code: int, method: str, url: str, body: str = ""):
        super().__init__(message)
        self.status_code = status_code
        self.method = method
        self.url = url
        self.body = body

    def __str__(self) -> str:
        base = super().__str__()
        if not self.method:
            return base
        return f"{base} ({self.method} {self.url} -> {self.status_code})"

    @property
    def body_preview(self) -> str:
        """The start of the server's body, for one-line messages."""
        text = " ".join(self.body.split())
        return text if len(text) <= _BODY_PREVIEW else text[:_BODY_PREVIEW] + "..."


class BadRequest(APIError):
    """400: the API rejected a parameter; the command line treats it as an input error."""


class ResponseError(APIError, DataError):
    """A successful status with a body the API never sends: HTML from a proxy, broken JSON.

    The server (or something in front of it) is at fault, not the caller's input: an
    APIError. It is a DataError too, for callers that catch unreadable bodies as such.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 200,
        method: str = "",
        url: str = "",
        body: str = "",
    ):
        super().__init__(message, status_code=status_code, method=method, url=url, body=body)


class NotFound(APIError):
    """404: the device, datapoint or definition does not exist (or is not yours)."""


class RateLimited(APIError):
    """429 that persisted through retries; ``retry_after`` is the server's hint in seconds."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        method: str,
        url: str,
        body: str = "",
        retry_after: float | None = None,
    ):
        super().__init__(message, status_code=status_code, method=method, url=url, body=body)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx that persisted through retries."""
