"""The one state object of a running demo cloud: fleet, clock, writes, jobs and streams.

HTTP handlers hold an instance and call these methods; tests can drive it without a server.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from belimo_cloud.emulator.model.clock import FleetClock
from belimo_cloud.emulator.model.fleet import Fleet
from belimo_cloud.emulator.model.jobs import Job, JobBook
from belimo_cloud.emulator.model.layout import epoch
from belimo_cloud.emulator.model.subscriptions import StreamControl
from belimo_cloud.emulator.model.types import DeviceSpec, Tenant
from belimo_cloud.emulator.model.validation import WriteRejected, check_values
from belimo_cloud.emulator.options import EmulatorOptions

METADATA_PREFIX = "metadata."


class CloudBackend:
    """Everything the demo cloud knows and does, apart from HTTP, tokens and injected faults."""

    def __init__(self, options: EmulatorOptions, fleet: Fleet) -> None:
        self.options = options
        self.fleet = fleet
        self.clock = FleetClock(options.now, options.speed)
        self.jobs = JobBook()
        self.streams = StreamControl()

    def now(self) -> datetime:
        """The fleet clock (follows changes of ``options.now`` and ``options.speed``)."""
        self._configure()
        return self.clock.now()

    def _configure(self) -> None:
        self.clock.configure(self.options.now, self.options.speed)
        # A running clock places the faults relative to now at its start: see Sampler.
        self.fleet.anchor_faults(None if self.clock.speed == 0 else self.clock.origin)

    def advance(self) -> None:
        """Let every open job progress as far as real time allows."""
        if not self.jobs.open_jobs():
            return
        self._configure()
        self.jobs.advance(
            time.time(),
            max(0.0, self.options.job_delay),
            self.clock.at_wall,
            self.fleet.in_contact,
            self._apply,
        )

    def _apply(self, job: Job, at: datetime) -> None:
        self.fleet.changes.apply(job.device_id, epoch(at), job.values, "CONFIGURATION_CHANGE")

    def write(
        self,
        device: DeviceSpec,
        tenant: Tenant,
        values: dict[str, Any],
        *,
        mergeable: bool = False,
        cancelable: bool = False,
        auto_cancel_after: datetime | None = None,
    ) -> Job:
        """A job that will write ``values`` (raw, by datapoint id) to ``device``.

        WriteRejected when the device takes no remote control or a value does not fit.
        """
        if not self.fleet.remote_control(device):
            raise WriteRejected(
                "remote_control_disabled",
                "",
                f"remote control is disabled on device {device.id}; enable it on the device",
            )
        checked = check_values(self.fleet.datapoint_definitions(device), values)
        return self.jobs.create(
            device.id,
            checked,
            mergeable=mergeable,
            cancelable=cancelable,
            auto_cancel_after=auto_cancel_after,
            created_at=self.now(),
            created_wall=time.time(),
            created_by=tenant,
        )

    def set_metadata(self, device: DeviceSpec, values: dict[str, Any]) -> None:
        """Store metadata values at once (the cloud keeps them, no job); WriteRejected if bad."""
        definitions = self.fleet.datapoint_definitions(device)
        for dp in values:
            if not dp.startswith(METADATA_PREFIX):
                raise WriteRejected(
                    "unknown_datapoint",
                    dp,
                    f"{dp[:80]!r} is not a metadata datapoint; write others with POST .../data",
                )
        checked = check_values(definitions, values)
        self.fleet.changes.apply(device.id, epoch(self.now()), checked, "METADATA_CHANGE")

    def reset(self) -> None:
        """Forget jobs, written values and offers; end open streams."""
        self.jobs.reset()
        self.fleet.changes.reset()
        self.streams.reset()
