"""Times and resolutions as users give them and as the API writes them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from belimo_cloud.client.timeutil import (
    floor_to_grid,
    format_resolution,
    format_time,
    parse_resolution,
    parse_time,
)
from belimo_cloud.errors import DataError

NOON = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        NOON,
        datetime(2025, 3, 1, 13, 0),  # naive means local time in Europe/Zurich (CET)
        datetime(2025, 3, 1, 13, 0, tzinfo=timezone(timedelta(hours=1))),
        "2025-03-01T12:00:00Z",
        "2025-03-01T12:00:00.000Z",
        "2025-03-01T13:00:00+01:00",
        "2025-03-01 13:00",
        "2025-03-01T12:00:00z",
        pd.Timestamp("2025-03-01T12:00:00Z"),
        pd.Timestamp("2025-03-01T07:00:00", tz="America/New_York"),
        np.datetime64("2025-03-01T13:00:00"),
        1740830400000,  # epoch milliseconds
    ],
)
def test_parse_time_accepts_what_users_have(value: object) -> None:
    parsed = parse_time(value)
    assert parsed == NOON
    assert parsed.tzinfo is UTC


def test_parse_time_of_a_date_is_local_midnight() -> None:
    assert parse_time(date(2025, 3, 1)) == datetime(2025, 2, 28, 23, tzinfo=UTC)
    assert parse_time("2025-07-01") == datetime(2025, 6, 30, 22, tzinfo=UTC)  # CEST
    assert parse_time("2025-03-01", tz="UTC") == datetime(2025, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    ["0001-01-01", "9999-12-31", "1969-12-31T23:59:59Z", -1, 10**30, float("nan"), "٢٠٢٥-٠١-٠١"],
)
def test_parse_time_refuses_out_of_range_and_non_ascii(value: object) -> None:
    with pytest.raises(DataError):
        parse_time(value)


@pytest.mark.parametrize("value", ["yesterday-ish", "", True, None, object(), [1]])
def test_parse_time_refuses_garbage_with_data_error(value: object) -> None:
    with pytest.raises(DataError):
        parse_time(value)


def test_format_time_writes_z_and_keeps_milliseconds() -> None:
    assert format_time(NOON) == "2025-03-01T12:00:00Z"
    assert format_time(NOON + timedelta(milliseconds=250)) == "2025-03-01T12:00:00.250Z"
    assert format_time("2025-03-01T13:00:00+01:00") == "2025-03-01T12:00:00Z"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("15min", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("1d", timedelta(days=1)),
        ("7d", timedelta(days=7)),
        ("1w", timedelta(days=7)),
        ("1h30m", timedelta(minutes=90)),
        (" 6H ", timedelta(hours=6)),
        (timedelta(minutes=5), timedelta(minutes=5)),
        (pd.Timedelta("15min"), timedelta(minutes=15)),
    ],
)
def test_parse_resolution(text: object, expected: timedelta) -> None:
    assert parse_resolution(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "15",
        "15x",
        "m15",
        "0m",
        "-5m",
        100,
        timedelta(0),
        "1.5h",
        "99999999999999999999d",
        "9" * 5000 + "d",
        "١h",
        "36700d",
    ],
)
def test_parse_resolution_refuses_garbage(text: object) -> None:
    with pytest.raises(DataError):
        parse_resolution(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [("15m", "15m"), ("60m", "1h"), ("90m", "90m"), ("24h", "1d"), ("7d", "7d"), ("45s", "45s")],
)
def test_format_resolution_uses_the_largest_unit(value: str, text: str) -> None:
    assert format_resolution(value) == text


def test_floor_to_grid() -> None:
    t = datetime(2025, 3, 1, 12, 7, 30, tzinfo=UTC)
    assert floor_to_grid(t, timedelta(minutes=15)) == datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    assert floor_to_grid(t, timedelta(days=1)) == datetime(2025, 3, 1, tzinfo=UTC)
