"""The change-stream: live device updates as typed events, across re-subscriptions and drops.

``POST /devices/change-stream`` offers a stream (a token valid until ``validUntil``);
``GET /devices/change-stream/{token}`` is a ``text/event-stream`` of ``data:{"deviceId",
"device"}`` events and ``:heartbeat`` comments. A :class:`Subscription` reads it on a thread of
its own and hands typed :class:`DeviceEvent` objects to an iterator or a callback. It
subscribes again shortly before ``validUntil``, and reconnects when the stream drops or stays
silent past the heartbeat timeout. After every reconnect it fills the hole from history, and
it drops what it already delivered, so that across reconnects no sample is lost or repeated.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import msgspec

from belimo_cloud.client.decode import decode
from belimo_cloud.client.devices import id_of
from belimo_cloud.client.models import Device
from belimo_cloud.client.timeutil import format_time, utcnow
from belimo_cloud.errors import (
    AuthError,
    BelimoError,
    ConfigError,
    DataError,
    NotFound,
    TransportError,
)

if TYPE_CHECKING:
    import pandas as pd

    from belimo_cloud.client.session import Session

__all__ = [
    "HEARTBEAT_TIMEOUT",
    "DeviceEvent",
    "Live",
    "LiveStats",
    "Offer",
    "Subscription",
    "backfill_from_history",
    "parse_sse",
]

logger = logging.getLogger("belimo_cloud.client")

HEARTBEAT_TIMEOUT = 120.0  # [s] silence after which the stream counts as dead (MST's value)
RESUBSCRIBE_MARGIN = 30.0  # [s] subscribe again this long before validUntil
MIN_LIFETIME = 1.0  # [s] a subscription is used at least this long, whatever the clocks say
RECONNECT_FIRST = 0.2  # [s] first wait after a failed connection; doubles up to the cap
RECONNECT_MAX = 30.0  # [s]
QUEUE_SIZE = 10_000  # events waiting for a slow consumer before the reader waits too

# What a raw-history backfill fetches per datapoint at most; more datapoints use the CSV
# export, one request per device.
_RAW_BACKFILL_MAX = 4


class Offer(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A subscription offer: the stream's token and until when it may be opened."""

    token: str = msgspec.field(name="token")
    valid_until: datetime | None = None

    def __repr__(self) -> str:
        # The token is the stream's only credential.
        return f"Offer(token='****', valid_until={self.valid_until!r})"


