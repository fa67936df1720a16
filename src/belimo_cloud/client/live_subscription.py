"""A running change-stream subscription: the reader thread, reconnects, repair, delivery.

The thread subscribes, opens the stream and reads it; it subscribes again shortly before the
offer expires, and reconnects when the stream drops or stays silent past the heartbeat
timeout. After a reconnect it opens the new stream first and then reads history since each
device's last delivered sample, so nothing falls between the two; every sample is delivered
once (by device and sample time), whichever way it came.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from belimo_cloud.client.decode import decode
from belimo_cloud.client.live_events import (
    DeviceEvent,
    LiveStats,
    Offer,
    StreamItem,
    events_from_frame,
    norm_value,
    parse_sse,
)
from belimo_cloud.errors import APIError, BelimoError, DataError, NotFound, TransportError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["HEARTBEAT_TIMEOUT", "RESUBSCRIBE_MARGIN", "StreamSource", "Subscription"]

logger = logging.getLogger("belimo_cloud.client")

HEARTBEAT_TIMEOUT = 120.0  # [s] silence after which the stream counts as dead (MST's value)
RESUBSCRIBE_MARGIN = 30.0  # [s] subscribe again this long before validUntil
RECONNECT_FIRST = 0.2  # [s] first wait after a failed connection; doubles up to the cap
RECONNECT_MAX = 30.0  # [s]
# A stream that never opened gives up: a server that never answers must not hold a watch
# forever. Once a stream has worked, drops are an outage to ride out, and it keeps trying.
GIVE_UP_AFTER = 60.0  # [s] without a first connection
QUEUE_SIZE = 10_000  # events waiting for a slow consumer before the reader waits too
MIN_STREAM_TIME = 1.0  # [s] a stream is read at least this long, whatever the clocks say


class StreamSource(Protocol):
    """What a subscription needs from ``client.live``: offers, streams and history."""

    def offer_with_lifetime(
        self, device_ids: list[str], datapoint_ids: list[str]
    ) -> tuple[Offer, float]: ...

    def open_stream(self, offer: Offer, read_timeout: float) -> Any: ...

    def history_since(
        self, device: str, datapoint_ids: list[str], since: datetime
    ) -> pd.DataFrame: ...


class _Closed(Exception):
    """The subscription was closed while connecting or reading."""


class _StreamRefused(Exception):
    """The stream endpoint answered something other than 200 (an expired token, say)."""


class Subscription:
    """A running change-stream subscription; iterate it, or give ``on_event`` a callback.

    ``get(timeout)`` waits at most ``timeout`` seconds for the next event; iteration ends when
    the subscription is closed. ``close()`` stops the reader thread (from any thread).
    A fatal error (refused credentials, an unknown device) ends the subscription and is raised
    by ``get`` and the iterator; so does a stream that could not be opened at all within
    ``give_up_after`` seconds (a ``TransportError``).
    """

    def __init__(
        self,
        live: StreamSource,
        device_ids: list[str],
        datapoint_ids: list[str],
        *,
        on_event: Callable[[DeviceEvent], None] | None = None,
        heartbeat_timeout: float = HEARTBEAT_TIMEOUT,
        resubscribe_margin: float = RESUBSCRIBE_MARGIN,
        backfill: bool = True,
        give_up_after: float = GIVE_UP_AFTER,
    ) -> None:
        self._live = live
        self.give_up_after = give_up_after
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
        started = time.monotonic()
        try:
            while not self._closed.is_set():
                opened = self.stats.connections
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
                    if self.stats.connections > opened:
                        # A stream that worked and then broke: reconnect at once, so the hole
                        # stays small; only failures to connect back off.
                        delay = RECONNECT_FIRST
                        logger.debug("change-stream dropped (%s); reconnecting", exc)
                    else:
                        waited = time.monotonic() - started
                        if not connected_before and waited + delay > self.give_up_after:
                            # The stream URL carries its token: name the session's own
                            # (redacted) errors, else only the kind of failure.
                            last = exc if isinstance(exc, TransportError) else type(exc).__name__
                            raise TransportError(
                                f"the change-stream could not be opened within {waited:.0f} s "
                                f"(last: {last}); check the API URL and the network"
                            ) from None
                        logger.debug("change-stream failed (%s); retry in %.1f s", exc, delay)
                        if self._closed.wait(delay):
                            break
                        delay = min(RECONNECT_MAX, delay * 2)
                connected_before = connected_before or self.stats.connections > 0
                if connected_before and not self._closed.is_set():
                    self.stats.reconnects += 1
        except BelimoError as exc:  # refused credentials, an unknown device: nothing to retry
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
        deadline = time.monotonic() + max(MIN_STREAM_TIME, lifetime - self.resubscribe_margin)
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
            item = decode(text.encode(), StreamItem, "change-stream event")
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
            known.update({k: norm_value(v) for k, v in event.datapoints.items()})
            return True
        if event.timestamp < last:
            return False
        # Same sample time: new only if a value changed (a metadata write, say).
        changed = {
            k: norm_value(v)
            for k, v in event.datapoints.items()
            if k in known and known[k] != norm_value(v)
        }
        for k, v in event.datapoints.items():
            known.setdefault(k, norm_value(v))
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
                continue  # the device left the account meanwhile: nothing to repair
            except APIError as exc:
                # History refused the repair: say so, and keep the stream going rather than
                # end a long watch over it (a network failure instead reconnects and retries).
                message = f"history refused the repair of {device}: {' '.join(str(exc).split())}"
                self.stats.errors.append(message[:200])
                logger.warning("%s", message)
                continue
            for event in events_from_frame(device, frame, since):
                if self._is_new(event):
                    self._deliver(event)
                else:
                    self.stats.duplicates += 1
