"""Parsing of times, ranges and resolutions given on the command line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from belimo_cloud.cli.exit_codes import CommandError
from belimo_cloud.cli.options import check_range, parse_resolution, parse_when

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # No zone: local time in Europe/Zurich (CET in winter, CEST in summer).
        ("2018-01-01", datetime(2017, 12, 31, 23, tzinfo=UTC)),
        ("2018-07-01", datetime(2018, 6, 30, 22, tzinfo=UTC)),
        ("2018-01-01T06:30:00Z", datetime(2018, 1, 1, 6, 30, tzinfo=UTC)),
        ("2018-01-01T06:30", datetime(2018, 1, 1, 5, 30, tzinfo=UTC)),
        ("2018-07-01T02:00:00+02:00", datetime(2018, 7, 1, 0, 0, tzinfo=UTC)),
        ("now", NOW),
        ("today", datetime(2026, 11, 19, 23, tzinfo=UTC)),
        ("7d", NOW - timedelta(days=7)),
        ("12h ago", NOW - timedelta(hours=12)),
        ("1h30m", NOW - timedelta(minutes=90)),
    ],
)
def test_times(text: str, expected: datetime) -> None:
    assert parse_when(text, "--from", now=NOW) == expected


def test_tz_changes_the_calendar() -> None:
    assert parse_when("2018-01-01", "--from", tz="UTC") == datetime(2018, 1, 1, tzinfo=UTC)
    with pytest.raises(CommandError, match="--tz"):
        parse_when("2018-01-01", "--from", tz="Mars/Olympus")


@pytest.mark.parametrize(
    "text",
    [
        "2018-13-01",
        "yesterday-ish",
        "",
        "2018/01/01",
        "0001-01-01",
        "9999-12-31",
        "99999999999999999999d",
        "2018-01-01\udcff",
        "x" * 100_000,
        "２０１８-０１-０１",
    ],
)
def test_bad_times_name_the_option(text: str) -> None:
    with pytest.raises(CommandError, match="--from") as caught:
        parse_when(text, "--from", now=NOW)
    assert caught.value.status == 1


def test_end_must_follow_start() -> None:
    start = datetime(2018, 2, 1, tzinfo=UTC)
    check_range(start, start + timedelta(seconds=1))
    check_range(None, start)
    for end in (start, start - timedelta(days=1)):
        with pytest.raises(CommandError, match="must be after --from"):
            check_range(start, end)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("1d", timedelta(days=1)),
        ("30s", timedelta(seconds=30)),
        ("7d", timedelta(days=7)),
        ("5min", timedelta(minutes=5)),
        ("1h30m", timedelta(minutes=90)),
    ],
)
def test_resolutions(text: str, expected: timedelta) -> None:
    assert parse_resolution(text) == expected


@pytest.mark.parametrize(
    "text", ["0m", "15", "fast", "1y", "99999999999999999999d", "1e309s", "١h", "-1h", "1.5h"]
)
def test_bad_resolutions(text: str) -> None:
    with pytest.raises(CommandError, match="--resolution"):
        parse_resolution(text)
