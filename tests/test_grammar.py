"""belimo_cloud.grammar: one reading of times, durations and numbers for library and CLI."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from belimo_cloud import grammar
from belimo_cloud.errors import DataError

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018-01-01", datetime(2017, 12, 31, 23, tzinfo=UTC)),
        ("2018-03-25T03:00", datetime(2018, 3, 25, 1, tzinfo=UTC)),  # first hour of CEST
        ("2018-01-01T00:00:00Z", datetime(2018, 1, 1, tzinfo=UTC)),
        ("today", datetime(2026, 11, 19, 23, tzinfo=UTC)),
        ("yesterday", datetime(2026, 11, 18, 23, tzinfo=UTC)),
        ("1h30m", NOW - timedelta(minutes=90)),
        ("2 days ago", NOW - timedelta(days=2)),
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
    ],
)
def test_times(text: object, expected: datetime) -> None:
    assert grammar.parse_time(text, now=NOW) == expected


def test_the_zone_decides_what_a_naive_time_means() -> None:
    assert grammar.parse_time("2018-01-01", tz="UTC") == datetime(2018, 1, 1, tzinfo=UTC)
    assert grammar.parse_time(datetime(2018, 1, 1), tz="America/New_York") == datetime(
        2018, 1, 1, 5, tzinfo=UTC
    )
    with pytest.raises(DataError, match="--tz"):
        grammar.zone("Nowhere/Atlantis")


def test_messages_name_the_input_and_cut_it_short() -> None:
    with pytest.raises(DataError) as caught:
        grammar.parse_time("z" * 10_000, what="--from")
    message = str(caught.value)
    assert message.startswith("--from: ")
    assert len(message) < 300


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30s", 30), ("15m", 900), ("1h30m", 5400), ("1 day", 86400), ("2w", 1_209_600)],
)
def test_durations(text: str, expected: int) -> None:
    assert grammar.parse_duration(text) == timedelta(seconds=expected)


def test_duration_bounds_are_the_callers() -> None:
    assert grammar.parse_duration("1h", maximum=timedelta(hours=1)) == timedelta(hours=1)
    with pytest.raises(DataError, match="too long"):
        grammar.parse_duration("61m", maximum=timedelta(hours=1))
    with pytest.raises(DataError, match="too short"):
        grammar.parse_duration("30s", minimum=timedelta(minutes=1))


@pytest.mark.parametrize(
    ("value", "options", "expected"),
    [
        ("2", {}, 2.0),
        ("0.5", {"minimum": 0, "exclusive_minimum": True}, 0.5),
        (8, {"minimum": 1, "maximum": 64, "integer": True}, 8.0),
        ("1_000", {}, 1000.0),
    ],
)
def test_numbers(value: object, options: dict[str, object], expected: float) -> None:
    assert grammar.parse_number(value, **options) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "options"),
    [
        ("0", {"minimum": 0, "exclusive_minimum": True}),
        ("1e-300", {"minimum": 1e-3}),
        ("nan", {}),
        ("inf", {}),
        (math.inf, {}),
        (10**400, {}),
        ("1.5", {"integer": True}),
        ("65", {"maximum": 64}),
        (True, {}),
        ("٣", {}),
    ],
)
def test_bad_numbers(value: object, options: dict[str, object]) -> None:
    with pytest.raises(DataError):
        grammar.parse_number(value, what="BELIMO_RATE_LIMIT", **options)  # type: ignore[arg-type]
