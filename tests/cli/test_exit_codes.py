"""Every error class maps to its documented exit status and carries advice."""

from __future__ import annotations

import pytest

from belimo_cloud.cli.exit_codes import CommandError, ExitStatus, exit_status, hint
from belimo_cloud.errors import (
    APIError,
    BadRequest,
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

API = {"method": "GET", "url": "http://h/api/v3/devices/x", "status_code": 500}


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidCredentials("wrong password"), 2),
        (TokenExpired("expired"), 2),
        (NotFound("no device", **{**API, "status_code": 404}), 3),
        (ServerError("503", **{**API, "status_code": 503}), 4),
        (RateLimited("429", **{**API, "status_code": 429}, retry_after=3), 4),
        (BadRequest("400", **{**API, "status_code": 400}), 1),  # the caller's input
        (APIError("418", **{**API, "status_code": 418}), 4),
        (TransportError("unreachable"), 5),
        (ConfigError("unknown profile"), 1),
        (DataError("bad date"), 1),
        (StoreError("locked"), 1),
        (CommandError("gone", ExitStatus.NOT_FOUND), 3),
        (CommandError("bad input"), 1),
        (KeyboardInterrupt(), 130),
    ],
)
def test_status_of_each_error(error: BaseException, status: int) -> None:
    assert exit_status(error) == status


@pytest.mark.parametrize(
    "error",
    [
        InvalidCredentials("x"),
        TokenExpired("x"),
        NotFound("x", **API),
        ServerError("x", **API),
        RateLimited("x", **API, retry_after=2),
        TransportError("x"),
    ],
)
def test_expected_failures_say_what_to_do(error: BaseException) -> None:
    advice = hint(error)
    assert advice
    assert "\n" not in advice


def test_statuses_are_the_documented_ones() -> None:
    assert {s.name: int(s) for s in ExitStatus} == {
        "OK": 0,
        "USAGE": 1,
        "AUTH": 2,
        "NOT_FOUND": 3,
        "API": 4,
        "NETWORK": 5,
        "READ_ONLY": 6,
        "OUT_OF_RANGE": 7,
        "NO_WRITE_SCOPE": 8,
        "JOB_FAILED": 9,
        "JOB_TIMEOUT": 10,
        "INTERRUPTED": 130,
    }
