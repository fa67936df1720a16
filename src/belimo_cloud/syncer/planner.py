"""The sync plan: which windows to fetch so the store covers what was asked, in fewest requests.

Pure: coverage and ranges in, requests out. Per device, the missing parts of every datapoint
(asked range minus covered, plus the settled horizon, which is always re-read because late data
arrives) are merged into spans; each span becomes the fewest grid-aligned windows under the
bucket cap, and each window carries every datapoint of the device that lacks part of it.

Coverage is only ever recorded up to the settled boundary of the run that fetched it, so data
read while still unsettled is read again by the next run however late that run comes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from belimo_cloud.client.chunking import MAX_BUCKETS, plan_windows
from belimo_cloud.client.timeutil import floor_to_grid
from belimo_cloud.store.intervals import Interval, intersects, merge, subtract

WindowPlanner = Callable[[datetime, datetime, timedelta, int], list[tuple[datetime, datetime]]]


@dataclass(frozen=True)
class DeviceRange:
    """What to hold for one device: [start, end) per datapoint id."""

    device_id: str
    ranges: Mapping[str, Interval]


@dataclass(frozen=True)
class ChunkRequest:
    """One timeseries request: every listed datapoint of one device over [start, end)."""

    device_id: str
    datapoint_ids: tuple[str, ...]
    start: datetime
    end: datetime
    refresh: bool = False  # only re-reads recent data (the settled horizon and the last run's)

    def buckets(self, resolution: timedelta) -> int:
        """Grid buckets the window spans."""
        return -(-(self.end - floor_to_grid(self.start, resolution)) // resolution)


@dataclass(frozen=True)
class Plan:
    """Requests for every device, in device order and time order within a device."""

    requests: list[ChunkRequest] = field(default_factory=list)
    series: int = 0
    up_to_date: int = 0  # series that lacked nothing but recent data

    @property
    def refresh_requests(self) -> int:
        """Requests that only re-read the settled horizon."""
        return sum(1 for r in self.requests if r.refresh)


def windows_count(span: Interval, resolution: timedelta, max_buckets: int) -> int:
    """Requests needed for one span under the bucket cap."""
    buckets = -(-(span[1] - floor_to_grid(span[0], resolution)) // resolution)
    return -(-buckets // max_buckets)


def align(interval: Interval, resolution: timedelta) -> Interval:
    """Widen to whole grid buckets: the start floored, the end ceiled."""
    start = floor_to_grid(interval[0], resolution)
    end = floor_to_grid(interval[1], resolution)
    if end < interval[1]:
        end += resolution
    return start, end


def plan_device(
    target: DeviceRange,
    covered: Mapping[str, Sequence[Interval]],
    *,
    resolution: timedelta,
    settled_before: datetime,
    recent_from: datetime | None = None,
    max_buckets: int = MAX_BUCKETS,
    windows: WindowPlanner | None = None,
) -> tuple[list[ChunkRequest], int]:
    """Requests for one device and how many of its series lack nothing but recent data.

    Everything from ``settled_before`` on is fetched again. A window is a refresh when all it
    brings is data from ``recent_from`` (default ``settled_before``) on: what a run shortly
    after the previous one re-reads.
    """
    split = windows or _default_windows
    recent = floor_to_grid(recent_from or settled_before, resolution)
    missing: dict[str, list[Interval]] = {}
    new: dict[str, list[Interval]] = {}
    up_to_date = 0
    for dp, asked in target.ranges.items():
        if asked[1] <= asked[0]:
            continue
        lo, hi = align(asked, resolution)
        # Aligned again in case coverage ends off the grid (e.g. written by hand).
        lacking = merge(align(p, resolution) for p in subtract([(lo, hi)], covered.get(dp, [])))
        horizon_start = max(lo, floor_to_grid(settled_before, resolution))
        refresh = [(horizon_start, hi)] if hi > horizon_start else []
        new[dp] = subtract(lacking, [(recent, hi)])
        missing[dp] = merge([*lacking, *refresh])
        if not new[dp]:
            up_to_date += 1
    spans = _spans(merge(i for parts in missing.values() for i in parts), resolution, max_buckets)
    requests: list[ChunkRequest] = []
    for span in spans:
        for w_start, w_end in split(span[0], span[1], resolution, max_buckets):
            window = (w_start, w_end)
            dps = tuple(dp for dp in missing if any(intersects(window, m) for m in missing[dp]))
            if not dps:
                continue
            refresh_only = not any(intersects(window, m) for dp in dps for m in new[dp])
            requests.append(ChunkRequest(target.device_id, dps, w_start, w_end, refresh_only))
    return requests, up_to_date


def plan(
    targets: Sequence[DeviceRange],
    coverage: Mapping[tuple[str, str], Sequence[Interval]],
    *,
    resolution: timedelta,
    settled_before: datetime,
    recent_from: datetime | None = None,
    max_buckets: int = MAX_BUCKETS,
    windows: WindowPlanner | None = None,
) -> Plan:
    """One plan across all devices; ``coverage`` maps (device_id, datapoint_id) to intervals."""
    requests: list[ChunkRequest] = []
    series = up_to_date = 0
    for target in targets:
        covered = {dp: coverage.get((target.device_id, dp), []) for dp in target.ranges}
        device_requests, fresh = plan_device(
            target,
            covered,
            resolution=resolution,
            settled_before=settled_before,
            recent_from=recent_from,
            max_buckets=max_buckets,
            windows=windows,
        )
        requests.extend(device_requests)
        series += len(target.ranges)
        up_to_date += fresh
    return Plan(requests=requests, series=series, up_to_date=up_to_date)


def minimum_requests(span: Interval, resolution: timedelta, max_buckets: int = MAX_BUCKETS) -> int:
    """The fewest requests one device needs for ``span`` from an empty store."""
    return windows_count(align(span, resolution), resolution, max_buckets)


def _spans(parts: list[Interval], resolution: timedelta, max_buckets: int) -> list[Interval]:
    """Join neighbouring parts whenever one request sequence for both is no longer."""
    spans: list[Interval] = []
    for part in parts:
        if spans:
            last = spans[-1]
            joined = (last[0], part[1])
            separate = windows_count(last, resolution, max_buckets) + windows_count(
                part, resolution, max_buckets
            )
            if windows_count(joined, resolution, max_buckets) <= separate:
                spans[-1] = joined
                continue
        spans.append(part)
    return spans


def _default_windows(
    start: datetime, end: datetime, resolution: timedelta, max_buckets: int
) -> list[tuple[datetime, datetime]]:
    return plan_windows(start, end, resolution, max_buckets=max_buckets)
