"""The dashboard's data: a read-only snapshot of the store, reloaded when the file changes.

The store is opened read-only only while a snapshot is read, then closed at once, so that a
`belimo sync` can take the file between two loads. A load that fails (the file is held by a
writer at that moment) keeps the previous snapshot and says why; the next request tries again.
The fleet's analysis (the report's :func:`~belimo_cloud.report.content.analyse`) is computed
once per snapshot, so pages and endpoints answer from memory.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from belimo_cloud.analysis.fleet import named_samples
from belimo_cloud.report.content import ReportData, analyse
from belimo_cloud.store import Store

__all__ = ["AVERAGED", "COUNTERS", "DeviceFrame", "Snapshot", "StoreData", "finest"]

#: Lifetime energy counters: read as the last reading of each bucket.
COUNTERS = ("Heating_E_J", "Cooling_E_J")
#: Hydronic quantities: read as the bucket's average where synced, else as stored.
AVERAGED = (
    "AbsPower_Fb_W",
    "AbsFlow_Fb_m3s",
    "RelFlow_Fb_Rel2Vmax",
    "T1_remote_K",
    "T2_embeded_K",
    "DeltaT_K",
    "SpDeltaT_applied_K",
)
_COLUMNS = ["name", "unit", "timestamp", "value", "resolution", "aggregation"]


@dataclass(frozen=True)
class DeviceFrame:
    """One device's samples by ``default.name``, at the finest stored resolution of each."""

    device_id: str
    samples: pd.DataFrame  # name, unit, timestamp, value, resolution, aggregation

    def series(self, name: str) -> pd.Series[float]:
        """The time-sorted series of ``name`` (empty when not stored)."""
        part = self.samples[self.samples["name"] == name]
        return pd.Series(
            part["value"].to_numpy(dtype=np.float64),
            index=pd.DatetimeIndex(part["timestamp"]),
            name=name,
        )

    def unit(self, name: str) -> str:
        """The profile unit of ``name`` ("" when unknown)."""
        units = self.samples.loc[self.samples["name"] == name, "unit"]
        return str(units.iloc[0]) if len(units) and isinstance(units.iloc[0], str) else ""

    def resolution(self, name: str) -> pd.Timedelta | None:
        """The bucket length of ``name``'s rows (None when not stored)."""
        res = self.samples.loc[self.samples["name"] == name, "resolution"]
        return pd.Timedelta(str(res.iloc[0])) if len(res) else None


@dataclass(frozen=True)
class Snapshot:
    """Everything the dashboard shows, read at ``loaded_at``."""

    devices: pd.DataFrame
    catalogue: pd.DataFrame
    fleet: ReportData
    resolution: pd.Timedelta | None
    by_device: dict[str, DeviceFrame]
    rows: int
    loaded_at: pd.Timestamp
    mtime: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)

    def device(self, device_id: str) -> DeviceFrame:
        """The device's samples (an empty frame for a device without any)."""
        found = self.by_device.get(device_id)
        if found is None:
            return DeviceFrame(device_id, pd.DataFrame(columns=_COLUMNS))
        return found

    def name_of(self, device_id: str) -> str:
        """The display name of a device (its id when it has none)."""
        rows = self.devices[self.devices["device_id"] == device_id]
        if rows.empty:
            return device_id
        name = rows.iloc[0]["display_name"]
        return str(name) if isinstance(name, str) and name else device_id


def _codes(column: pd.Series[Any]) -> tuple[npt.NDArray[np.int64], pd.Index[Any]]:
    codes, uniques = pd.factorize(column)
    return codes.astype(np.int64), pd.Index(uniques)


def finest(named: pd.DataFrame) -> pd.DataFrame:
    """Per device and name, the rows of the finest resolution; ``avg`` buckets preferred for
    hydronic quantities and never used for counters (their energy is a difference of levels).
    """
    if named.empty:
        return named
    # Decide per series (a few hundred), then select rows by code: no string work per row.
    dev, _ = _codes(named["device_id"])
    name, names = _codes(named["name"])
    res, resolutions = _codes(named["resolution"].astype(str))
    agg, aggregations = _codes(named["aggregation"].astype(str))
    res_s = np.array([pd.Timedelta(r).total_seconds() for r in resolutions], dtype=np.float64)
    is_avg_code = np.array([a == "avg" for a in aggregations], dtype=bool)
    counter_code = np.array([n in COUNTERS for n in names], dtype=bool)
    series = dev * (len(names) + 1) + name
    usable = ~(counter_code[name] & is_avg_code[agg])
    table = pd.DataFrame(
        {"series": series[usable], "s": res_s[res[usable]], "avg": is_avg_code[agg[usable]]}
    ).drop_duplicates()
    best_s = table.groupby("series")["s"].min()
    table = table[table["s"].to_numpy() == best_s.reindex(table["series"]).to_numpy()]
    has_avg = table.groupby("series")["avg"].any()
    table = table[table["avg"].to_numpy() | ~has_avg.reindex(table["series"]).to_numpy()]
    wanted = set(zip(table["series"], table["s"], table["avg"], strict=True))
    row_key = pd.MultiIndex.from_arrays([series, res_s[res], is_avg_code[agg]])
    keep = usable & row_key.isin(list(wanted))
    frame = pd.DataFrame(named[keep]).sort_values(["device_id", "name", "timestamp"], kind="stable")
    return pd.DataFrame(frame.drop_duplicates(["device_id", "name", "timestamp"], keep="first"))


