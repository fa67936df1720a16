"""Split a time range into the fewest requests the timeseries endpoint accepts.

The server caps one response at 10,000 buckets per datapoint; every datapoint rides along in
each request, so the number of requests depends on the bucket count only. Inner window borders
sit on the resolution grid, so no bucket is ever split between two requests (no duplicate and no
missing bucket when the pieces are joined).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from belimo_cloud.client.constants import MAX_WINDOWS
from belimo_cloud.client.timeutil import floor_to_grid, parse_resolution, parse_time
from belimo_cloud.errors import DataError

__all__ = ["MAX_BUCKETS", "bucket_count", "plan_windows"]

MAX_BUCKETS = 10_000


def bucket_count(start: Any, end: Any, resolution: Any) -> int:
    """How many grid buckets intersect [start, end)."""
    lo, hi = parse_time(start), parse_time(end)
    res = parse_resolution(resolution)
    if hi <= lo:
        return 0
    first = floor_to_grid(lo, res)
    return -(-(hi - first) // res)


def plan_windows(
    start: Any, end: Any, resolution: Any, max_buckets: int = MAX_BUCKETS
) -> list[tuple[datetime, datetime]]:
    """Fewest grid-aligned windows covering [start, end), each at most ``max_buckets`` buckets.

    The buckets are shared out evenly, so concurrent requests carry similar work. The first
    window starts at ``start`` and the last ends at ``end`` exactly; inner borders are bucket
    starts.
    """
    lo, hi = parse_time(start), parse_time(end)
    res: timedelta = parse_resolution(resolution)
    if max_buckets < 1:
        raise DataError(f"max_buckets must be at least 1, got {max_buckets}")
    if hi <= lo:
        raise DataError(f"end ({hi.isoformat()}) must be after start ({lo.isoformat()})")
    first = floor_to_grid(lo, res)
    total = -(-(hi - first) // res)
    count = -(-total // max_buckets)
    if count > MAX_WINDOWS:
        raise DataError(
            f"{total:,} buckets of {res} need {count:,} requests (more than {MAX_WINDOWS:,}); "
            "narrow the range or choose a coarser resolution"
        )
    per, extra = divmod(total, count)
    windows: list[tuple[datetime, datetime]] = []
    offset = 0
    for index in range(count):
        size = per + (1 if index < extra else 0)
        window_start = lo if index == 0 else first + offset * res
        offset += size
        window_end = hi if index == count - 1 else first + offset * res
        windows.append((window_start, window_end))
    return windows
