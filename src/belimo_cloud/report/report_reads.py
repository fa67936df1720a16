"""What the report reads from a store: planned from series summaries, read in device batches.

The counters are read as ``last`` buckets at the finest resolution stored; flow, temperatures
and power at their own finest resolution, as ``avg`` buckets for every datapoint that was
synced as such (over the whole selection) and as any bucket otherwise, one per time. The
plan is made from the store's series summaries, before any sample is read; the batches are
groups of whole devices, each bounded in rows, read together from both kinds of series.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import pandas as pd

from belimo_cloud.analysis.fleet import COUNTER_NAMES
from belimo_cloud.report.fleet_reads import (
    BATCH_ROWS,
    SERIES_COLUMNS,
    CounterSeries,
    Step,
    counter_series,
    device_groups,
    finest,
    quiet,
    rows_per_device,
    widen,
)
from belimo_cloud.report.parts import AVERAGED
from belimo_cloud.store import Store

__all__ = [
    "COUNTERS",
    "ReportReads",
    "averaged_ids",
    "no_samples",
    "plan_reads",
    "read_samples",
    "sample_batches",
]

#: What the report reads as ``last`` buckets (counters) and as ``avg`` buckets where synced.
COUNTERS = tuple(COUNTER_NAMES.values())
_COLUMNS = ["device_id", "datapoint_id", "timestamp", "value", "aggregation"]


@dataclass(frozen=True)
class ReportReads:
    """What a report reads from a store, planned from its series summaries.

    ``counters``: the ``last`` series (at their finest resolution) over ``counter_span``.
    ``averages``: the summary of the averaged series read over ``average_span``: at their
    finest resolution ``average_resolution``, only ``avg`` buckets of the datapoints synced
    as ``avg`` (``with_avg``), any bucket of the others. ``average_ids``: per device, the
    datapoint ids of the averaged quantities in its data profile. ``groups``: the batches.
    """

    counters: CounterSeries
    counter_span: tuple[datetime | None, datetime | None]
    averages: pd.DataFrame
    average_resolution: str | None
    average_span: tuple[datetime | None, datetime | None]
    average_ids: dict[str, list[str]]
    with_avg: frozenset[str]
    groups: list[list[str]]

    @property
    def devices(self) -> int:
        """Devices with samples to read."""
        return sum(len(g) for g in self.groups)


def averaged_ids(
    devices: pd.DataFrame, catalogue: pd.DataFrame, names: Sequence[str]
) -> dict[str, list[str]]:
    """Per device, the datapoint ids of the quantities ``names`` in its data profile."""
    wanted = catalogue[catalogue["name"].isin(list(names))]
    if wanted.empty or devices.empty:
        return {}
    profiles = devices.set_index("device_id")["dataprofile"].to_dict()
    out = {}
    for device_id, profile in profiles.items():
        ids = sorted(set(wanted.loc[wanted["dataprofile"] == profile, "datapoint_id"]))
        if ids:
            out[str(device_id)] = ids
    return out


def plan_reads(
    store: Store,
    devices: pd.DataFrame,
    catalogue: pd.DataFrame,
    *,
    last: Sequence[str] = COUNTERS,
    averaged: Sequence[str] = AVERAGED,
    start: datetime | None,
    end: datetime | None,
    history_from: datetime | None = None,
    max_rows: int = BATCH_ROWS,
) -> ReportReads:
    """Plan the reads of the ``devices`` given (a selection of the store's devices frame).

    ``last`` names are read as ``last`` buckets from a day before ``history_from`` (or
    ``start``, the earlier) to a day after ``end``; ``averaged`` names from a day before
    ``start`` to a day after ``end``, at the finest resolution stored and as ``avg`` buckets
    where those were synced (per datapoint, over the whole selection).
    """
    earlier = start if history_from is None or start is None else min(start, history_from)
    counter_span = (widen(earlier, -1), widen(end, +1))
    counters = counter_series(
        store,
        catalogue,
        device_ids=[str(d) for d in devices["device_id"]],
        names=last,
        read=last,
        start=counter_span[0],
        end=counter_span[1],
    )
    average_span = (widen(start, -1), widen(end, +1))
    ids = averaged_ids(devices, catalogue, averaged)
    summary = pd.DataFrame({c: [] for c in SERIES_COLUMNS})
    resolution, with_avg = None, frozenset[str]()
    if ids:
        summary = store.series_summary(
            device_ids=list(ids),
            datapoint_ids=sorted({d for dps in ids.values() for d in dps}),
            start=average_span[0],
            end=average_span[1],
        )
        resolution = finest(summary["resolution"].unique())
        summary = summary[summary["resolution"] == resolution]
        avg = summary["aggregation"] == "avg"
        with_avg = frozenset(str(d) for d in summary.loc[avg, "datapoint_id"])
        summary = summary[avg | ~summary["datapoint_id"].isin(list(with_avg))]
        summary = summary.reset_index(drop=True)
    return ReportReads(
        counters=counters,
        counter_span=counter_span,
        averages=summary,
        average_resolution=resolution,
        average_span=average_span,
        average_ids=ids,
        with_avg=with_avg,
        groups=device_groups(rows_per_device(counters.series, summary), max_rows),
    )


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Key columns as text, as an unbatched read has them (each batch has its categories)."""
    for name in ("device_id", "datapoint_id", "resolution", "aggregation"):
        if name in frame.columns:
            frame[name] = frame[name].astype("str")
    return frame


def no_samples() -> pd.DataFrame:
    """A batch without samples: the columns and types of one with samples."""
    return pd.DataFrame(
        {
            "device_id": pd.Series(dtype="str"),
            "datapoint_id": pd.Series(dtype="str"),
            "timestamp": pd.Series(dtype="datetime64[ns, UTC]"),
            "value": pd.Series(dtype="float64"),
            "aggregation": pd.Series(dtype="str"),
        }
    )


def _empty_batches(groups: list[list[str]]) -> Iterator[pd.DataFrame]:
    for _ in groups:
        yield no_samples()


def sample_batches(
    store: Store, reads: ReportReads, *, step: Step | None = None
) -> Iterator[pd.DataFrame]:
    """The planned samples a group of whole devices at a time, with an ``aggregation`` column.

    Counters first, then the averaged quantities, each by device, datapoint and time, as an
    unbatched read of the same devices returns them.
    """
    tell = step or quiet
    groups = reads.groups
    counters = _empty_batches(groups)
    if not reads.counters.series.empty:
        counters = store.read_batches(
            device_ids=sorted({str(d) for d in reads.counters.series["device_id"]}),
            datapoint_ids=sorted({str(d) for d in reads.counters.series["datapoint_id"]}),
            start=reads.counter_span[0],
            end=reads.counter_span[1],
            resolution=reads.counters.resolution,
            aggregation="last",
            groups=groups,
        )
    averages = _empty_batches(groups)
    if not reads.averages.empty:
        averages = store.read_batches(
            device_ids=list(reads.average_ids),
            datapoint_ids=sorted({d for dps in reads.average_ids.values() for d in dps}),
            start=reads.average_span[0],
            end=reads.average_span[1],
            resolution=reads.average_resolution,
            groups=groups,
        )
    done = 0
    for group in groups:
        done += len(group)
        tell(f"devices {done}/{reads.devices}")
        # No name here refers to the batch's frames while the caller works on it.
        yield pd.concat(
            [
                _plain(next(counters))[_COLUMNS[:4]].assign(aggregation="last"),
                _kept_averages(_plain(next(averages)), reads.with_avg),
            ],
            ignore_index=True,
        )


def _kept_averages(frame: pd.DataFrame, with_avg: frozenset[str]) -> pd.DataFrame:
    """``avg`` buckets of the datapoints synced as such; one bucket per time of the others."""
    keep = (frame["aggregation"] == "avg") | ~frame["datapoint_id"].isin(list(with_avg))
    frame = frame[keep.to_numpy(dtype=bool)]
    # Rows come in aggregation order, so the first of several kinds of bucket is kept.
    frame = frame.drop_duplicates(["device_id", "datapoint_id", "timestamp"], keep="first")
    return frame[_COLUMNS]


def read_samples(store: Store, reads: ReportReads) -> pd.DataFrame:
    """Every planned sample at once (what the batches hold together), for small selections."""
    whole = replace(reads, groups=[[d for g in reads.groups for d in g]] if reads.groups else [])
    parts = list(sample_batches(store, whole))
    return parts[0] if parts else no_samples()
