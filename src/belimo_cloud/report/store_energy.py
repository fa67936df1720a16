"""Energy per device and local period straight from a store, a batch of whole devices at a time.

The numbers of :func:`~belimo_cloud.analysis.fleet.energy_by_device` over everything the
selection holds, without ever holding it: each batch (whole devices, at most ``max_rows``
counter samples) is read through Arrow with categorical keys, named, scanned and binned on
its own, and only its result rows are kept. A device's counters never straddle two batches,
so no counter is cut. Peak memory follows the batch, not the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

import numpy as np
import pandas as pd

from belimo_cloud.analysis.energy import consumption_frame
from belimo_cloud.analysis.fleet import COUNTER_NAMES, energy_by_device
from belimo_cloud.analysis.policy import CounterPolicy
from belimo_cloud.errors import DataError
from belimo_cloud.report.fleet_reads import (
    BATCH_ROWS,
    CounterSeries,
    SeriesRuns,
    Step,
    counter_series,
    device_groups,
    quiet,
    rows_per_device,
    series_runs,
    widen,
)
from belimo_cloud.store import Store

__all__ = ["StoreEnergy", "counter_batches", "counter_rows", "plain_keys", "store_energy"]

#: What a batch of samples needs for the analysis (the store's rows carry more).
_SAMPLE = ["device_id", "datapoint_id", "timestamp", "value"]
_NO_SAMPLES = pd.DataFrame(
    {c: pd.Series(dtype="float64" if c == "value" else "object") for c in [*_SAMPLE, "name"]}
)


@dataclass(frozen=True)
class StoreEnergy:
    """The result of :func:`store_energy`.

    ``energy``: long rows ``device_id, direction, period`` (local period start),
    ``consumption`` [``to``], ``coverage``, ``quality``, by device, direction and period.
    ``samples``: counter samples in the selection at ``resolution`` (0: nothing to analyse).
    ``resolution``: the bucket size read (the finest stored), None without samples.
    ``batches``: how many batches were read.
    """

    energy: pd.DataFrame
    samples: int
    resolution: timedelta | None
    batches: int


def plain_keys(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Categorical key columns back to plain text, as an unbatched read returns them."""
    for name in columns:
        if name in frame.columns and isinstance(frame[name].dtype, pd.CategoricalDtype):
            frame[name] = frame[name].astype(frame[name].cat.categories.dtype)
    return frame


def counter_batches(
    store: Store,
    counters: CounterSeries,
    *,
    start: datetime | None,
    end: datetime | None,
    max_rows: int,
    step: Step,
) -> Iterator[pd.DataFrame]:
    """The chosen counter series, a group of whole devices at a time (long samples)."""
    if counters.series.empty:
        return
    groups = device_groups(rows_per_device(counters.series), max_rows)
    batches = store.read_batches(
        device_ids=sorted(set(counters.series["device_id"])),
        datapoint_ids=sorted(set(counters.series["datapoint_id"])),
        start=start,
        end=end,
        resolution=counters.resolution,
        aggregation="last",
        groups=groups,
    )
    done, total = 0, sum(map(len, groups))
    for group in groups:
        done += len(group)
        step(f"devices {done}/{total}")
        # No name here refers to the batch while the caller works on it.
        yield next(batches)[_SAMPLE]


def counter_rows(
    batch: pd.DataFrame, runs: SeriesRuns, names: Mapping[str, str], *, drop_unused: bool = True
) -> pd.DataFrame:
    """The batch's counter rows with their ``direction``, keys kept categorical.

    The rows :func:`~belimo_cloud.analysis.fleet.energy_by_device` analyses: samples of the
    counters ``names`` (direction to ``default.name``), without (``drop_unused``) the counters
    of a device that read zero (or nothing) throughout: a heating valve's cooling counter.
    """
    directions = sorted(names)  # category order is text order: results sort as before
    code = {names[d]: i for i, d in enumerate(directions)}
    run_direction = np.array([code.get(n, -1) if n else -1 for n in runs.name], dtype=np.int64)
    values = batch["value"].to_numpy(dtype=np.float64)
    moved = np.full(len(run_direction), not drop_unused, dtype=bool)
    if len(values) and drop_unused:
        level = np.where(np.isnan(values), 0.0, np.abs(values))
        moved = np.maximum.reduceat(level, runs.starts[:-1]) > 0
    used = {
        (d, k) for d, k, m in zip(runs.device, run_direction, moved, strict=True) if k >= 0 and m
    }
    keep_run = np.array(
        [(d, k) in used for d, k in zip(runs.device, run_direction, strict=True)], dtype=bool
    )
    keep = runs.per_row(keep_run).astype(bool)
    return pd.DataFrame(
        {
            "device_id": batch["device_id"][keep].reset_index(drop=True),
            "direction": pd.Categorical.from_codes(
                runs.per_row(run_direction)[keep], categories=pd.Index(directions)
            ),
            "timestamp": batch["timestamp"][keep].reset_index(drop=True),
            "value": values[keep],
        }
    )


