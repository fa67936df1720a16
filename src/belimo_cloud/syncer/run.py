"""sync(): bring the store up to date with the cloud for a selection of devices and datapoints."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from belimo_cloud.client.frames import catalogue_frame, devices_frame
from belimo_cloud.client.history import window_frame
from belimo_cloud.client.timeutil import (
    floor_to_grid,
    format_resolution,
    parse_resolution,
    parse_time,
    utcnow,
)
from belimo_cloud.errors import BadRequest, DataError
from belimo_cloud.store import Store
from belimo_cloud.store.intervals import Interval
from belimo_cloud.syncer.executor import Outcome, execute
from belimo_cloud.syncer.planner import ChunkRequest, DeviceRange, plan
from belimo_cloud.syncer.progress import NullProgress, SyncProgress
from belimo_cloud.syncer.report import SyncReport
from belimo_cloud.syncer.selection import Selection, Target, select

if TYPE_CHECKING:
    from belimo_cloud.client import Client

__all__ = ["DEFAULT_SPAN", "DEFAULT_START", "PROBE_RESOLUTION", "SyncInterrupted", "sync"]

# Where the search for a device's first data begins, and where a sync starts when the server
# cannot answer that search (the emulated fleet's history starts 2017-01-01 too).
DEFAULT_START = datetime(2017, 1, 1, tzinfo=UTC)
PROBE_FROM = datetime(2000, 1, 1, tzinfo=UTC)
PROBE_RESOLUTION = timedelta(days=7)
# What `belimo sync` fetches for a series the store does not hold yet when no --from is given:
# bounded, so that a first sync takes seconds, not the fleet's whole history.
DEFAULT_SPAN = timedelta(days=30)
_AGGREGATION = re.compile(r"^[a-z]+$")


class SyncInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a sync cleanly; ``report`` holds what was committed before it."""

    def __init__(self, report: SyncReport) -> None:
        super().__init__("sync interrupted; run it again to resume")
        self.report = report


def sync(
    client: Client,
    store: Store | str | Path | None = None,
    *,
    search: str | None = None,
    profile: str | None = None,
    state: str | None = None,
    device_ids: Sequence[str] | str | None = None,
    datapoints: str | Iterable[str] = ("heating_energy",),
    start: Any = None,
    end: Any = None,
    resolution: Any = "15m",
    aggregation: str = "last",
    settled_horizon: timedelta | str = timedelta(days=2),
    progress: SyncProgress | None = None,
    max_workers: int | None = None,
    now: Callable[[], datetime] | None = None,
    default_span: timedelta | None = None,
) -> SyncReport:
    """Fetch what the store lacks for the selection, plus the settled horizon, and store it.

    Devices: ``search`` (display name or serial), ``profile`` ("energyvalve3/1.2" or
    "energyvalve3"), ``state`` (REGISTERED, UNREGISTERED, ALL), ``device_ids``. Datapoints:
    ids, default.names or semantic names (heating_energy, power, supply_temperature, ...),
    resolved through each device's profile. Without ``start``, a series the store holds
    continues from what is stored; a new one starts at the device's first data (found with
    one coarse request per device), or ``default_span`` before ``end`` when that is given
    (the command line gives DEFAULT_SPAN). Times without a zone are local time in
    Europe/Zurich (``client.timeutil``). ``end`` defaults to now. The last
    ``settled_horizon`` before now is fetched again on every run because late data arrives.

    Everything is checked before the first write: an unknown device (NotFound), datapoint or
    date (DataError) leaves the store untouched. Ctrl-C raises SyncInterrupted (a
    KeyboardInterrupt carrying the report) after in-flight requests end; rerun to resume.
    """
    clock = now or utcnow
    began = time.monotonic()
    sent_before = _requests_sent(client)
    res = parse_resolution(resolution)
    res_label = format_resolution(res)
    agg = _aggregation(aggregation)
    horizon = _horizon(settled_horizon)
    moment = clock()
    lo = parse_time(start) if start is not None else None
    hi = parse_time(end) if end is not None else moment
    if lo is not None and hi <= lo:
        raise DataError(f"end ({hi.isoformat()}) must be after start ({lo.isoformat()})")
    own_store = not isinstance(store, Store)
    target_store = store if isinstance(store, Store) else Store(store)
    report = SyncReport(store=str(target_store.path), resolution=res_label, aggregation=agg)
    sink = progress if progress is not None else NullProgress()
    outcome = Outcome()
    started = False
    try:
        selection = select(
            client,
            search=search,
            profile=profile,
            state=state,
            device_ids=device_ids,
            datapoints=datapoints,
        )
        report.skipped = list(selection.skipped)
        coverage = target_store.coverage(res_label, agg)
        ranges, probes = _ranges(
            client,
            selection,
            coverage,
            lo=lo,
            hi=hi,
            res=res,
            agg=agg,
            report=report,
            default_span=default_span,
        )
        report.probe_requests = probes
        settled_before = floor_to_grid(moment - horizon, res)
        the_plan = plan(
            ranges,
            coverage,
            resolution=res,
            settled_before=settled_before,
            recent_from=settled_before - horizon,
        )
        report.devices = len(ranges)
        report.series = the_plan.series
        report.up_to_date = the_plan.up_to_date
        report.planned_requests = len(the_plan.requests)
        report.refresh_requests = the_plan.refresh_requests
        # First write: the metadata snapshot and the catalogue, only after every check passed.
        target_store.save_devices(devices_frame(selection.devices), fetched_at=moment)
        for prof in selection.profiles:
            target_store.save_catalogue(catalogue_frame(prof))
        names = {d.id: d.name for d in selection.devices}
        for device_id, reason in report.skipped:
            sink.message(f"skipped {names.get(device_id, device_id)} ({device_id}): {reason}")
        report.start, report.end = _span(ranges)
        sink.message(report.plan())
        sink.start(devices=len(ranges), requests=len(the_plan.requests))
        started = True

        def fetch(device_id: str, dps: Sequence[str], w_start: datetime, w_end: datetime) -> bytes:
            return client.history.fetch_window_body(device_id, list(dps), w_start, w_end, res, agg)

        def prepare(body: bytes, request: ChunkRequest) -> pd.DataFrame:
            return window_frame(
                request.device_id, body, request.start, request.end, res, compact=True
            )

        execute(
            the_plan.requests,
            fetch=fetch,
            prepare=prepare,
            store=target_store,
            resolution=res_label,
            aggregation=agg,
            workers=max_workers or client.settings.max_workers,
            progress=sink,
            outcome=outcome,
            settled_before=settled_before,
        )
    except KeyboardInterrupt:
        _close(report, outcome, began, client, sent_before, interrupted=True)
        sink.message("interrupted; committed windows are kept, run sync again to resume")
        sink.finish(report)
        raise SyncInterrupted(report) from None
    except Exception as exc:
        if started:
            _close(report, outcome, began, client, sent_before, interrupted=True)
            sink.message(f"stopped: {exc}; committed windows are kept, run sync again to resume")
            sink.finish(report)
        raise
    finally:
        if own_store:
            target_store.close()
    _close(report, outcome, began, client, sent_before, interrupted=False)
    sink.finish(report)
    return report


