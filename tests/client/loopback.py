"""Helpers for tests against a loopback server: run it in a thread, gather a stream's events."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import BaseServer

from belimo_cloud.client.live import DeviceEvent, Subscription


@contextmanager
def serving(server: BaseServer) -> Iterator[None]:
    """Serve ``server`` from a daemon thread; shut it down and close it on the way out."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def collect(sub: Subscription, seconds: float) -> list[DeviceEvent]:
    """Every event ``sub`` delivers within ``seconds``."""
    events = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        event = sub.get(timeout=0.05)
        if event is not None:
            events.append(event)
    return events