class _StreamItem(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
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


def _norm(value: Any) -> Any:
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


class _Closed(Exception):
    """The subscription was closed while connecting or reading."""


class Subscription:
    """A running change-stream subscription; iterate it, or give ``on_event`` a callback.

    ``get(timeout)`` waits at most ``timeout`` seconds for the next event; iteration ends when
    the subscription is closed. ``close()`` stops the reader thread (from any thread).
    A fatal error (refused credentials, an unknown device) ends the subscription and is raised
    by ``get`` and the iterator.
    """

    def __init__(
        self,
        live: Live,
        device_ids: list[str],
        datapoint_ids: list[str],
        *,
        on_event: Callable[[DeviceEvent], None] | None = None,
        heartbeat_timeout: float = HEARTBEAT_TIMEOUT,
        resubscribe_margin: float = RESUBSCRIBE_MARGIN,
        backfill: bool = True,
    ) -> None:
        self._live = live
        self.device_ids = device_ids
        self.datapoint_ids = datapoint_ids
        self._on_event = on_event
        self.heartbeat_timeout = heartbeat_timeout
        self.resubscribe_margin = resubscribe_margin
        self.backfill = backfill
        self.stats = LiveStats()
        self._queue: queue.Queue[DeviceEvent | None] = queue.Queue(QUEUE_SIZE)
        self._closed = threading.Event()
        self._done = threading.Event()
        self._error: BaseException | None = None
        self._response: httpx.Response | None = None
        self._response_lock = threading.Lock()
        self._last_ts: dict[str, datetime] = {}
        self._last_values: dict[str, dict[str, Any]] = {}
        self._thread = threading.Thread(target=self._run, name="belimo-live", daemon=True)

    # -- consumer side --------------------------------------------------------------------------

    def start(self) -> Subscription:
        """Start reading (``Live.subscribe`` does this); returns self."""
        self._thread.start()
        return self

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called or the subscription ended on an error."""
        return self._closed.is_set()

    @property
    def error(self) -> BaseException | None:
        """The error that ended the subscription, if one did."""
        return self._error

    def get(self, timeout: float | None = None) -> DeviceEvent | None:
        """The next event, or None after ``timeout`` seconds (or once the subscription ended)."""
        if self._on_event is not None:
            raise DataError("this subscription delivers to its callback; it has no queue")
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            item = None
        if item is None:
            if self._error is not None:
                raise self._error
            if self._done.is_set():
                self._queue.put_nowait(None)  # later callers end too
        return item

    def __iter__(self) -> Iterator[DeviceEvent]:
        while True:
            item = self.get(timeout=0.5)
            if item is not None:
                yield item
            elif self._done.is_set() and self._queue.empty():
                if self._error is not None:
                    raise self._error
                return

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the subscription ends (callback form); False when ``timeout`` passed."""
        ended = self._done.wait(timeout)
        if self._error is not None:
            raise self._error
        return ended

    def close(self) -> None:
        """Stop: close the stream and end the reader thread (waits up to a few seconds)."""
        self._closed.set()
        self._drop_stream()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5.0)

    def drop(self) -> None:
        """Drop the current stream as a network failure would (the reader reconnects)."""
        self._drop_stream()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"Subscription(devices={len(self.device_ids) or 'all'}, "
            f"datapoints={len(self.datapoint_ids) or 'all'}, closed={self.closed})"
        )

    # -- reader thread --------------------------------------------------------------------------

    def _drop_stream(self) -> None:
        with self._response_lock:
            response = self._response
        if response is not None:
            with contextlib.suppress(httpx.HTTPError, OSError, RuntimeError):
                response.close()

    def _deliver(self, event: DeviceEvent) -> None:
        self.stats.events += 1
        if event.backfilled:
            self.stats.backfilled += 1
        if self._on_event is not None:
            self._on_event(event)
            return
        while not self._closed.is_set():
            try:
                self._queue.put(event, timeout=0.5)
                return
            except queue.Full:
                continue

    def _run(self) -> None:
        delay = RECONNECT_FIRST
        connected_before = False
        try:
            while not self._closed.is_set():
                try:
                    self._connect_and_read(connected_before)
                    delay = RECONNECT_FIRST
                except _Closed:
                    break
                except httpx.ReadTimeout:
                    self.stats.missed_heartbeats += 1
                    logger.debug(
                        "change-stream silent for %.0f s; reconnecting", self.heartbeat_timeout
                    )
                    delay = RECONNECT_FIRST
                except (httpx.HTTPError, TransportError, _StreamRefused) as exc:
                    if self._closed.is_set():
                        break
                    self.stats.errors.append(" ".join(str(exc).split())[:200])
                    logger.debug("change-stream failed (%s); reconnecting in %.1f s", exc, delay)
                    if self._closed.wait(delay):
                        break
                    delay = min(RECONNECT_MAX, delay * 2)
                connected_before = connected_before or self.stats.connections > 0
                if connected_before and not self._closed.is_set():
                    self.stats.reconnects += 1
        except (AuthError, NotFound, ConfigError) as exc:
            self._error = exc
        except BelimoError as exc:
            self._error = exc
        except Exception as exc:  # a bug must end the iterator, not hang it
            self._error = exc
        finally:
            self._closed.set()
            self._done.set()
            if self._on_event is None:
                with contextlib.suppress(queue.Full):
                    self._queue.put_nowait(None)

    def _connect_and_read(self, repair: bool) -> None:
        offer, lifetime = self._live.offer_with_lifetime(self.device_ids, self.datapoint_ids)
        self.stats.subscriptions += 1
        if self._closed.is_set():
            raise _Closed
        deadline = time.monotonic() + max(MIN_LIFETIME, lifetime - self.resubscribe_margin)
        with self._live.open_stream(offer, self.heartbeat_timeout) as response:
            with self._response_lock:
                self._response = response
            try:
                if response.status_code != 200:
                    response.read()
                    raise _StreamRefused(
                        f"the change-stream answered {response.status_code} "
                        f"({response.text[:120]!r})"
                    )
                self.stats.connections += 1
                if repair and self.backfill:
                    # The stream is open before history is read: what happens meanwhile
                    # waits in the socket and is dropped there if history had it already.
                    self._backfill()
                for kind, text in parse_sse(response.iter_lines()):
                    if self._closed.is_set():
                        raise _Closed
                    if kind == "comment":
                        self.stats.heartbeats += 1
                    else:
                        self._handle(text)
                    if time.monotonic() >= deadline:
                        self.stats.resubscriptions += 1
                        return
            finally:
                with self._response_lock:
                    self._response = None
        if self._closed.is_set():
            raise _Closed
        # The server ended the stream (expiry or a drop): subscribe again.

    def _handle(self, text: str) -> None:
        try:
            item = decode(text.encode(), _StreamItem, "change-stream event")
        except DataError as exc:
            self.stats.errors.append(str(exc)[:200])
            return
        if self.device_ids and item.device_id not in self.device_ids:
            return
        if item.device is None:
            self._deliver(DeviceEvent(item.device_id, None, {}, kind="removed"))
            return
        state = item.device.state
        values = dict(state.datapoints) if state is not None else {}
        if self.datapoint_ids:
            values = {k: v for k, v in values.items() if k in self.datapoint_ids}
        stamp = state.timestamp if state is not None else None
        event = DeviceEvent(item.device_id, stamp, values, kind="update", device=item.device)
        if self._is_new(event):
            self._deliver(event)
        else:
            self.stats.duplicates += 1

    def _is_new(self, event: DeviceEvent) -> bool:
        """Whether the event brings a sample not delivered yet; remembers it when so."""
        device = event.device_id
        last = self._last_ts.get(device)
        known = self._last_values.setdefault(device, {})
        if event.timestamp is None or last is None or event.timestamp > last:
            if event.timestamp is not None:
                self._last_ts[device] = event.timestamp
            known.clear()
            known.update({k: _norm(v) for k, v in event.datapoints.items()})
            return True
        if event.timestamp < last:
            return False
        # Same sample time: new only if a value changed (a metadata write, say).
        changed = {
            k: _norm(v) for k, v in event.datapoints.items() if k in known and known[k] != _norm(v)
        }
        for k, v in event.datapoints.items():
            known.setdefault(k, _norm(v))
        if not changed:
            return False
        known.update(changed)
        return True

    def _backfill(self) -> None:
        """Deliver from history what happened since each device's last delivered sample."""
        if not self._last_ts:
            return
        oldest = min(self._last_ts.values())
        devices = self.device_ids or sorted(self._last_ts)
        for device in devices:
            if self._closed.is_set():
                raise _Closed
            since = self._last_ts.get(device, oldest)
            ids = self.datapoint_ids or sorted(self._last_values.get(device, {}))
            try:
                frame = self._live.history_since(device, ids, since)
            except NotFound:
                continue
            for event in _events_from_frame(device, frame, since):
                if self._is_new(event):
                    self._deliver(event)
                else:
                    self.stats.duplicates += 1


