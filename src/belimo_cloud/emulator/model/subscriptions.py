"""Change-stream offers and the control of open streams (drop, stall) for reconnect tests.

An offer is the credential of its stream: whoever holds the token may open it until
``valid_until`` (real time, as clients compare it with their own clock); the stream closes
then too. Dropping bumps a generation every open stream watches; stalling silences them.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Offer:
    """A subscription offer: who asked, for which devices and datapoints (empty = all)."""

    token: str
    user_id: str
    device_ids: tuple[str, ...]
    datapoint_ids: tuple[str, ...]
    valid_until: float  # real epoch seconds


@dataclass
class StreamControl:
    """Offers and open streams of one instance, and what the control plane asked of them."""

    _offers: dict[str, Offer] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    drops: int = 0  # generation: a stream opened before the latest drop ends
    abort: bool = True  # drop by cutting the connection (else a clean end of the response)
    stalled_until: float = 0.0  # real epoch seconds: until then streams send nothing
    open_streams: int = 0
    opened: int = 0

    def offer(
        self, user_id: str, device_ids: list[str], datapoint_ids: list[str], ttl: float
    ) -> Offer:
        """A new offer valid for ``ttl`` seconds of real time."""
        now = time.time()
        token = str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))
        offer = Offer(token, user_id, tuple(device_ids), tuple(datapoint_ids), now + ttl)
        with self._lock:
            self._offers = {k: v for k, v in self._offers.items() if v.valid_until > now}
            self._offers[token] = offer
        return offer

    def find(self, token: str) -> Offer | None:
        """The offer of ``token`` (expired ones too, until they are swept), or None."""
        with self._lock:
            return self._offers.get(token)

    def drop(self, *, abort: bool) -> int:
        """End every open stream; returns how many were open."""
        with self._lock:
            self.drops += 1
            self.abort = abort
            return self.open_streams

    def stall(self, seconds: float) -> None:
        """Open streams send nothing, not even heartbeats, for ``seconds`` (0 resumes)."""
        self.stalled_until = time.time() + seconds if seconds > 0 else 0.0

    def enter(self) -> int:
        """A stream opens: count it and return the drop generation it belongs to."""
        with self._lock:
            self.open_streams += 1
            self.opened += 1
            return self.drops

    def leave(self) -> None:
        with self._lock:
            self.open_streams -= 1

    def reset(self) -> None:
        with self._lock:
            self._offers.clear()
            self.drops += 1
            self.stalled_until = 0.0
