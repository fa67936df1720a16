"""The fleet clock: frozen, following the wall clock, or running faster than real time."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

#: The weather (and so the data) ends in 2100: a fast clock stops at the end of 2099.
LAST = datetime(2099, 12, 31, tzinfo=UTC)


def _utc(moment: datetime) -> datetime:
    # A naive time means UTC here, as everywhere in the API (not the host's zone).
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class FleetClock:
    """Fleet time = ``start + speed * (real time since configured)``, in whole seconds.

    ``start`` None means the wall clock's now when configured; ``speed`` None means 0 (frozen)
    when a start is given and 1 otherwise, so that the defaults keep their old meaning.
    """

    def __init__(self, start: datetime | None = None, speed: float | None = None) -> None:
        self._lock = threading.Lock()
        self._key: tuple[datetime | None, float | None] | None = None
        self._origin = datetime.now(UTC)
        self._wall0 = time.time()
        self._speed = 1.0
        self.configure(start, speed)

    def configure(self, start: datetime | None, speed: float | None) -> None:
        """Restart the clock at ``start`` (or the wall clock) running at ``speed``."""
        with self._lock:
            if self._key == (start, speed):
                return
            self._key = (start, speed)
            self._wall0 = time.time()
            self._origin = _utc(start) if start is not None else datetime.now(UTC)
            self._speed = (0.0 if start is not None else 1.0) if speed is None else speed

    def restart(self) -> None:
        """Start again from the configured start (or the wall clock's now) at this moment."""
        with self._lock:
            key = self._key
            self._key = None
        if key is not None:
            self.configure(*key)

    @property
    def origin(self) -> datetime:
        """The fleet time the clock started from."""
        return self._origin

    @property
    def speed(self) -> float:
        """Fleet seconds per real second (0: frozen)."""
        return self._speed

    @property
    def wall_origin(self) -> float:
        """The real (epoch) time at which the clock was last configured."""
        return self._wall0

    def at_wall(self, wall: float) -> datetime:
        """Fleet time at the real (epoch) time ``wall``, whole seconds."""
        with self._lock:
            elapsed = max(0.0, wall - self._wall0) * self._speed
            room = max(0.0, (LAST - self._origin).total_seconds())
            moment = self._origin + timedelta(seconds=min(elapsed, room))
        return moment.replace(microsecond=0)

    def now(self) -> datetime:
        """Fleet time now, whole seconds."""
        return self.at_wall(time.time())