class _StreamRefused(Exception):
    """The stream endpoint answered something other than 200 (an expired token, say)."""


def _events_from_frame(device: str, frame: pd.DataFrame, since: datetime) -> list[DeviceEvent]:
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


class Live:
    """``client.live``: subscriptions to the change-stream."""

    def __init__(
        self,
        session: Session,
        *,
        history_since: Callable[[str, list[str], datetime], pd.DataFrame] | None = None,
        resolve_ids: Callable[[list[str], list[str]], list[str]] | None = None,
    ) -> None:
        self._session = session
        self._history_since = history_since
        self._resolve_ids = resolve_ids

    def offer(self, devices: Any = None, datapoints: Any = None) -> Offer:
        """Ask for a stream of these devices and datapoints (empty or None: all)."""
        return self.offer_with_lifetime(_ids(devices, "device"), _ids(datapoints, "datapoint"))[0]

    def offer_with_lifetime(
        self, device_ids: list[str], datapoint_ids: list[str]
    ) -> tuple[Offer, float]:
        """The offer and how long [s] it stays valid, measured on the server's own clock."""
        body = {"includedDeviceIds": device_ids, "includedDatapointIds": datapoint_ids}
        response = self._session.request("POST", "/devices/change-stream", json=body)
        offer = decode(response.content, Offer, "change-stream offer")
        if not offer.token:
            raise DataError("the change-stream offer has no token")
        server_now = _server_time(response.headers.get("date"))
        lifetime = HEARTBEAT_TIMEOUT * 10
        if offer.valid_until is not None:
            lifetime = (offer.valid_until - server_now).total_seconds()
        return offer, max(MIN_LIFETIME, lifetime)

    def open_stream(self, offer: Offer, read_timeout: float) -> Any:
        """The stream's response as a context manager (the body is read as it arrives)."""
        url = self._session.url("/devices/change-stream/" + quote(offer.token, safe=""))
        timeout = httpx.Timeout(
            self._session.settings.timeout, read=read_timeout, pool=self._session.settings.timeout
        )
        # The offer's token is the stream's credential, so no bearer token is sent: a stream
        # outlives the access token that asked for it.
        http: httpx.Client = self._session._http
        return http.stream("GET", url, headers={"Accept": "text/event-stream"}, timeout=timeout)

    def history_since(self, device: str, datapoint_ids: list[str], since: datetime) -> pd.DataFrame:
        """Samples of ``device`` after ``since`` (long frame), for the repair after a reconnect."""
        if self._history_since is None:
            raise ConfigError("this Live has no history to backfill from")
        return self._history_since(device, datapoint_ids, since)

    def subscribe(
        self,
        devices: Any = None,
        datapoints: Any = None,
        *,
        on_event: Callable[[DeviceEvent], None] | None = None,
        callback: Callable[[DeviceEvent], None] | None = None,
        heartbeat_timeout: float = HEARTBEAT_TIMEOUT,
        resubscribe_margin: float = RESUBSCRIBE_MARGIN,
        backfill: bool = True,
    ) -> Subscription:
        """Start a subscription: iterate it for DeviceEvents, or pass ``on_event``.

        ``on_event`` (alias ``callback``) is called on the subscription's reader thread, one
        event at a time; ``subscription.wait()`` then blocks until it ends.

        ``devices``: ids or Device objects (None: every visible device). ``datapoints``: ids,
        or names resolved through the devices' profiles (None: all). The stream is
        re-subscribed ``resubscribe_margin`` seconds before its offer expires, reconnected when
        it drops or is silent for ``heartbeat_timeout`` seconds, and each reconnect is repaired
        from history (``backfill``) without repeating a sample. Close it when done (or use it
        as a context manager).
        """
        device_ids = _ids(devices, "device")
        datapoint_ids = _ids(datapoints, "datapoint")
        if (
            datapoint_ids
            and self._resolve_ids is not None
            and any("." not in d for d in datapoint_ids)
        ):
            datapoint_ids = self._resolve_ids(device_ids, datapoint_ids)
        if on_event is not None and callback is not None:
            raise DataError("give on_event or callback, not both")
        subscription = Subscription(
            self,
            device_ids,
            datapoint_ids,
            on_event=on_event or callback,
            heartbeat_timeout=heartbeat_timeout,
            resubscribe_margin=resubscribe_margin,
            backfill=backfill,
        )
        return subscription.start()

    def watch(
        self,
        devices: Any = None,
        datapoints: Any = None,
        *,
        count: int | None = None,
        duration: float | None = None,
        **options: Any,
    ) -> Iterator[DeviceEvent]:
        """Events until ``count`` events or ``duration`` seconds (either bound; both optional)."""
        deadline = None if duration is None else time.monotonic() + duration
        seen = 0
        with self.subscribe(devices, datapoints, **options) as subscription:
            while count is None or seen < count:
                wait = 1.0 if deadline is None else deadline - time.monotonic()
                if wait <= 0:
                    return
                event = subscription.get(timeout=min(wait, 1.0))
                if event is None:
                    if subscription.closed and subscription.error is None:
                        return
                    continue
                seen += 1
                yield event