def _within(
    frame: pd.DataFrame, start: datetime | None, end: datetime | None, tz: str | tzinfo
) -> pd.DataFrame:
    """Periods that start in [start, end) (a naive bound is a local date/time in ``tz``)."""
    if start is not None:
        frame = frame[frame["period"] >= _local(start, tz)]
    if end is not None:
        frame = frame[frame["period"] < _local(end, tz)]
    return frame.reset_index(drop=True)


def _local(moment: datetime, tz: str | tzinfo) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize(tz) if stamp.tz is None else stamp.tz_convert(tz)


def store_energy(
    store: Store,
    *,
    device_ids: Sequence[str] | None = None,
    directions: Sequence[str] = ("heating", "cooling"),
    freq: str = "MS",
    tz: str | tzinfo = "Europe/Zurich",
    start: datetime | None = None,
    end: datetime | None = None,
    policy: CounterPolicy | None = None,
    to: str = "kWh",
    devices: pd.DataFrame | None = None,
    catalogue: pd.DataFrame | None = None,
    max_rows: int = BATCH_ROWS,
    step: Step | None = None,
    reduce: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    drop_unused: bool = True,
) -> StoreEnergy:
    """Heating and cooling energy per device and local period from ``store``, batch by batch.

    Parameters
    ----------
    store
        An open store (read-only is enough).
    device_ids
        The devices to analyse; None: every device with counter samples.
    directions
        ``heating`` and/or ``cooling``: which counters (``Heating_E_J``, ``Cooling_E_J``)
        give rows. A counter that reads zero throughout gives none, unless ``drop_unused``
        is False (to compare with an analysis of every series, say).
    freq, tz
        Local period (``h``, ``D``, ``W-MON``, ``MS``, ``YS``) and its IANA zone.
    start, end
        UTC instants: periods that start before ``start`` or at/after ``end`` are dropped;
        the counters are read a day beyond each (the readings at the edges). None: all.
    policy
        How counters are read (:class:`~belimo_cloud.analysis.policy.CounterPolicy`).
    to
        Unit of ``consumption``.
    devices, catalogue
        The store's devices frame and datapoint catalogue, when the caller holds them
        already (datapoint ids are named within each device's data profile).
    max_rows
        Counter samples per batch (whole devices; a larger device is a batch of its own).
    step
        Hears the progress ("devices 40/1000").
    reduce
        Applied to each batch's rows before they are kept (to sum them over the fleet, say,
        when only the sum is wanted): ``energy`` then holds the reduced rows of every batch.
    drop_unused
        False keeps the rows of counters that read zero throughout.

    The samples of both counters decide the resolution read (the finest stored), as the
    unbatched ``belimo energy`` always did; ``samples`` of the result counts them.
    """
    tell = step or quiet
    if catalogue is None:
        catalogue = store.catalogue()
    if devices is None:
        devices = store.devices()
    for direction in directions:
        if direction not in COUNTER_NAMES:
            raise DataError(f"direction must be heating or cooling, not {direction!r}")
    names = {d: COUNTER_NAMES[d] for d in directions}
    read_start, read_end = widen(start, -1), widen(end, +1)
    tell("planning the batches")
    counters = counter_series(
        store,
        catalogue,
        device_ids=device_ids,
        names=list(COUNTER_NAMES.values()),
        read=list(names.values()),
        start=read_start,
        end=read_end,
    )
    parts: list[pd.DataFrame] = []
    batches = counter_batches(
        store, counters, start=read_start, end=read_end, max_rows=max_rows, step=tell
    )
    for batch in batches:
        runs = series_runs(batch, catalogue, devices)
        rows = counter_rows(batch, runs, names, drop_unused=drop_unused)
        del batch
        part = consumption_frame(
            rows,
            by=("device_id", "direction"),
            freq=freq,
            tz=tz,
            unit="joule",
            to=to,
            resolution=counters.bucket,
            policy=policy,
        )
        del rows
        part = plain_keys(_within(part, start, end, tz), ["device_id", "direction"])
        parts.append(part if reduce is None else reduce(part))
    read = len(parts)
    if not parts:
        empty = energy_by_device(_NO_SAMPLES, freq=freq, tz=tz, to=to, names=names)
        parts.append(empty if reduce is None else reduce(empty))
    # Batches without rows are left out: their columns are untyped (object) where the
    # others' keys are text, and a concatenation would make them all objects.
    kept = [p for p in parts if not p.empty] or parts[:1]
    energy = pd.concat(kept, ignore_index=True) if len(kept) > 1 else kept[0]
    return StoreEnergy(
        energy=energy, samples=counters.samples, resolution=counters.bucket, batches=read
    )