def _fleet_rows(named: pd.DataFrame) -> tuple[pd.DataFrame, pd.Timedelta | None]:
    """The rows at the resolution most series share, for the fleet's analysis."""
    if named.empty:
        return named, None
    dev, _ = _codes(named["device_id"])
    name, names = _codes(named["name"])
    res, resolutions = _codes(named["resolution"].astype(str))
    series = (dev * (len(names) + 1) + name) * (len(resolutions) + 1) + res
    per_series = pd.Series(res).groupby(series).first()
    common = int(per_series.value_counts().index[0])
    return named[res == common], pd.Timedelta(str(resolutions[common]))


def load_snapshot(path: Path, *, tz: str) -> Snapshot:
    """Read the store (read-only, closed again at once) and analyse the fleet."""
    with Store.open(path, read_only=True) as store:
        devices = store.devices()
        catalogue = store.catalogue()
        wanted = catalogue[catalogue["name"].isin([*COUNTERS, *AVERAGED])]
        ids = sorted(set(wanted["datapoint_id"].astype(str)))
        samples = store.read(datapoint_ids=ids) if ids else store.read(datapoint_ids=["-"])
    named = named_samples(samples, catalogue, devices)
    named = named[named["name"].notna()]
    fleet_rows, resolution = _fleet_rows(named)
    # One row per series and time, chosen here (counters last, hydronics avg): the analysis
    # then needs no aggregation column, which it would otherwise sort out row by row.
    fleet_rows = finest(fleet_rows)
    fleet = analyse(
        devices,
        catalogue,
        fleet_rows.drop(columns=["name", "unit", "aggregation"]),
        tz=tz,
        resolution=resolution,
        title="Fleet dashboard",
    )
    best = finest(named)
    by_device = {
        str(dev): DeviceFrame(str(dev), part[_COLUMNS].reset_index(drop=True))
        for dev, part in best.groupby("device_id", sort=False)
    }
    return Snapshot(
        devices=devices,
        catalogue=catalogue,
        fleet=fleet,
        resolution=resolution,
        by_device=by_device,
        rows=len(samples),
        loaded_at=pd.Timestamp.now(tz="UTC"),
        mtime=_mtime(path),
    )


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


class StoreData:
    """The current snapshot of one store, reloaded in the background when its file changes.

    ``recheck`` [s] bounds how often the file's time is looked at. Requests keep getting the
    last good snapshot while a new one loads; a failed load (a writer holding the file, for
    instance) keeps it too, and ``problem`` says why until a later load succeeds.
    """

    def __init__(self, path: Path, *, tz: str = "Europe/Zurich", recheck: float = 5.0) -> None:
        self.path = path
        self.tz = tz
        self.recheck = recheck
        self.problem = ""
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._checked = 0.0
        self._loading: threading.Thread | None = None

    def snapshot(self) -> Snapshot:
        """The latest snapshot; the first call loads it (StoreError when it cannot)."""
        with self._lock:
            if self._snapshot is None:
                self._snapshot = load_snapshot(self.path, tz=self.tz)
                self._checked = time.monotonic()
                return self._snapshot
            now = time.monotonic()
            if self._loading is None and now - self._checked >= self.recheck:
                self._checked = now
                if _mtime(self.path) != self._snapshot.mtime:
                    self._loading = threading.Thread(
                        target=self._reload, name="belimo-store-reload", daemon=True
                    )
                    self._loading.start()
            return self._snapshot

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a reload under way (tests, benchmarks)."""
        loading = self._loading
        if loading is not None:
            loading.join(timeout)

    def _reload(self) -> None:
        try:
            fresh = load_snapshot(self.path, tz=self.tz)
        except Exception as exc:
            self.problem = f"showing the data read earlier; the store cannot be read now: {exc}"
        else:
            with self._lock:
                self._snapshot = fresh
            self.problem = ""
        finally:
            with self._lock:
                self._checked = time.monotonic()
                self._loading = None
