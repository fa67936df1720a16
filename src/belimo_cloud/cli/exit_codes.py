"""Exit statuses of `belimo`, and the one place that maps each error to one of them.

0    ok
1    usage or input error (bad option, bad date, `to` not after `from`, unknown format, a
     parameter the API refused with 400, a local file or store that cannot be used)
2    authentication error (wrong credentials, token refused or unusable)
3    not found (unknown device, datapoint or profile)
4    API or server error (5xx, 429 after retries, an answer that is not the API's: HTML, bad JSON)
5    network error (unreachable, timeout, connection dropped, command budget spent)
6    write refused: the datapoint is read-only
7    write refused: the value is outside the datapoint's range, enumeration or type
8    write not permitted: the account cannot obtain the `public.write` scope (or the API says 403)
9    the write's job ended FAILURE or CANCELED
10   the write's job did not end within --timeout
130  interrupted (Ctrl-C)
"""

from __future__ import annotations

from enum import IntEnum

from belimo_cloud.client.jobs import JobTimeout
from belimo_cloud.client.write_checks import ReadOnlyDatapoint, ValueOutOfRange
from belimo_cloud.client.writes import WriteNotPermitted
from belimo_cloud.errors import (
    APIError,
    AuthError,
    BadRequest,
    BelimoError,
    ConfigError,
    DataError,
    InvalidCredentials,
    NotFound,
    RateLimited,
    ServerError,
    StoreError,
    TokenExpired,
    TransportError,
)

__all__ = ["CommandError", "ExitStatus", "exit_status", "hint"]


class ExitStatus(IntEnum):
    """What `belimo` returns to the shell."""

    OK = 0
    USAGE = 1
    AUTH = 2
    NOT_FOUND = 3
    API = 4
    NETWORK = 5
    READ_ONLY = 6
    OUT_OF_RANGE = 7
    NO_WRITE_SCOPE = 8
    JOB_FAILED = 9
    JOB_TIMEOUT = 10
    INTERRUPTED = 130


class CommandError(BelimoError):
    """A failure the command line itself detects, with the status it must exit with."""

    def __init__(self, message: str, status: ExitStatus = ExitStatus.USAGE) -> None:
        super().__init__(message)
        self.status = status


# Most specific first: the first matching class decides.
_STATUS_BY_CLASS: tuple[tuple[type[BaseException], ExitStatus], ...] = (
    (ReadOnlyDatapoint, ExitStatus.READ_ONLY),
    (ValueOutOfRange, ExitStatus.OUT_OF_RANGE),
    (WriteNotPermitted, ExitStatus.NO_WRITE_SCOPE),
    (JobTimeout, ExitStatus.JOB_TIMEOUT),
    (AuthError, ExitStatus.AUTH),
    (NotFound, ExitStatus.NOT_FOUND),
    # The caller's input, refused by the server: fix the command line, not the server.
    (BadRequest, ExitStatus.USAGE),
    # Before DataError: a 2xx with an HTML or broken body is the server's fault (ResponseError).
    (APIError, ExitStatus.API),
    (TransportError, ExitStatus.NETWORK),
    (ConfigError, ExitStatus.USAGE),
    (DataError, ExitStatus.USAGE),
    (StoreError, ExitStatus.USAGE),
    (KeyboardInterrupt, ExitStatus.INTERRUPTED),
)


def exit_status(error: BaseException) -> ExitStatus:
    """The exit status for an error; anything unexpected counts as a usage/input error (1)."""
    if isinstance(error, CommandError):
        return error.status
    for cls, status in _STATUS_BY_CLASS:
        if isinstance(error, cls):
            return status
    return ExitStatus.USAGE


def hint(error: BaseException) -> str:
    """What the user can do about an error, as a short sentence ('' when the message says it)."""
    if isinstance(error, InvalidCredentials):
        return (
            "check the client id/secret, user and password (`belimo config` shows what is used; "
            "set BELIMO_* variables or a profile in the config file)"
        )
    if isinstance(error, TokenExpired):
        return "run `belimo login` again"
    if isinstance(error, AuthError):
        return "check the credentials and the token URL (`belimo config`)"
    if isinstance(error, NotFound):
        return "check the id (`belimo devices` lists your devices and their data profiles)"
    if isinstance(error, BadRequest):
        return "check the options (dates, --resolution, datapoints); -v shows the server's answer"
    if isinstance(error, RateLimited):
        wait = f"wait {error.retry_after:g} s and " if error.retry_after else ""
        return (
            f"{wait}try again; to pace requests set BELIMO_RATE_LIMIT (requests/s, e.g. 2) "
            "or fewer BELIMO_MAX_WORKERS"
        )
    if isinstance(error, ServerError):
        return "the server is failing; try again later (-v shows its answer)"
    if isinstance(error, APIError):
        return "-v shows the server's answer"
    if isinstance(error, TransportError):
        return (
            "check the API URL (`belimo config`) and the network; "
            "for the local demo cloud run `belimo emulator serve`"
        )
    return ""