def _ids(items: Any, what: str) -> list[str]:
    if items is None:
        return []
    if isinstance(items, str):
        parts: Iterable[Any] = [p for p in items.split(",") if p.strip()]
    elif hasattr(items, "id"):
        parts = [items]
    else:
        parts = list(items)
    return list(dict.fromkeys(id_of(item, what) for item in parts))


def _server_time(header: str | None) -> datetime:
    """The server's clock from a Date header, else ours (lifetimes are measured on it)."""
    if header:
        try:
            parsed = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return utcnow()


def backfill_from_history(
    history: Any,
) -> Callable[[str, list[str], datetime], pd.DataFrame]:
    """The repair source of ``client.live``: raw history for a few datapoints, else the CSV."""

    def since(device: str, datapoint_ids: list[str], start: datetime) -> pd.DataFrame:
        import pandas as pd

        from belimo_cloud.client.frames import empty_long_frame

        if datapoint_ids and len(datapoint_ids) <= _RAW_BACKFILL_MAX:
            parts = [history.raw(device, dp, start) for dp in datapoint_ids]
            parts = [p for p in parts if not p.empty]
            return pd.concat(parts, ignore_index=True) if parts else empty_long_frame()
        frame: pd.DataFrame = history.download(device, datapoint_ids or None, start, long=True)
        return frame

    return since
