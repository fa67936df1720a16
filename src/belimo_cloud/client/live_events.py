"""What the change-stream carries, typed: offers, device events, statistics, SSE parsing.

Backfilled samples (history read after a reconnect) become the same DeviceEvent as streamed
ones, marked ``kind="backfill"``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from belimo_cloud.client.models import Device
from belimo_cloud.client.timeutil import format_time, utcnow

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DeviceEvent",
    "LiveStats",
    "Offer",
    "StreamItem",
    "events_from_frame",
    "norm_value",
    "parse_sse",
]


class Offer(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A subscription offer: the stream's token and until when it may be opened."""

    token: str = msgspec.field(name="token")
    valid_until: datetime | None = None

    def __repr__(self) -> str:
        # The token is the stream's only credential.
        return f"Offer(token='****', valid_until={self.valid_until!r})"


class StreamItem(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    device_id: str
    device: Device | None = None


@dataclass(frozen=True)
class DeviceEvent:
    """One change of one device.

    ``kind`` is "update" (from the stream, ``device`` holds the full device), "backfill"
    (filled in from history after a reconnect; ``device`` is None) or "removed" (the device
    was removed or is no longer visible). ``datapoints`` maps ids to raw values, all of them
    sampled at ``timestamp``.
    """

    device_id: str
    timestamp: datetime | None
    datapoints: Mapping[str, Any]
    kind: str = "update"
    device: Device | None = None
    received_at: datetime = field(default_factory=utcnow)

    @property
    def values(self) -> Mapping[str, Any]:
        """Datapoint id -> raw value (the same mapping as ``datapoints``)."""
        return self.datapoints

    @property
    def removed(self) -> bool:
        """Whether the device left the stream (removed, or no longer visible)."""
        return self.kind == "removed"

    @property
    def backfilled(self) -> bool:
        """Whether the event was filled in from history rather than received live."""
        return self.kind == "backfill"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: device_id, display_name, timestamp (ISO Z), datapoints, kind."""
        return {
            "device_id": self.device_id,
            "display_name": self.device.display_name if self.device is not None else None,
            "timestamp": format_time(self.timestamp) if self.timestamp is not None else None,
            "kind": self.kind,
            "datapoints": dict(self.datapoints),
        }


@dataclass
class LiveStats:
    """What a subscription went through: connections, heartbeats, events, repairs."""

    subscriptions: int = 0
    connections: int = 0
    reconnects: int = 0
    resubscriptions: int = 0
    heartbeats: int = 0
    events: int = 0
    backfilled: int = 0
    duplicates: int = 0
    missed_heartbeats: int = 0
    errors: list[str] = field(default_factory=list)


def parse_sse(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """Server-sent events from text lines: ("data", joined data) per event, ("comment", text).

    Data lines of one event are joined by newlines; a blank line ends an event.
    """
    data: list[str] = []
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield "data", "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            yield "comment", line[1:].strip()
            continue
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
    if data:
        yield "data", "\n".join(data)


def norm_value(value: Any) -> Any:
    """A value as history and the stream would both write it: numbers as float, bools as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text.casefold() in ("true", "false"):
            return text.casefold()
        try:
            return float(text)
        except ValueError:
            return text
    return value


def events_from_frame(device: str, frame: pd.DataFrame, since: datetime) -> list[DeviceEvent]:
    """One backfill event per sample time after ``since``, oldest first."""
    if frame.empty:
        return []
    import pandas as pd

    stamps = pd.to_datetime(frame["timestamp"], utc=True)
    later = frame[stamps > pd.Timestamp(since)]
    events: list[DeviceEvent] = []
    for stamp, group in later.groupby("timestamp", sort=True):
        values = {
            str(dp): _plain_value(v)
            for dp, v in zip(group["datapoint_id"], group["value"], strict=True)
            if not _missing(v)
        }
        if values:
            moment = pd.Timestamp(str(stamp)).to_pydatetime()
            events.append(DeviceEvent(device, moment, values, kind="backfill"))
    return events


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _plain_value(value: Any) -> Any:
    item = getattr(value, "item", None)  # numpy scalars
    return item() if callable(item) else value
