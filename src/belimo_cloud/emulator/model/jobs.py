"""Parametrization jobs: PENDING until the device's next contact, then EXECUTING, then done.

A job's clock is real time (``job_delay`` seconds to the next contact, half that again to
execute), so that a frozen fleet clock still lets jobs finish. A device that never contacts
the cloud (offline, never connected) leaves its jobs PENDING until they are canceled.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from belimo_cloud.emulator.model.types import Tenant

PENDING, CANCELED, EXECUTING, SUCCESS, FAILURE = (
    "PENDING",
    "CANCELED",
    "EXECUTING",
    "SUCCESS",
    "FAILURE",
)
FINAL = frozenset({CANCELED, SUCCESS, FAILURE})
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


class JobConflict(ValueError):
    """A job that cannot take the requested transition (e.g. canceling a non-cancelable job)."""


@dataclass
class Job:
    """One parametrization request and its life."""

    id: str
    device_id: str
    values: dict[str, Any]
    mergeable: bool
    cancelable: bool
    auto_cancel_after: datetime | None
    created_at: datetime  # fleet time
    created_wall: float  # real time, drives the job's progress
    created_by: Tenant
    state: str = PENDING
    confirmed_at: datetime | None = None
    confirmed_by: str | None = None
    error: dict[str, Any] | None = None


@dataclass
class JobBook:
    """All jobs of one emulator instance."""

    _jobs: dict[str, Job] = field(default_factory=dict)
    _open: dict[str, Job] = field(default_factory=dict)  # not final yet: what advance() visits
    _lock: threading.RLock = field(default_factory=threading.RLock)
    fail_next: int = 0  # the control plane makes the next N jobs end in FAILURE

    def create(
        self,
        device_id: str,
        values: dict[str, Any],
        *,
        mergeable: bool,
        cancelable: bool,
        auto_cancel_after: datetime | None,
        created_at: datetime,
        created_wall: float,
        created_by: Tenant,
    ) -> Job:
        """A new PENDING job, or a PENDING mergeable one of the same device with these values."""
        with self._lock:
            if mergeable:
                for job in self._jobs.values():
                    if job.device_id == device_id and job.mergeable and job.state == PENDING:
                        job.values.update(values)
                        return job
            job_id = "".join(secrets.choice(_ALPHABET) for _ in range(16))
            job = Job(
                job_id,
                device_id,
                dict(values),
                mergeable,
                cancelable,
                auto_cancel_after,
                created_at,
                created_wall,
                created_by,
            )
            self._jobs[job_id] = job
            self._open[job_id] = job
            return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def cancel(self, job_id: str, at: datetime) -> Job:
        """Cancel a PENDING cancelable job (by its user); JobConflict otherwise."""
        with self._lock:
            job = self._jobs[job_id]
            if not job.cancelable:
                raise JobConflict(f"job {job_id} is not cancelable")
            if job.state != PENDING:
                raise JobConflict(f"job {job_id} is {job.state}; only PENDING jobs can be canceled")
            job.state, job.confirmed_at, job.confirmed_by = CANCELED, at, "USER"
            self._open.pop(job_id, None)
            return job

    def all(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def open_jobs(self) -> bool:
        with self._lock:
            return bool(self._open)

    def advance(
        self,
        wall: float,
        delay: float,
        fleet_at: Callable[[float], datetime],
        contacts: Callable[[str, datetime], bool],
        apply: Callable[[Job, datetime], None],
    ) -> None:
        """Move every open job as far as real time ``wall`` allows.

        ``contacts(device, t)`` tells whether the device is in contact at fleet time ``t``;
        ``apply(job, t)`` makes a successful job's values the device's from fleet time ``t``.
        """
        with self._lock:
            for job in list(self._open.values()):
                self._step(
                    job, wall=wall, delay=delay, fleet_at=fleet_at, contacts=contacts, apply=apply
                )
                if job.state in FINAL:
                    del self._open[job.id]

    def _step(
        self,
        job: Job,
        *,
        wall: float,
        delay: float,
        fleet_at: Callable[[float], datetime],
        contacts: Callable[[str, datetime], bool],
        apply: Callable[[Job, datetime], None],
    ) -> None:
        """One job as far as real time ``wall`` allows (under the book's lock)."""
        if job.state in FINAL:
            return
        start = job.created_wall + delay
        done = job.created_wall + delay * 1.5
        in_contact = wall >= start and contacts(job.device_id, fleet_at(start))
        limit = job.auto_cancel_after
        expired = limit is not None and fleet_at(wall) >= limit
        if job.state == PENDING and expired and not in_contact:
            job.state, job.confirmed_at, job.confirmed_by = CANCELED, limit, "SYSTEM"
            return
        if not in_contact:
            return
        job.state = EXECUTING
        if wall < done:
            return
        at = fleet_at(done)
        job.confirmed_at, job.confirmed_by = at, "DEVICE"
        if self.fail_next > 0:
            self.fail_next -= 1
            job.state = FAILURE
            job.error = {"code": 500, "message": "the device refused the parametrization"}
            return
        apply(job, at)
        job.state = SUCCESS

    def reset(self) -> None:
        with self._lock:
            self._jobs.clear()
            self._open.clear()
            self.fail_next = 0
