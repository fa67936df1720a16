"""The fleet report: status, consumption, data quality and hydronic findings in one HTML file.

``build_report`` takes the three shared frames (devices, datapoint catalogue, long samples;
CONTRACTS.md), whether they come from the local store or straight from the API, and returns
a self-contained HTML document; ``write_report`` writes it to a file. :func:`analyse` returns
the computed content (tables) without rendering, for callers that want the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from belimo_cloud.analysis.counters import FLAG_NAMES
from belimo_cloud.analysis.engine import Duration
from belimo_cloud.analysis.fleet import (
    COUNTER_NAMES,
    device_status,
    energy_by_device,
    energy_events,
    fleet_summary,
    heating_cooling_split,
    named_samples,
    problem_devices,
    ranking,
    reference_time,
)
from belimo_cloud.analysis.valves import valve_kpis
from belimo_cloud.errors import DataError
from belimo_cloud.report import sections

__all__ = ["ReportData", "analyse", "build_report", "write_report"]


@dataclass
class ReportData:
    """Everything the report shows, as frames (UTC times; ``period`` in the local zone)."""

    title: str
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    tz: str | tzinfo
    freq: str
    now: pd.Timestamp
    summary: dict[str, int]
    status: pd.DataFrame
    problems: pd.DataFrame
    energy: pd.DataFrame
    hourly: pd.DataFrame
    ranking: pd.DataFrame
    split: pd.DataFrame
    events: pd.DataFrame
    valves: pd.DataFrame
    named: pd.DataFrame
    samples_count: int


def _bound(value: Any, tz: str | tzinfo) -> pd.Timestamp | None:
    """A report bound in UTC; a naive value is a local date/time in ``tz``."""
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise DataError(f"cannot read the report bound {value!r}; use e.g. 2018-01-01") from exc
    ts = ts.tz_localize(tz) if ts.tz is None else ts
    return ts.tz_convert("UTC")


def _auto_freq(start: pd.Timestamp | None, end: pd.Timestamp | None, named: pd.DataFrame) -> str:
    if start is None or end is None:
        if named.empty:
            return "D"
        times = pd.DatetimeIndex(named["timestamp"])
        start = start or times.min()
        end = end or times.max()
    days = (end - start) / pd.Timedelta(days=1)
    if days <= 62:
        return "D"
    if days <= 3 * 366:
        return "MS"
    return "YS"


def _hourly(
    named: pd.DataFrame, start: Any, end: Any, tz: str | tzinfo, res: Duration
) -> pd.DataFrame:
    energy = energy_by_device(named, freq="h", tz=tz, start=start, end=end, resolution=res)
    if energy.empty:
        return pd.DataFrame(columns=["consumption", "coverage", "quality"])
    return combine_periods(energy)


def combine_periods(energy: pd.DataFrame) -> pd.DataFrame:
    """Fleet totals per period: summed consumption, mean coverage, the union of flags."""
    grouped = energy.groupby("period", sort=True)
    out = pd.DataFrame(
        {
            "consumption": grouped["consumption"].sum(),
            "coverage": grouped["coverage"].mean(),
        }
    )
    quality = energy["quality"].astype(str)
    found = []
    for _, flag in FLAG_NAMES:
        has = quality.str.contains(flag, regex=False).groupby(energy["period"]).any()
        found.append(np.where(has.reindex(out.index, fill_value=False), flag, ""))
    text = [",".join(f for f in parts if f) or "ok" for parts in zip(*found, strict=True)]
    out["quality"] = text
    return out


def analyse(
    devices: pd.DataFrame,
    catalogue: pd.DataFrame,
    samples: pd.DataFrame,
    *,
    start: Any = None,
    end: Any = None,
    tz: str | tzinfo = "Europe/Zurich",
    title: str | None = None,
    now: datetime | pd.Timestamp | None = None,
    freq: str | None = None,
    resolution: Duration = None,
    stale_after: str = "1h",
) -> ReportData:
    """Compute the report's content: fleet status, energy, findings and valve KPIs.

    ``resolution`` is the bucket length when ``samples`` are server buckets stamped at their
    start (counters as ``last``); None when timestamps are the readings themselves.
    ``now`` defaults to the fleet's latest lastSeen (see ``analysis.reference_time``).
    """
    lo, hi = _bound(start, tz), _bound(end, tz)
    named = named_samples(samples, catalogue, devices)
    named = named[named["name"].notna()]
    if lo is not None or hi is not None:
        # Keep one bucket either side so the first and last periods have their edge readings.
        pad = pd.Timedelta(resolution) if resolution is not None else pd.Timedelta(hours=1)
        ts = pd.DatetimeIndex(named["timestamp"])
        keep = np.ones(len(named), dtype=bool)
        if lo is not None:
            keep &= ts >= lo - pad
        if hi is not None:
            keep &= ts <= hi + pad
        named = named[keep]
    period = freq or _auto_freq(lo, hi, named)
    counters = named[named["name"].isin(list(COUNTER_NAMES.values()))]
    ref = reference_time(devices, now)
    energy = energy_by_device(counters, freq=period, tz=tz, start=lo, end=hi, resolution=resolution)
    events = energy_events(counters, start=lo, end=hi, resolution=resolution)
    names = devices.drop_duplicates("device_id").set_index("device_id")["display_name"]
    events.insert(1, "display_name", events["device_id"].map(names).fillna(events["device_id"]))
    return ReportData(
        title=title or "Energy valve report",
        start=lo,
        end=hi,
        tz=tz,
        freq=period,
        now=ref,
        summary=fleet_summary(devices, now=ref, stale_after=stale_after),
        status=device_status(devices, now=ref, stale_after=stale_after),
        problems=problem_devices(devices, now=ref, stale_after=stale_after),
        energy=energy,
        hourly=_hourly(counters, lo, hi, tz, resolution),
        ranking=ranking(energy, devices),
        split=heating_cooling_split(energy),
        events=events,
        valves=valve_kpis(named, devices, start=lo, end=hi),
        named=named,
        samples_count=len(samples),
    )


def build_report(
    devices: pd.DataFrame,
    catalogue: pd.DataFrame,
    samples: pd.DataFrame,
    *,
    start: Any = None,
    end: Any = None,
    tz: str | tzinfo = "Europe/Zurich",
    title: str | None = None,
    now: datetime | pd.Timestamp | None = None,
    freq: str | None = None,
    resolution: Duration = None,
    figures: bool = True,
) -> str:
    """The report as one self-contained HTML document (figures inlined as PNG).

    ``devices``, ``catalogue`` and ``samples`` are the CONTRACTS.md frames; datapoints are
    found by ``default.name`` through the catalogue. ``start``/``end`` bound the period
    (naive values are local dates in ``tz``); ``freq`` is the consumption period (default: days
    up to two months, months up to three years, else years). ``figures=False`` leaves the
    figures out (fast, text only).
    """
    data = analyse(
        devices,
        catalogue,
        samples,
        start=start,
        end=end,
        tz=tz,
        title=title,
        now=now,
        freq=freq,
        resolution=resolution,
    )
    return sections.render(data, figures=figures)


def write_report(
    path: str | Path,
    devices: pd.DataFrame,
    catalogue: pd.DataFrame,
    samples: pd.DataFrame,
    **options: Any,
) -> Path:
    """Write :func:`build_report` to ``path`` (UTF-8) and return the path."""
    target = Path(path)
    text = build_report(devices, catalogue, samples, **options)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target
