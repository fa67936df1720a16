"""Times and durations as the API writes them: ISO-8601 UTC with ``Z``, and "15m"-style resolutions.

Every public function accepts what users naturally have (datetime, ISO string, pandas
Timestamp, epoch milliseconds; "15m" or a timedelta) and raises DataError for anything else,
so that a typo never reaches the server as a confusing 400.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from belimo_cloud.errors import DataError

__all__ = [
    "EPOCH",
    "floor_to_grid",
    "format_resolution",
    "format_time",
    "parse_resolution",
    "parse_time",
    "utcnow",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_UNIT_SECONDS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
}
_PART = re.compile(r"(\d+)\s*([a-z]+)")
_FORMAT_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def utcnow() -> datetime:
    """The current time, tz-aware UTC."""
    return datetime.now(UTC)


def parse_time(value: Any) -> datetime:
    """Turn a datetime, ISO string, pandas Timestamp, date or epoch milliseconds into UTC.

    Naive times are taken as UTC (the API speaks UTC only).
    """
    if isinstance(value, bool):
        raise DataError(f"not a time: {value!r}; give a datetime, an ISO string or epoch ms")
    if isinstance(value, datetime):
        dt: datetime = value
        if hasattr(dt, "to_pydatetime"):  # pandas Timestamp: drop nanoseconds explicitly
            dt = dt.to_pydatetime(warn=False)
        return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int | float):
        try:
            return EPOCH + timedelta(milliseconds=float(value))
        except (OverflowError, ValueError) as exc:
            raise DataError(f"epoch milliseconds out of range: {value!r}") from exc
    if isinstance(value, str):
        text = value.strip()
        if text.lower() == "now":
            return utcnow()
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise DataError(
                f"cannot read {value!r} as a time; use ISO-8601 such as 2025-01-31T00:00:00Z"
            ) from exc
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    type_name = type(value).__name__
    if type_name == "datetime64":  # numpy scalar, without importing numpy here
        import pandas as pd

        return parse_time(pd.Timestamp(value))
    raise DataError(f"not a time: {value!r}; give a datetime, an ISO string or epoch ms")


def format_time(value: Any) -> str:
    """ISO-8601 UTC with ``Z``, seconds precision (milliseconds when the time has them)."""
    dt = parse_time(value)
    if dt.microsecond:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_resolution(value: Any) -> timedelta:
    """Turn "15m", "1h", "1d", "30s", "7d", "1h30m" or a timedelta into a positive timedelta.

    The API's buckets are whole seconds, so finer durations are refused.
    """
    if isinstance(value, timedelta):
        td = timedelta(seconds=value.total_seconds())  # pandas Timedelta -> plain timedelta
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        parts = _PART.findall(text)
        if not text or "".join(n + u for n, u in parts) != text:
            raise DataError(f"cannot read resolution {value!r}; use e.g. 30s, 15m, 1h, 1d, 7d")
        seconds = 0
        for number, unit in parts:
            if unit not in _UNIT_SECONDS:
                raise DataError(
                    f"unknown unit {unit!r} in resolution {value!r}; use s, m, h, d or w"
                )
            seconds += int(number) * _UNIT_SECONDS[unit]
        td = timedelta(seconds=seconds)
    else:
        raise DataError(f"not a resolution: {value!r}; give e.g. '15m' or a timedelta")
    if td <= timedelta(0):
        raise DataError(f"resolution must be positive, got {value!r}")
    if td.microseconds:
        raise DataError(f"resolution must be whole seconds, got {value!r}")
    return td


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
