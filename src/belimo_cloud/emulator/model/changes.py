"""Values written to devices: what changed when, per device, and a revision for watchers.

A change is *applied* at a fleet time (the job succeeded, or the metadata was posted): from
then on the device's state shows it. It is *effective* from the first 5-minute sample after
that: samples already sent never change, so a history read twice agrees with itself.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from belimo_cloud.emulator.model.types import SAMPLE_PERIOD_S


@dataclass(frozen=True)
class Change:
    """Values a device took over: ``applied`` and ``effective`` are epoch seconds."""

    applied: int
    effective: int
    values: dict[str, Any]
    kind: str  # "METADATA_CHANGE" (cloud side) or "CONFIGURATION_CHANGE" (a job)


def next_sample(t: int) -> int:
    """The first sample time on the 5-minute grid strictly after ``t``."""
    return t - t % SAMPLE_PERIOD_S + SAMPLE_PERIOD_S


@dataclass
class ChangeLog:
    """Every change of every device, oldest first; ``revision`` grows with each change."""

    _by_device: dict[str, list[Change]] = field(default_factory=dict)
    _revisions: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    revision: int = 0

    def apply(self, device_id: str, applied: int, values: dict[str, Any], kind: str) -> Change:
        """Record ``values`` as applied at ``applied`` (fleet epoch seconds)."""
        change = Change(applied, next_sample(applied), dict(values), kind)
        with self._lock:
            changes = self._by_device.setdefault(device_id, [])
            changes.append(change)
            changes.sort(key=lambda c: c.applied)
            self.revision += 1
            self._revisions[device_id] = self.revision
        return change

    def of(self, device_id: str) -> list[Change]:
        """The device's changes, oldest first (a copy)."""
        with self._lock:
            return list(self._by_device.get(device_id, ()))

    def device_revision(self, device_id: str) -> int:
        """The log's revision at this device's latest change (0: never changed)."""
        with self._lock:
            return self._revisions.get(device_id, 0)

    def changed_since(self, revision: int) -> list[str]:
        """Ids of the devices changed after ``revision``."""
        with self._lock:
            return [d for d, r in self._revisions.items() if r > revision]

    def applied_values(self, device_id: str, at: int) -> dict[str, Any]:
        """The latest value of each datapoint among the changes applied at or before ``at``."""
        values: dict[str, Any] = {}
        for change in self.of(device_id):
            if change.applied <= at:
                values.update(change.values)
        return values

    def reset(self) -> None:
        with self._lock:
            self._by_device.clear()
            self._revisions.clear()
            self.revision += 1
