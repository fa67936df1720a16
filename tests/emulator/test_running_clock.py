"""With a running clock, samples already served never change: not even those of the faults
placed relative to now (the offline device, the warning), which stay where the clock began."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from belimo_cloud.emulator.model import faults
from belimo_cloud.emulator.model.fleet import Fleet

START = datetime(2026, 11, 20, 12, tzinfo=UTC)
START_S = int(START.timestamp())
LATER_S = START_S + 5 * 86_400


def test_history_read_twice_agrees_for_every_device() -> None:
    fleet = Fleet(0)
    fleet.anchor_faults(START)
    span = (START_S - 6 * 86_400, START_S + 1)
    for device in fleet.devices_of(fleet.tenants[0]):
        ids = ["default.1", "default.2"] + (["evcloud.210"] if device.kind != "gateway" else [])
        first = fleet.history(device, ids, *span, START_S)
        again = fleet.history(device, ids, *span, LATER_S)
        np.testing.assert_array_equal(first.times, again.times)
        for dp in ids:
            a, b = first.values[dp], again.values[dp]
            if a.dtype.kind == "f":
                np.testing.assert_array_equal(a, b)
            else:
                assert list(a) == list(b), (device.display_name, dp)


def test_the_faults_stay_at_the_clock_start() -> None:
    fleet = Fleet(0)
    fleet.anchor_faults(START)
    later = datetime.fromtimestamp(LATER_S, tz=UTC)
    offline = fleet.device(
        next(f for f in fleet.designed_faults(later) if f["kind"] == "offline")["device_id"]
    )
    assert offline is not None
    assert fleet.last_seen(offline, later) == START - timedelta(days=3)
    dated = next(f for f in fleet.designed_faults(later) if f["kind"] == "offline")
    assert dated["start"] == "2026-11-17T12:05:00Z"
    fleet.anchor_faults(None)  # frozen again: placed against the reading itself
    assert fleet.last_seen(offline, later) == later - faults.OFFLINE_FOR
