"""Times and durations as the API writes them: ISO-8601 UTC with ``Z``, and "15m"-style resolutions.

Every public function accepts what users naturally have (datetime, ISO string, pandas
Timestamp, epoch milliseconds; "15m", "1h30m" or a timedelta) and raises DataError for anything
else, so that a typo never reaches the server as a confusing 400. The spellings are those of
``belimo_cloud.grammar``, shared with the command line.

Calendar rule: a date or time without a zone is local time in ``tz`` (default Europe/Zurich),
in the library as on the command line: ``client.history.timeseries(dev, dps, "2018-01-01",
"2018-02-01")`` covers local January. Give ``Z`` or an offset (or an aware datetime) for UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from belimo_cloud import grammar

__all__ = [
    "DEFAULT_TZ",
    "EPOCH",
    "floor_to_grid",
    "format_resolution",
    "format_time",
    "parse_resolution",
    "parse_time",
    "utcnow",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_TZ = grammar.DEFAULT_TZ
_FORMAT_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def utcnow() -> datetime:
    """The current time, tz-aware UTC."""
    return datetime.now(UTC)


def parse_time(value: Any, *, tz: str | tzinfo | None = None) -> datetime:
    """Turn a datetime, ISO string, pandas Timestamp, date or epoch milliseconds into UTC.

    A time without a zone is local time in ``tz`` (default Europe/Zurich); strings may also
    be "now", "today" or a duration ago ("7d", "1h30m"). Times lie in 1970-2200.
    """
    if type(value).__name__ == "datetime64":  # numpy scalar, without importing numpy here
        import pandas as pd

        value = pd.Timestamp(value)
    return grammar.parse_time(value, tz=tz, what="time")


def format_time(value: Any) -> str:
    """ISO-8601 UTC with ``Z``, seconds precision (milliseconds when the time has them)."""
    dt = parse_time(value)
    if dt.microsecond:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_resolution(value: Any) -> timedelta:
    """Turn "15m", "1h", "1d", "30s", "7d", "1h30m" or a timedelta into a positive timedelta.

    The API's buckets are whole seconds, so finer durations are refused; so are durations
    beyond grammar.MAX_DURATION.
    """
    return grammar.parse_duration(value, what="resolution")


def format_resolution(value: Any) -> str:
    """The API's spelling of a resolution: the largest unit that divides it, e.g. "15m", "7d"."""
    td = parse_resolution(value)
    seconds = int(td.total_seconds())
    for unit, size in _FORMAT_UNITS:
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    raise AssertionError("unreachable: every whole number of seconds has a unit")


def floor_to_grid(value: datetime, resolution: timedelta) -> datetime:
    """The start of the bucket holding ``value``; buckets sit on a grid from the epoch."""
    return EPOCH + ((value - EPOCH) // resolution) * resolution