def _ranges(
    client: Client,
    selection: Selection,
    coverage: dict[tuple[str, str], list[Interval]],
    *,
    lo: datetime | None,
    hi: datetime,
    res: timedelta,
    agg: str,
    report: SyncReport,
    default_span: timedelta | None = None,
) -> tuple[list[DeviceRange], int]:
    """The range each series must cover; finds first data where nothing says where it starts.

    With ``default_span``, a series nothing says anything about starts that long before ``hi``
    instead (no search).
    """
    ranges: list[DeviceRange] = []
    probes = 0
    for target in selection.targets:
        per_dp: dict[str, Interval] = {}
        unknown: list[str] = []
        for dp in target.datapoint_ids:
            covered = coverage.get((target.device.id, dp))
            if lo is not None:
                per_dp[dp] = (lo, hi)
            elif covered:
                per_dp[dp] = (min(s for s, _ in covered), hi)
            elif default_span is not None:
                per_dp[dp] = (floor_to_grid(hi - default_span, res), hi)
            else:
                unknown.append(dp)
        if unknown:
            first, used = _first_data(client, target, unknown, hi, agg)
            probes += used
            for dp in unknown:
                if dp in first:
                    per_dp[dp] = (floor_to_grid(first[dp], res), hi)
        if not per_dp:
            report.skipped.append((target.device.id, f"no data before {hi.isoformat()}"))
            continue
        ranges.append(DeviceRange(target.device.id, per_dp))
    return ranges, probes


def _first_data(
    client: Client, target: Target, dps: list[str], hi: datetime, agg: str
) -> tuple[dict[str, datetime], int]:
    """The first week holding data for each datapoint: one coarse request for all of them.

    Falls back to the device's production date (or DEFAULT_START) when the server refuses the
    coarse resolution.
    """
    if hi <= PROBE_FROM:
        return {}, 0
    try:
        frame = client.history.fetch_window(
            target.device.id, dps, PROBE_FROM, hi, PROBE_RESOLUTION, agg
        )
    except BadRequest:
        fallback = target.device.production_date or DEFAULT_START
        return {dp: max(fallback, DEFAULT_START) for dp in dps}, 1
    found = frame.dropna(subset=["value"]).groupby("datapoint_id")["timestamp"].min()
    return {str(dp): pd.Timestamp(ts).to_pydatetime() for dp, ts in found.items()}, 1


def _span(ranges: Sequence[DeviceRange]) -> tuple[str, str]:
    """The overall [start, end) of the ranges, as ISO text for the report ('' when empty)."""
    intervals = [iv for r in ranges for iv in r.ranges.values()]
    if not intervals:
        return "", ""
    lo = min(s for s, _ in intervals)
    hi = max(e for _, e in intervals)
    return _iso(lo), _iso(hi)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _close(
    report: SyncReport,
    outcome: Outcome,
    began: float,
    client: Client,
    sent_before: int,
    *,
    interrupted: bool,
) -> None:
    report.requests = outcome.requests
    report.points = outcome.points
    report.interrupted = interrupted
    report.seconds = time.monotonic() - began
    report.requests_sent = _requests_sent(client) - sent_before


def _requests_sent(client: Client) -> int:
    try:
        return int(client.session.requests_sent)
    except (AttributeError, NotImplementedError):
        return 0


def _aggregation(value: str) -> str:
    text = str(value).strip().lower()
    if not _AGGREGATION.match(text):
        raise DataError(f"aggregation must be a name such as last, avg, min or max; got {value!r}")
    return text


def _horizon(value: timedelta | str) -> timedelta:
    if isinstance(value, timedelta):
        if value < timedelta(0):
            raise DataError(f"settled horizon must not be negative, got {value}")
        return value
    if str(value).strip() in ("0", ""):
        return timedelta(0)
    return parse_resolution(value)
