"""Data for the analytics commands: from the local store (offline) or straight from the API.

Either way the result is the three shared frames of the toolkit: the devices frame, the
datapoint catalogue and long samples (device_id, datapoint_id, timestamp, value).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from belimo_cloud.cli.exit_codes import CommandError, ExitStatus
from belimo_cloud.cli.options import State, parse_resolution

if TYPE_CHECKING:
    import pandas as pd

    from belimo_cloud.analysis import CounterPolicy
    from belimo_cloud.client import Client

__all__ = [
    "Selection",
    "Source",
    "from_client",
    "load",
    "require_samples",
    "select_devices",
    "store_energy_rows",
    "store_exists",
]


@dataclass(frozen=True)
class Selection:
    """Which devices, which datapoints (by default.name) and which period."""

    search: str | None = None
    profile: str | None = None
    device_ids: tuple[str, ...] = ()
    names: tuple[str, ...] = ("Heating_E_J", "Cooling_E_J")
    start: datetime | None = None
    end: datetime | None = None
    resolution: str = "1h"  # fetched from the API; local days need at least hourly readings


@dataclass(frozen=True)
class Source:
    """The frames the analytics take, and the bucket size of the samples."""

    devices: pd.DataFrame
    catalogue: pd.DataFrame
    samples: pd.DataFrame
    resolution: timedelta | None
    origin: str  # "store PATH" or the API URL, for messages


def select_devices(frame: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    """The devices of the selection (search, data profile, ids) in a devices frame."""
    if selection.search:
        needle = selection.search.casefold()
        text = frame["display_name"].fillna("") + "\n" + frame["serial_number"].fillna("")
        frame = frame[text.str.casefold().str.contains(needle, regex=False)]
    if selection.profile:
        wanted = selection.profile.strip("/").casefold()
        profiles = frame["dataprofile"].fillna("").str.casefold()
        frame = frame[(profiles == wanted) | profiles.str.startswith(wanted + "/")]
    if selection.device_ids:
        unknown = sorted(set(selection.device_ids) - set(frame["device_id"]))
        if unknown:
            raise CommandError(
                f"device {unknown[0]!r} not found in the selection; "
                "`belimo devices` (or `belimo store info`) lists them",
                ExitStatus.NOT_FOUND,
            )
        frame = frame[frame["device_id"].isin(selection.device_ids)]
    return frame.reset_index(drop=True)


Step = Callable[[str], None]


def _quiet(_text: str) -> None:
    return None


def load(
    state: State, selection: Selection, store: Path | None, *, step: Step | None = None
) -> Source:
    """The selection's frames: from ``store`` when given, else from the API.

    ``step`` (e.g. the one `cli.progress.working` yields) hears what is being read.
    """
    if store is not None:
        (step or _quiet)(f"reading {store}")
        return _from_store(store, selection)
    return _from_api(state, selection, step or _quiet)


def store_exists(path: Path) -> None:
    """A clear error when the store to read does not exist."""
    if not path.exists():
        raise CommandError(
            f"store {path} does not exist; fill it with `belimo sync --store {path}` "
            "or leave out --store to read from the API"
        )


def store_energy_rows(
    path: Path,
    selection: Selection,
    directions: Sequence[str],
    *,
    freq: str,
    tz: str,
    policy: CounterPolicy,
    step: Step | None = None,
    reduce: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The selected devices and their energy per period from a store, a batch at a time.

    The rows of :func:`belimo_cloud.report.store_energy.store_energy` over the selection's
    devices (each batch's ``reduce``d when given); an error like :func:`require_samples`
    when the selection has no counter samples.
    """
    from belimo_cloud.report.store_energy import store_energy
    from belimo_cloud.store import Store

    tell = step or _quiet
    store_exists(path)
    tell(f"reading {path}")
    with Store.open(path, read_only=True) as store:
        devices = select_devices(store.devices(), selection)
        result = store_energy(
            store,
            device_ids=list(devices["device_id"]),
            directions=directions,
            freq=freq,
            tz=tz,
            start=selection.start,
            end=selection.end,
            policy=policy,
            devices=devices,
            step=tell,
            reduce=reduce,
        )
    if not result.samples:
        raise _no_samples(["Heating_E_J", "Cooling_E_J"], f"store {path}")
    return devices, result.energy


