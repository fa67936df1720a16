"""What the fleet analyses read from a store, and how they cut it into batches of devices.

Some choices concern the whole selection, not one batch, such as the finest resolution
stored (a store may hold several bucket sizes of the same counters, and the finest tells the
most). They are made first, from the store's series summary (one aggregate query, no samples
read); then the samples are read a group of whole devices at a time, each group bounded in
rows, so that memory follows the batch and not the store. A batch's series are named once
each (by the device's data profile), not once a row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd

from belimo_cloud.analysis.fleet import named_samples
from belimo_cloud.errors import DataError
from belimo_cloud.grammar import parse_duration
from belimo_cloud.store import Store

__all__ = [
    "BATCH_ROWS",
    "SERIES_COLUMNS",
    "CounterSeries",
    "SeriesRuns",
    "Step",
    "counter_series",
    "device_groups",
    "finest",
    "ids_named",
    "quiet",
    "rows_per_device",
    "series_names",
    "series_runs",
    "widen",
]

#: Rows read per batch by default: about 35 valves of a year's heating and cooling counters
#: at 15 minutes; the analysis of one batch peaks at a few hundred bytes a row.
BATCH_ROWS = 1_000_000
#: Columns of a store's series summary (``Store.series_summary``).
SERIES_COLUMNS = ("device_id", "datapoint_id", "resolution", "aggregation", "rows", "first", "last")

Step = Callable[[str], None]


def quiet(_text: str) -> None:
    """A step that tells nobody."""
    return None


def ids_named(catalogue: pd.DataFrame, names: Iterable[str]) -> list[str]:
    """The datapoint ids whose ``default.name`` is one of ``names``, in any data profile."""
    wanted = catalogue[catalogue["name"].isin(list(names))]
    return sorted({str(i) for i in wanted["datapoint_id"]})


def finest(resolutions: Iterable[str]) -> str | None:
    """The finest bucket size among stored resolution texts (the first of equal ones)."""
    sizes = {text: parse_duration(text, what="stored resolution") for text in resolutions}
    return min(sizes, key=lambda text: sizes[text]) if sizes else None


def widen(moment: datetime | pd.Timestamp | None, days: int) -> datetime | None:
    """A day more on each side: local periods and the readings at their edges."""
    if moment is None:
        return None
    return pd.Timestamp(moment).to_pydatetime() + timedelta(days=days)


def device_groups(rows: pd.Series[int], max_rows: int) -> list[list[str]]:
    """Devices in groups of at most ``max_rows`` rows (whole devices), in the given order.

    ``rows`` holds each device's rows, indexed by device id (in the order the store reads
    them: sorted); a device larger than ``max_rows`` is a group of its own.
    """
    if max_rows < 1:
        raise DataError("max_rows must be at least 1")
    groups: list[list[str]] = []
    total = 0
    for device_id, n in zip(rows.index, rows.to_numpy(), strict=True):
        if groups and total + int(n) <= max_rows:
            groups[-1].append(str(device_id))
            total += int(n)
        else:
            groups.append([str(device_id)])
            total = int(n)
    return groups


def rows_per_device(*summaries: pd.DataFrame) -> pd.Series[int]:
    """The rows of each device over series summaries, by device id in sorted order."""
    frames = [s[["device_id", "rows"]] for s in summaries if not s.empty]
    if not frames:
        empty: pd.Series[int] = pd.Series(dtype="int64")
        return empty
    joined = pd.concat(frames, ignore_index=True)
    return joined.groupby(joined["device_id"].astype(str), sort=True)["rows"].sum()


@dataclass(frozen=True)
class CounterSeries:
    """The counter series a fleet analysis reads: the finest resolution stored, and its series.

    ``samples`` counts the samples of every counter name asked for at that resolution (what
    an unbatched read would have loaded), ``series`` is the summary of those to be read.
    """

    resolution: str | None
    series: pd.DataFrame
    samples: int

    @property
    def bucket(self) -> timedelta | None:
        """The resolution as a duration (None without samples)."""
        return None if self.resolution is None else parse_duration(self.resolution)


def counter_series(
    store: Store,
    catalogue: pd.DataFrame,
    *,
    device_ids: Sequence[str] | None,
    names: Sequence[str],
    read: Sequence[str],
    start: datetime | None,
    end: datetime | None,
) -> CounterSeries:
    """The ``last`` counter series of ``names`` in [start, end), at the finest resolution.

    The resolution is chosen over every name in ``names`` (as one read of all of them would
    see it); only the series of the names in ``read`` are kept for reading.
    """
    summary = store.series_summary(
        device_ids=device_ids,
        datapoint_ids=ids_named(catalogue, names),
        start=start,
        end=end,
        aggregation="last",
    )
    resolution = finest(summary["resolution"].unique())
    chosen = summary[summary["resolution"] == resolution]
    wanted = chosen[chosen["datapoint_id"].isin(ids_named(catalogue, read))]
    return CounterSeries(resolution, wanted.reset_index(drop=True), int(chosen["rows"].sum()))


@dataclass(frozen=True)
class SeriesRuns:
    """The series of a batch as runs of rows, each with its device and datapoint name.

    ``starts`` holds each run's first row and the row count at the end; ``device`` the
    device's code in the batch's categories, ``name`` the datapoint's ``default.name`` in the
    device's data profile (None when unknown), per run.
    """

    starts: npt.NDArray[np.int64]
    device: npt.NDArray[np.int64]
    name: list[str | None]

    def per_row(self, values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """A value per run spread to that run's rows."""
        return np.repeat(values, np.diff(self.starts))


def series_runs(
    batch: pd.DataFrame, catalogue: pd.DataFrame, devices: pd.DataFrame | None
) -> SeriesRuns:
    """Name a batch's series once each, not once a row (a batch comes in series order).

    The names are those :func:`~belimo_cloud.analysis.fleet.named_samples` gives, looked up
    on one row per series; ``batch`` has categorical ``device_id`` and ``datapoint_id``.
    """
    dev = np.asarray(batch["device_id"].cat.codes, dtype=np.int64)
    dp = np.asarray(batch["datapoint_id"].cat.codes, dtype=np.int64)
    n = len(batch)
    change = np.ones(n, dtype=bool)
    if n > 1:
        change[1:] = (dev[1:] != dev[:-1]) | (dp[1:] != dp[:-1])
    first = np.flatnonzero(change)
    pairs = pd.DataFrame(
        {
            "device_id": batch["device_id"].cat.categories[dev[first]],
            "datapoint_id": batch["datapoint_id"].cat.categories[dp[first]],
        }
    )
    return SeriesRuns(
        starts=np.append(first, n).astype(np.int64),
        device=dev[first],
        name=series_names(pairs, catalogue, devices),
    )


def series_names(
    series: pd.DataFrame, catalogue: pd.DataFrame, devices: pd.DataFrame | None
) -> list[str | None]:
    """The ``default.name`` of each series of a summary, as the samples would be named."""
    if series.empty:
        return []
    pairs = pd.DataFrame(
        {
            "device_id": series["device_id"].astype(object).to_numpy(),
            "datapoint_id": series["datapoint_id"].astype(object).to_numpy(),
            "timestamp": pd.NaT,
            "value": np.nan,
        }
    )
    return [
        None if pd.isna(x) else str(x) for x in named_samples(pairs, catalogue, devices)["name"]
    ]
