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

import email.utils
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from belimo_cloud.client.decode import decode
from belimo_cloud.client.devices import id_of
from belimo_cloud.client.live_events import DeviceEvent, LiveStats, Offer, parse_sse
from belimo_cloud.client.live_subscription import (
    GIVE_UP_AFTER,
    HEARTBEAT_TIMEOUT,
    RESUBSCRIBE_MARGIN,
    Subscription,
)
from belimo_cloud.client.timeutil import utcnow
from belimo_cloud.errors import ConfigError, DataError

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

# The offer's token is the stream's credential and travels in the URL path: httpx logs that
# path (-vv), so the token is masked there as bearer tokens are elsewhere.
_TOKEN_IN_PATH = re.compile(r"(change-stream/)[^\s/?#\"']+")


class _StreamTokenFilter(logging.Filter):
    """Masks change-stream tokens in the URLs that HTTP libraries log."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "change-stream/" in text:
            record.msg = _TOKEN_IN_PATH.sub(r"\1****", text)
            record.args = None
        return True


for _name in ("httpx", "httpcore", "belimo_cloud.client"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, _StreamTokenFilter) for f in _logger.filters):
        _logger.addFilter(_StreamTokenFilter())

MIN_LIFETIME = 1.0  # [s] a subscription is used at least this long, whatever the clocks say
# Datapoints a repair reads one by one from raw history at most; more use the CSV export
# (one request per device).
_RAW_BACKFILL_MAX = 4


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
        give_up_after: float = GIVE_UP_AFTER,
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
            give_up_after=give_up_after,
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