def _from_store(path: Path, selection: Selection) -> Source:
    import pandas as pd

    from belimo_cloud.store import Store

    store_exists(path)
    # Read-only: a sync may write the store meanwhile, and read-only media can be read.
    with Store.open(path, read_only=True) as store:
        devices = select_devices(store.devices(), selection)
        catalogue = store.catalogue()
        wanted = catalogue[catalogue["name"].isin(selection.names)]
        samples = store.read(
            device_ids=list(devices["device_id"]),
            datapoint_ids=sorted(set(wanted["datapoint_id"])),
            start=_widen(selection.start, -1),
            end=_widen(selection.end, +1),
            aggregation="last",
        )
    resolution = None
    if not samples.empty and "resolution" in samples.columns:
        # Several syncs may have stored several bucket sizes: the finest tells the most.
        sizes = {text: parse_resolution(text) for text in samples["resolution"].unique()}
        finest = min(sizes, key=lambda text: sizes[text])
        samples = samples[samples["resolution"] == finest]
        resolution = sizes[finest]
    columns = ["device_id", "datapoint_id", "timestamp", "value"]
    return Source(
        devices=devices,
        catalogue=catalogue,
        samples=pd.DataFrame(samples[columns]).reset_index(drop=True),
        resolution=resolution,
        origin=f"store {path}",
    )


def _widen(moment: datetime | None, days: int) -> datetime | None:
    """A day more on each side: local periods and the readings at their edges."""
    return None if moment is None else moment + timedelta(days=days)


def _from_api(state: State, selection: Selection, step: Step) -> Source:
    with state.client() as client:
        return from_client(client, selection, step=step)


def from_client(client: Client, selection: Selection, *, step: Step | None = None) -> Source:
    """The selection's frames straight from the API: devices, their profiles, hourly history.

    Devices are fetched concurrently (the client's rate limiter and retries still apply);
    ``step`` hears "device 3/34" as each one arrives.
    """
    tell = step or _quiet
    import pandas as pd

    from belimo_cloud.client import catalogue_frame, devices_frame
    from belimo_cloud.client.frames import empty_long_frame

    start, end = selection.start, selection.end
    if start is None or end is None:
        raise CommandError("reading from the API needs --from and --to (or give --store)")
    size = parse_resolution(selection.resolution)
    tell("listing devices")
    listed = list(client.devices.list(search=selection.search))
    devices = select_devices(devices_frame(listed), selection)
    chosen = [d for d in listed if d.id in set(devices["device_id"])]
    catalogues = []
    jobs: list[tuple[str, list[str]]] = []
    for device in chosen if selection.names else []:
        profile = client.dataprofiles.for_device(device)
        if profile is None:
            continue
        catalogues.append(catalogue_frame(profile))
        ids = [dp.id for name in selection.names if (dp := profile.by_name(name))]
        if ids:
            jobs.append((device.id, ids))

    done = [0]
    lock = threading.Lock()

    def fetch(job: tuple[str, list[str]]) -> pd.DataFrame:
        part = client.history.timeseries(job[0], job[1], start - size, end + size, resolution=size)
        with lock:
            done[0] += 1
            tell(f"device {done[0]}/{len(jobs)}")
        return part

    with ThreadPoolExecutor(max_workers=max(1, client.settings.max_workers)) as pool:
        parts = list(pool.map(fetch, jobs))
    catalogue = (
        pd.concat(catalogues).drop_duplicates(["dataprofile", "datapoint_id"])
        if catalogues
        else pd.DataFrame(columns=["dataprofile", "datapoint_id", "name", "unit"])
    )
    samples = pd.concat(parts, ignore_index=True) if parts else empty_long_frame()
    return Source(devices, catalogue, samples, size, client.settings.api_url)


def require_samples(source: Source, what: Sequence[str]) -> None:
    """A clear error when the selection has no samples to work on."""
    if source.samples.empty:
        raise _no_samples(what, source.origin)


def _no_samples(what: Sequence[str], origin: str) -> CommandError:
    return CommandError(
        f"no {' or '.join(what)} samples for this selection in {origin}; "
        "widen --from/--to or --search (or `belimo sync` into the store first)",
        ExitStatus.NOT_FOUND,
    )
