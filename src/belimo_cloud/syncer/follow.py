"""follow(): keep a store current from the change-stream (``belimo sync --follow``).

The stream says *that* a device has new samples and *when* (its state's timestamp, on the
fleet's clock, which may run faster than ours). The store is then brought up to that moment by
the ordinary incremental :func:`~belimo_cloud.syncer.run.sync`, so that every write is one of
its transactions (a window's samples and the coverage they prove, together or not at all) and
the store holds exactly what a fresh sync of the same span would: history decides the values,
the stream only decides when to ask. Each sync stops at the start of the bucket the fleet's
clock is in, so that only complete buckets are stored: a bucket still filling would change
after it was stored, and a later sync of the same span would disagree with it. A sync also
runs after every reconnect of the stream (the hole is filled from history) and on a schedule
(``backfill_every``), whatever the stream says. Killed at any point, the store is consistent
and the next run resumes from its coverage.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from belimo_cloud.client.live import HEARTBEAT_TIMEOUT
from belimo_cloud.client.timeutil import floor_to_grid, parse_resolution, utcnow
from belimo_cloud.store import Store
from belimo_cloud.syncer.run import sync
from belimo_cloud.syncer.selection import select

if TYPE_CHECKING:
    from belimo_cloud.client import Client
    from belimo_cloud.client.models import Device
    from belimo_cloud.syncer.report import SyncReport

__all__ = ["FollowReport", "follow"]

MIN_INTERVAL = 5.0  # [s] between two syncs that events trigger (events in between coalesce)
BACKFILL_EVERY = 300.0  # [s] a sync at least this often, even when the stream is silent


@dataclass
class FollowReport:
    """What a follow run did: syncs and why, events, reconnects, points written."""

    store: str = ""
    syncs: int = 0
    event_syncs: int = 0
    reconnect_syncs: int = 0
    scheduled_syncs: int = 0
    events: int = 0
    reconnects: int = 0
    points: int = 0
    requests: int = 0
    fleet_time: datetime | None = None  # the newest sample time the stream showed
    synced_until: datetime | None = None  # the store holds every complete bucket before this
    interrupted: bool = False
    reports: list[SyncReport] = field(default_factory=list, repr=False)

    def summary(self) -> str:
        """One line for the command line."""
        until = self.synced_until
        upto = until.isoformat().replace("+00:00", "Z") if until is not None else "-"
        return (
            f"followed {self.events} events with {self.syncs} syncs "
            f"({self.event_syncs} on events, {self.reconnect_syncs} after reconnects, "
            f"{self.scheduled_syncs} scheduled), {self.points} points, up to {upto}"
        )


def _fleet_now(devices: Sequence[Device]) -> datetime | None:
    """The fleet's clock as the devices show it: their newest state or last contact."""
    times: list[datetime] = []
    for device in devices:
        if device.state is not None and device.state.timestamp is not None:
            times.append(device.state.timestamp)
        if device.health.last_seen is not None:
            times.append(device.health.last_seen)
    return max(times) if times else None


def follow(
    client: Client,
    store: Store | str | Path | None = None,
    *,
    search: str | None = None,
    profile: str | None = None,
    state: str | None = None,
    device_ids: Sequence[str] | str | None = None,
    datapoints: Any = ("heating_energy",),
    duration: float | None = None,
    min_interval: float = MIN_INTERVAL,
    backfill_every: float = BACKFILL_EVERY,
    heartbeat_timeout: float = HEARTBEAT_TIMEOUT,
    stop: threading.Event | None = None,
    on_sync: Callable[[SyncReport], None] | None = None,
    **sync_options: Any,
) -> FollowReport:
    """Sync now, then keep the store current from the change-stream until stopped.

    The selection (``search``, ``profile``, ``state``, ``device_ids``, ``datapoints``) and
    ``sync_options`` (``start``, ``resolution``, ``aggregation``, ``settled_horizon``,
    ``progress``, ...) mean what they mean for :func:`sync`. Runs for ``duration`` seconds
    (None: until ``stop`` is set or Ctrl-C, which ends it normally with ``interrupted``).
    Events coalesce into at most one sync per ``min_interval`` seconds; a reconnect of the
    stream and every ``backfill_every`` seconds also sync. ``on_sync`` sees each sync's report.
    """
    own_store = not isinstance(store, Store)
    target = store if isinstance(store, Store) else Store(store)
    report = FollowReport(store=str(target.path))
    stopping = stop or threading.Event()
    deadline = None if duration is None else time.monotonic() + duration
    selection = select(
        client,
        search=search,
        profile=profile,
        state=state,
        device_ids=device_ids,
        datapoints=datapoints,
    )
    ids = [t.device.id for t in selection.targets]
    dp_ids = sorted({dp for t in selection.targets for dp in t.datapoint_ids})
    fleet_now = _fleet_now(selection.devices)
    step = parse_resolution(sync_options.get("resolution", "15m"))

    def run_sync(reason: str) -> None:
        moment = floor_to_grid(fleet_now or utcnow(), step)
        result = sync(
            client,
            target,
            device_ids=ids,
            datapoints=dp_ids,
            now=lambda: moment,
            **sync_options,
        )
        report.syncs += 1
        setattr(report, f"{reason}_syncs", getattr(report, f"{reason}_syncs") + 1)
        report.points += result.points
        report.requests += result.requests_sent
        report.fleet_time = fleet_now
        report.synced_until = moment
        report.reports.append(result)
        if on_sync is not None:
            on_sync(result)

    subscription = None
    try:
        if not ids:
            return report
        # Subscribe before the first sync: what happens during it arrives as events.
        subscription = client.live.subscribe(
            ids, dp_ids, heartbeat_timeout=heartbeat_timeout, backfill=False
        )
        run_sync("scheduled")
        report.scheduled_syncs -= 1  # the first sync is the catch-up, not the schedule's
        last_sync = last_backfill = time.monotonic()
        reconnects = 0
        dirty = False
        while not stopping.is_set():
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                break
            wait = 0.5 if deadline is None else max(0.0, min(0.5, deadline - now))
            event = subscription.get(timeout=wait)
            if event is not None:
                report.events += 1
                if event.timestamp is not None and (
                    fleet_now is None or event.timestamp > fleet_now
                ):
                    fleet_now = event.timestamp
                    dirty = True
            elif subscription.closed:
                break
            now = time.monotonic()
            if subscription.stats.reconnects > reconnects:
                reconnects = subscription.stats.reconnects
                report.reconnects = reconnects
                run_sync("reconnect")
                last_sync = last_backfill = time.monotonic()
                dirty = False
            elif now - last_backfill >= backfill_every:
                run_sync("scheduled")
                last_sync = last_backfill = time.monotonic()
                dirty = False
            elif dirty and now - last_sync >= min_interval:
                run_sync("event")
                last_sync = time.monotonic()
                dirty = False
        if dirty:
            run_sync("event")
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        if subscription is not None:
            subscription.close()
        if own_store:
            target.close()
    return report
