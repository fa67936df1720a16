"""What a store holds: series, their ranges, coverage gaps, row counts and file size."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from belimo_cloud.store.intervals import Interval, holes, merge

_DURATION = re.compile(r"^\s*(\d+)\s*(ms|s|m|min|h|d|w)\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class SeriesInfo:
    """One stored series: its key, rows, first and last bucket, covered ranges and holes."""

    device_id: str
    datapoint_id: str
    resolution: str
    aggregation: str
    rows: int
    first: datetime | None  # first bucket start with a sample
    last: datetime | None  # last bucket start with a sample
    covered: list[Interval] = field(default_factory=list)  # fetched [start, end) ranges
    gaps: list[Interval] = field(default_factory=list)  # never fetched, between covered ranges
    missing_buckets: int | None = None  # buckets in [first, last] without a sample (server gaps)
    display_name: str | None = None
    name: str | None = None  # the datapoint's default.name
    unit: str | None = None


@dataclass(frozen=True)
class StoreInfo:
    """Summary of one store file (``Store.info()``)."""

    path: Path
    exists: bool
    size_bytes: int
    schema_version: int | None
    devices: int
    rows: int
    series: list[SeriesInfo]

    @property
    def size_mb(self) -> float:
        """File size [MB] (10^6 bytes)."""
        return self.size_bytes / 1e6

    def series_frame(self) -> pd.DataFrame:
        """One row per series (covered and gaps as counts plus the first gap), for tables."""
        rows = [
            {
                "device_id": s.device_id,
                "display_name": s.display_name,
                "datapoint_id": s.datapoint_id,
                "name": s.name,
                "unit": s.unit,
                "resolution": s.resolution,
                "aggregation": s.aggregation,
                "rows": s.rows,
                "first": s.first,
                "last": s.last,
                "covered_ranges": len(s.covered),
                "gaps": len(s.gaps),
                "missing_buckets": s.missing_buckets,
            }
            for s in self.series
        ]
        return pd.DataFrame(rows, columns=list(_FRAME_COLUMNS))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: times as ISO-8601 ``Z`` strings, the path as text."""
        data = asdict(self)
        data["path"] = str(self.path)
        data["size_mb"] = round(self.size_mb, 3)
        return _jsonable(data)  # type: ignore[no-any-return]


_FRAME_COLUMNS = (
    "device_id",
    "display_name",
    "datapoint_id",
    "name",
    "unit",
    "resolution",
    "aggregation",
    "rows",
    "first",
    "last",
    "covered_ranges",
    "gaps",
    "missing_buckets",
)


def store_info(con: duckdb.DuckDBPyConnection, path: Path, exists: bool) -> StoreInfo:
    """Collect the summary with a few aggregate queries (no sample is loaded into Python)."""
    version_row = con.execute("SELECT max(version) FROM schema_version").fetchall()[0]
    devices_row = con.execute("SELECT count(*) FROM devices").fetchall()[0]
    coverage: dict[tuple[str, str, str, str], list[Interval]] = {}
    for dev, dp, res, agg, start, end in con.execute(
        'SELECT device_id, datapoint_id, resolution, aggregation, start, "end" FROM sync_state'
    ).fetchall():
        coverage.setdefault((dev, dp, res, agg), []).append((start, end))
    stats = con.execute(
        """
        WITH counts AS (
            SELECT series_id, count(*) AS n, min(timestamp) AS first, max(timestamp) AS last
            FROM points GROUP BY series_id
        )
        SELECT s.device_id, s.datapoint_id, s.resolution, s.aggregation,
               coalesce(c.n, 0), c.first, c.last, d.display_name, dp.name, dp.unit
        FROM series s
        LEFT JOIN counts c USING (series_id)
        LEFT JOIN devices d ON d.device_id = s.device_id
        LEFT JOIN datapoints dp ON dp.dataprofile = d.dataprofile
                                AND dp.datapoint_id = s.datapoint_id
        ORDER BY d.display_name, s.device_id, s.datapoint_id, s.resolution, s.aggregation
        """
    ).fetchall()
    series: list[SeriesInfo] = []
    total = 0
    for dev, dp, res, agg, n, first, last, display, name, unit in stats:
        covered = merge(coverage.get((dev, dp, res, agg), []))
        total += int(n)
        series.append(
            SeriesInfo(
                device_id=dev,
                datapoint_id=dp,
                resolution=res,
                aggregation=agg,
                rows=int(n),
                first=first,
                last=last,
                covered=covered,
                gaps=holes(covered),
                missing_buckets=_missing(first, last, int(n), res),
                display_name=display,
                name=name,
                unit=unit,
            )
        )
    return StoreInfo(
        path=path,
        exists=exists,
        size_bytes=_file_size(path) if exists else 0,
        schema_version=int(version_row[0]) if version_row and version_row[0] is not None else None,
        devices=int(devices_row[0]) if devices_row else 0,
        rows=total,
        series=series,
    )


def _file_size(path: Path) -> int:
    """The database file plus its write-ahead log (not yet checkpointed into the file)."""
    wal = path.with_name(path.name + ".wal")
    return sum(p.stat().st_size for p in (path, wal) if p.exists())


def parse_duration(text: str) -> timedelta | None:
    """``"15m"`` -> 15 minutes; None when the text is not a simple duration."""
    match = _DURATION.match(text)
    if not match:
        return None
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def _missing(
    first: datetime | None, last: datetime | None, rows: int, resolution: str
) -> int | None:
    step = parse_duration(resolution)
    if first is None or last is None or step is None or step.total_seconds() <= 0:
        return None
    expected = int((last - first) / step) + 1
    return max(expected - rows, 0)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
