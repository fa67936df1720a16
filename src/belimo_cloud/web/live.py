"""Live values for the device pages: the latest change-stream event of every device.

One subscription (``client.live.subscribe``) runs for the whole server on a thread of its
own; pages poll :meth:`LiveFeed.latest`. Without an account, or when the cloud cannot be
reached, the feed says why and the pages show the store's data only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from belimo_cloud.errors import BelimoError

if TYPE_CHECKING:
    from belimo_cloud.client import Client
    from belimo_cloud.client.live import DeviceEvent, Subscription

__all__ = ["LiveFeed", "LiveState"]


class LiveState:
    """The latest values of one device: raw values by datapoint id, and when they were taken."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.timestamp: datetime | None = None
        self.events = 0


class LiveFeed:
    """The change-stream of every visible device, kept as the latest values per device.

    ``connect`` makes the client (it is called on the feed's thread, so a slow or refused
    login never delays the server's start). ``datapoints`` limits the stream (ids or names).
    """

    def __init__(
        self,
        connect: Callable[[], Client],
        *,
        datapoints: list[str] | None = None,
    ) -> None:
        self._connect = connect
        self._datapoints = datapoints
        self._lock = threading.Lock()
        self._states: dict[str, LiveState] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: Client | None = None
        self._subscription: Subscription | None = None
        self.status = "connecting"

    def start(self) -> LiveFeed:
        """Start the feed's thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="belimo-live", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self._client = self._connect()
            self._subscription = self._client.live.subscribe(
                datapoints=self._datapoints, on_event=self._on_event
            )
            self.status = "live"
            while not self._stop.wait(1.0):
                sub = self._subscription
                if sub.closed:
                    error = sub.error
                    self.status = f"stopped: {error}" if error is not None else "stopped"
                    return
        except BelimoError as exc:
            self.status = f"unavailable: {exc}"
        finally:
            if self._stop.is_set():
                self.status = "stopped"

    def _on_event(self, event: DeviceEvent) -> None:
        if event.removed:
            return
        with self._lock:
            state = self._states.setdefault(event.device_id, LiveState())
            state.values.update(event.datapoints)
            if event.timestamp is not None and (
                state.timestamp is None or event.timestamp >= state.timestamp
            ):
                state.timestamp = event.timestamp
            state.events += 1

    def latest(self, device_id: str) -> tuple[dict[str, Any], datetime | None, int]:
        """The device's latest raw values by datapoint id, their time and the event count."""
        with self._lock:
            state = self._states.get(device_id)
            if state is None:
                return {}, None, 0
            return dict(state.values), state.timestamp, state.events

    def close(self) -> None:
        """Stop the subscription and close the client."""
        self._stop.set()
        if self._subscription is not None:
            self._subscription.close()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        if self._client is not None:
            self._client.close()
